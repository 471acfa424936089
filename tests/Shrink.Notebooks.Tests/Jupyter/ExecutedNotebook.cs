using System.Text.Json.Nodes;

namespace Shrink.Notebooks.Tests.Jupyter;

/// <summary>
/// What a notebook executed by Jupyter holds, read straight from its nbformat 4 JSON (independent of our own notebook
/// model): its error outputs and the HTML it displayed, with the markers of a drawn chart and of a table.
/// </summary>
internal sealed class ExecutedNotebook
{
    private ExecutedNotebook(IReadOnlyList<string> errors, IReadOnlyList<string> html, int codeCells, int executedCells)
    {
        Errors = errors;
        Html = html;
        CodeCells = codeCells;
        ExecutedCells = executedCells;
    }

    /// <summary>One line per error output: <c>cells[N]: ename: evalue</c> (N counts every cell from 0, as nbformat does).</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>The <c>text/html</c> of every display and result, in cell order.</summary>
    public IReadOnlyList<string> Html { get; }

    /// <summary>Code cells in the executed notebook (the injected parameters cell included).</summary>
    public int CodeCells { get; }

    /// <summary>Code cells that carry an execution count (ran in the kernel).</summary>
    public int ExecutedCells { get; }

    /// <summary>HTML outputs that draw a Plotly chart: a script calling <c>Plotly.newPlot</c> or <c>Plotly.react</c>
    /// (our figure HTML and Plotly.NET's both do).</summary>
    public int Charts => Html.Count(IsChart);

    /// <summary>HTML outputs that hold a table (a results table, a Deedle frame, a tensor preview).</summary>
    public int Tables => Html.Count(h => h.Contains("<table", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether an HTML output draws a Plotly chart.</summary>
    public static bool IsChart(string html) =>
        html.Contains("Plotly.newPlot(", StringComparison.Ordinal) || html.Contains("Plotly.react(", StringComparison.Ordinal);

    /// <summary>Reads an executed .ipynb.</summary>
    public static ExecutedNotebook Load(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var errors = new List<string>();
        var html = new List<string>();
        int codeCells = 0, executed = 0;
        var cells = root["cells"]!.AsArray();
        for (int i = 0; i < cells.Count; i++)
        {
            var cell = cells[i]!.AsObject();
            if ((string?)cell["cell_type"] != "code") continue;
            codeCells++;
            if (cell["execution_count"] is JsonValue) executed++;
            foreach (var output in cell["outputs"]?.AsArray() ?? [])
            {
                var o = output!.AsObject();
                switch ((string?)o["output_type"])
                {
                    case "error":
                        errors.Add($"cells[{i}]: {(string?)o["ename"]}: {FirstLines((string?)o["evalue"] ?? "", 3)}");
                        break;
                    case "display_data" or "execute_result" when (o["data"]?["text/html"]) is { } data:
                        html.Add(Text(data));
                        break;
                }
            }
        }
        return new ExecutedNotebook(errors, html, codeCells, executed);
    }

    // nbformat stores multi-line text as a string or as an array of lines.
    private static string Text(JsonNode node) =>
        node is JsonArray lines ? string.Concat(lines.Select(l => (string?)l)) : (string?)node ?? "";

    private static string FirstLines(string text, int count) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(count));
}
