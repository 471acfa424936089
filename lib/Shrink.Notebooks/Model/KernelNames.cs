using Microsoft.DotNet.Interactive.Documents;

namespace Shrink.Notebooks.Model;

/// <summary>
/// Kernel names as Polyglot Notebooks write them, and which of them the runner executes: <c>csharp</c> (aliases
/// <c>C#</c>, <c>c#</c>) runs on the C# kernel, <c>markdown</c> (<c>md</c>) is text; any other kernel (<c>fsharp</c>,
/// <c>pwsh</c>, <c>python3</c>, …) is not hosted here, and its cells fail with a message naming the kernel.
/// </summary>
public static class KernelNames
{
    /// <summary>The C# kernel: the only one this runner executes.</summary>
    public const string CSharp = "csharp";

    /// <summary>The markdown pseudo-kernel.</summary>
    public const string Markdown = "markdown";

    /// <summary>
    /// The kernels Polyglot Notebooks know, for <see cref="Microsoft.DotNet.Interactive.Documents.CodeSubmission"/>'s
    /// <c>.dib</c> parser (it splits cells at <c>#!name</c> lines of known kernels only). C# is the default.
    /// </summary>
    public static KernelInfoCollection Known()
    {
        var kernels = new KernelInfoCollection
        {
            new KernelInfo(CSharp, "C#", ["C#", "c#"]),
            new KernelInfo("fsharp", "F#", ["F#", "f#"]),
            new KernelInfo("pwsh", "PowerShell", ["powershell"]),
            new KernelInfo("javascript", "JavaScript", ["js"]),
            new KernelInfo("html", "HTML", []),
            new KernelInfo("mermaid", "Mermaid", []),
            new KernelInfo("sql", "SQL", []),
            new KernelInfo("kql", "KQL", []),
            new KernelInfo("http", "HTTP", []),
            new KernelInfo("value", null, []),
            new KernelInfo(Markdown, "Markdown", ["md"]),
        };
        kernels.DefaultKernelName = CSharp;
        return kernels;
    }

    /// <summary>The canonical name of a kernel name or alias: <c>C#</c> gives <c>csharp</c>, <c>md</c> gives <c>markdown</c>.</summary>
    public static string Canonical(string nameOrAlias)
    {
        string name = nameOrAlias.Trim();
        if (name.StartsWith(".net-", StringComparison.Ordinal))
            name = name[5..];
        return name.ToLowerInvariant() switch
        {
            "csharp" or "c#" => CSharp,
            "markdown" or "md" => Markdown,
            "fsharp" or "f#" => "fsharp",
            "powershell" or "pwsh" => "pwsh",
            _ => name,
        };
    }
}
