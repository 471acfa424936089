using System.Text.Json.Nodes;

namespace Shrink.Notebooks.Model;

/// <summary>
/// Kernel (language) names as Polyglot Notebooks use them: <c>csharp</c> (aliases <c>C#</c>, <c>c#</c>),
/// <c>fsharp</c>, <c>pwsh</c>, <c>javascript</c>, <c>html</c>, <c>mermaid</c>, <c>markdown</c> (<c>md</c>),
/// <c>value</c>, …, plus any names and aliases a notebook declares in <c>polyglot_notebook.kernelInfo.items</c>.
/// </summary>
public static class KernelNames
{
    /// <summary>The C# kernel: the only one this runner executes.</summary>
    public const string CSharp = "csharp";

    /// <summary>The markdown pseudo-kernel (<c>#!markdown</c>).</summary>
    public const string Markdown = "markdown";

    static readonly Dictionary<string, string> BuiltIn = new(StringComparer.OrdinalIgnoreCase)
    {
        ["csharp"] = "csharp", ["c#"] = "csharp",
        ["fsharp"] = "fsharp", ["f#"] = "fsharp",
        ["pwsh"] = "pwsh", ["powershell"] = "pwsh",
        ["javascript"] = "javascript", ["js"] = "javascript",
        ["html"] = "html", ["mermaid"] = "mermaid",
        ["markdown"] = "markdown", ["md"] = "markdown",
        ["value"] = "value", ["sql"] = "sql", ["kql"] = "kql", ["http"] = "http",
    };

    /// <summary>The canonical name for <paramref name="nameOrAlias"/>, using the notebook's declared kernels first.</summary>
    public static string Canonical(string nameOrAlias, JsonObject? kernelInfo = null)
    {
        string trimmed = nameOrAlias.Trim();
        if (kernelInfo?["items"] is JsonArray items)
            foreach (var item in items.OfType<JsonObject>())
            {
                if (NotebookJson.AsString(item["name"]) is not string name)
                    continue;
                if (string.Equals(name, trimmed, StringComparison.Ordinal))
                    return BuiltIn.TryGetValue(name, out var b) ? b : name;
                if (item["aliases"] is JsonArray aliases && aliases.Any(a => NotebookJson.AsString(a) == trimmed))
                    return BuiltIn.TryGetValue(name, out var b) ? b : name;
            }
        return BuiltIn.TryGetValue(trimmed, out var canonical) ? canonical : trimmed;
    }

    /// <summary>Whether <paramref name="nameOrAlias"/> names a kernel (built in, or declared by the notebook).</summary>
    public static bool IsKnown(string nameOrAlias, JsonObject? kernelInfo = null)
    {
        if (BuiltIn.ContainsKey(nameOrAlias))
            return true;
        if (kernelInfo?["items"] is JsonArray items)
            foreach (var item in items.OfType<JsonObject>())
            {
                if (NotebookJson.AsString(item["name"]) == nameOrAlias)
                    return true;
                if (item["aliases"] is JsonArray aliases && aliases.Any(a => NotebookJson.AsString(a) == nameOrAlias))
                    return true;
            }
        return false;
    }

    /// <summary>
    /// The kernel named by a <c>#!name</c> line at the start of <paramref name="source"/> (blank lines skipped), or null.
    /// </summary>
    public static string? FromFirstLine(string source, JsonObject? kernelInfo = null)
    {
        foreach (var raw in source.Split('\n'))
        {
            string line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0)
                continue;
            if (line.StartsWith("#!", StringComparison.Ordinal) && IsKnown(line[2..], kernelInfo))
                return Canonical(line[2..], kernelInfo);
            return null;
        }
        return null;
    }
}
