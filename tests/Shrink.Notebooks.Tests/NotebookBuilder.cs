using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Tests;

/// <summary>Builds small C# notebooks for tests.</summary>
internal static class NotebookBuilder
{
    /// <summary>A C# notebook whose cells are the given sources; a source starting with "md:" is a markdown cell,
    /// one starting with "params:" is a code cell tagged "parameters", one starting with "claims:" a code cell tagged "claims".</summary>
    public static InteractiveDocument Create(params string[] cells)
    {
        var nb = new InteractiveDocument();
        nb.Metadata["kernelspec"] = new Dictionary<string, object> { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" };
        foreach (var source in cells)
        {
            if (source.StartsWith("md:", StringComparison.Ordinal))
                nb.Add(NotebookCells.NewMarkdown(source[3..]));
            else if (source.StartsWith("params:", StringComparison.Ordinal))
                nb.Add(NotebookCells.NewCode(source[7..], KernelNames.CSharp, "parameters"));
            else if (source.StartsWith("claims:", StringComparison.Ordinal))
                nb.Add(NotebookCells.NewCode(source[7..], KernelNames.CSharp, "claims"));
            else
                nb.Add(NotebookCells.NewCode(source));
        }
        return nb;
    }

    /// <summary>Writes <paramref name="nb"/> to <paramref name="folder"/>/<paramref name="name"/> and returns the path.</summary>
    public static string Save(InteractiveDocument nb, string folder, string name)
    {
        string path = Path.Combine(folder, name);
        NotebookFile.Save(nb, path);
        return path;
    }

    /// <summary>The text/plain of the one output of a cell that is a display or a result.</summary>
    public static string Plain(InteractiveDocumentElement cell) =>
        Assert.Single(cell.Outputs, o => o is DisplayElement or ReturnValueElement).Get("text/plain")!;
}
