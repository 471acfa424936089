using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Tests;

/// <summary>Builds small C# notebooks for tests.</summary>
internal static class NotebookBuilder
{
    /// <summary>A C# notebook whose cells are the given sources; a source starting with "md:" is a markdown cell,
    /// one starting with "params:" is a code cell tagged "parameters".</summary>
    public static Notebook Create(params string[] cells)
    {
        var nb = Notebook.CreateCSharp("test.ipynb");
        foreach (var source in cells)
        {
            if (source.StartsWith("md:", StringComparison.Ordinal))
                nb.AddCell(NotebookCell.Markdown(source[3..]));
            else if (source.StartsWith("params:", StringComparison.Ordinal))
                nb.AddCell(NotebookCell.Code(source[7..], "parameters"));
            else
                nb.AddCell(NotebookCell.Code(source));
        }
        return nb;
    }

    /// <summary>Writes <paramref name="nb"/> to <paramref name="folder"/>/<paramref name="name"/> and returns the path.</summary>
    public static string Save(Notebook nb, string folder, string name)
    {
        string path = Path.Combine(folder, name);
        nb.Save(path);
        return path;
    }

    /// <summary>The text of all outputs of a cell of the given type, concatenated.</summary>
    public static string OutputText(NotebookCell cell, string outputType) => string.Concat(cell.Outputs
        .Where(o => o.OutputType == outputType)
        .Select(o => outputType switch
        {
            "stream" => o.Text,
            "error" => o.ErrorValue + "\n" + string.Join("\n", o.Traceback),
            _ => o.GetData("text/plain"),
        }));
}
