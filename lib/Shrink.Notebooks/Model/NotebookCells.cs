using System.Collections;
using Microsoft.DotNet.Interactive.Documents;

namespace Shrink.Notebooks.Model;

/// <summary>
/// What the runner reads from and writes to <see cref="InteractiveDocumentElement"/>s beyond Documents' own API:
/// Jupyter cell tags (<c>metadata.tags</c>, which papermill's <c>parameters</c>/<c>injected-parameters</c> and our
/// <c>claims</c> convention use), the kernel a cell runs in with the notebook's default applied, and new cells.
/// Documents keeps cell metadata as a dictionary of plain values (strings, doubles, bools, <c>object[]</c> arrays,
/// nested dictionaries) and has no notion of tags; these helpers read and write that dictionary.
/// </summary>
public static class NotebookCells
{
    /// <summary>Whether the cell is a markdown cell.</summary>
    public static bool IsMarkdown(this InteractiveDocumentElement cell) => cell.KernelName == KernelNames.Markdown;

    /// <summary>Whether the cell is a code cell (any kernel).</summary>
    public static bool IsCode(this InteractiveDocumentElement cell) => !cell.IsMarkdown();

    /// <summary>The cell's tags (<c>metadata.tags</c>).</summary>
    public static IReadOnlyList<string> Tags(this InteractiveDocumentElement cell) =>
        cell.Metadata is { } md && md.TryGetValue("tags", out var tags) && tags is IEnumerable items and not string
            ? items.OfType<string>().ToList()
            : [];

    /// <summary>Whether <c>metadata.tags</c> contains <paramref name="tag"/>.</summary>
    public static bool HasTag(this InteractiveDocumentElement cell, string tag) => cell.Tags().Contains(tag);

    /// <summary>A new code cell for <paramref name="kernelName"/> with the given tags and an 8-character id.</summary>
    public static InteractiveDocumentElement NewCode(string source, string kernelName = KernelNames.CSharp, params string[] tags)
    {
        var cell = new InteractiveDocumentElement(source, kernelName, []) { Id = NewId(), Metadata = new Dictionary<string, object>() };
        if (tags.Length > 0)
            cell.Metadata["tags"] = tags.Cast<object>().ToArray();
        return cell;
    }

    /// <summary>A new markdown cell with an 8-character id.</summary>
    public static InteractiveDocumentElement NewMarkdown(string source) =>
        new(source, KernelNames.Markdown, []) { Id = NewId(), Metadata = new Dictionary<string, object>() };

    /// <summary>A new cell id (nbformat 4.5 wants one on every cell; Documents writes nbformat 4.5).</summary>
    public static string NewId() => Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// The kernel a cell runs in, resolved as Polyglot does: the cell's own kernel (Documents reads it from
    /// <c>metadata.polyglot_notebook.kernelName</c>, <c>metadata.dotnet_interactive.language</c> or the <c>.dib</c>
    /// separator), else the notebook's default (<see cref="DefaultKernelName"/>); canonical names (<c>C#</c> is
    /// <c>csharp</c>).
    /// </summary>
    public static string KernelNameIn(this InteractiveDocumentElement cell, InteractiveDocument notebook) =>
        cell.IsMarkdown() ? KernelNames.Markdown
        : !string.IsNullOrWhiteSpace(cell.KernelName) ? KernelNames.Canonical(cell.KernelName)
        : notebook.DefaultKernelName();

    /// <summary>
    /// The notebook's default kernel: <c>metadata.polyglot_notebook.kernelInfo.defaultKernelName</c>, else
    /// <c>metadata.kernelspec.name</c> (<c>.net-csharp</c> is <c>csharp</c>), else <c>csharp</c>.
    /// </summary>
    public static string DefaultKernelName(this InteractiveDocument notebook)
    {
        var md = notebook.Metadata;
        if (Member(Member(md, "polyglot_notebook"), "kernelInfo") is IDictionary<string, object> info &&
            info.TryGetValue("defaultKernelName", out var d) && d is string name && name.Length > 0)
            return KernelNames.Canonical(name);
        if (Member(md, "kernelspec") is IDictionary<string, object> spec && spec.TryGetValue("name", out var s) && s is string specName && specName.Length > 0)
            return KernelNames.Canonical(specName);
        return KernelNames.CSharp;
    }

    /// <summary>The code cells of a notebook with their 0-based index among all cells.</summary>
    public static IEnumerable<(int Index, InteractiveDocumentElement Cell)> CodeCells(this InteractiveDocument notebook) =>
        notebook.Elements.Select((cell, index) => (index, cell)).Where(p => p.cell.IsCode());

    static object? Member(object? dictionary, string key) =>
        dictionary is IDictionary<string, object> d && d.TryGetValue(key, out var value) ? value : null;
}
