using System.Collections;

namespace Shrink.Notebooks.Formatting;

/// <summary>
/// What one displayed value becomes in a notebook: content per MIME type (<c>text/html</c>, <c>text/plain</c>,
/// <c>image/png</c> as base64, …), in order of preference. Every bundle the runner produces has <c>text/plain</c>.
/// </summary>
public sealed class MimeBundle : IEnumerable<KeyValuePair<string, string>>
{
    readonly List<KeyValuePair<string, string>> _entries = [];

    /// <summary>Adds (or replaces) the content for a MIME type; a new type goes last.</summary>
    public void Add(string mimeType, string content)
    {
        int i = IndexOf(mimeType);
        if (i >= 0)
            _entries[i] = new(mimeType, content);
        else
            _entries.Add(new(mimeType, content));
    }

    /// <summary>The content for <paramref name="mimeType"/>, or null.</summary>
    public string? this[string mimeType] => IndexOf(mimeType) is int i and >= 0 ? _entries[i].Value : null;

    /// <summary>Whether the bundle has content for <paramref name="mimeType"/>.</summary>
    public bool Contains(string mimeType) => IndexOf(mimeType) >= 0;

    /// <summary>The MIME types in order.</summary>
    public IReadOnlyList<string> MimeTypes => _entries.Select(e => e.Key).ToList();

    /// <summary>The number of MIME types.</summary>
    public int Count => _entries.Count;

    int IndexOf(string mimeType) => _entries.FindIndex(e => e.Key == mimeType);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
