using System.Collections;
using Microsoft.DotNet.Interactive.Documents;

namespace Shrink.Notebooks.Model;

/// <summary>
/// Reading Documents' output elements as text. A display's data holds one value per MIME type: a string when the runner
/// made it, an array of lines (<c>object[]</c> of strings) when Documents read it from a file; both read here as one
/// string.
/// </summary>
public static class OutputData
{
    /// <summary>The MIME bundle of a <see cref="DisplayElement"/> or <see cref="ReturnValueElement"/>; empty for other outputs.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Bundle(this InteractiveDocumentOutputElement output)
    {
        var data = output switch
        {
            DisplayElement d => d.Data,
            ReturnValueElement r => r.Data,
            _ => null,
        };
        return data is null ? [] : data.Select(p => new KeyValuePair<string, string>(p.Key, Text(p.Value))).ToList();
    }

    /// <summary>The content for one MIME type, or null.</summary>
    public static string? Get(this InteractiveDocumentOutputElement output, string mimeType) =>
        output.Bundle().FirstOrDefault(p => p.Key == mimeType) is { Key: not null } found ? found.Value : null;

    /// <summary>A data value as one string: a string as is, an array of lines joined.</summary>
    public static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        IEnumerable lines => string.Concat(lines.Cast<object?>().Select(l => l?.ToString())),
        _ => value.ToString() ?? "",
    };
}
