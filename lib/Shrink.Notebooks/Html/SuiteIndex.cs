using System.Globalization;
using System.Text;
using Shrink.Notebooks.Execution;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Html;

/// <summary>
/// One page for a whole run of the suite (<c>index.html</c> beside the executed notebooks): a table with every executed
/// notebook (a link to its HTML page, its status and run time), then each notebook's claims table, which is the outputs
/// of its code cells tagged <see cref="ClaimsTag"/> (a notebook without one says so). The page is self-contained: one
/// stylesheet, no scripts, nothing fetched.
/// </summary>
public static class SuiteIndex
{
    /// <summary>The cell tag that marks a notebook's claims table.</summary>
    public const string ClaimsTag = "claims";

    /// <summary>One executed notebook on the page.</summary>
    /// <param name="Result">What the run produced.</param>
    /// <param name="HtmlFileName">The notebook's HTML page, relative to the index.</param>
    public sealed record Entry(NotebookRunResult Result, string HtmlFileName);

    /// <summary>The page for <paramref name="entries"/> (in run order); <paramref name="parameters"/> describes the run's <c>-p</c>/<c>-r</c> values.</summary>
    public static string Build(IReadOnlyList<Entry> entries, string parameters, DateTimeOffset finished)
    {
        int ok = entries.Count(e => e.Result.Succeeded);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
          .Append("<title>Notebook suite</title>\n<style>\n").Append(HtmlExporter.Stylesheet).Append('\n').Append(Css).Append("\n</style>\n</head>\n<body>\n<main>\n")
          .Append("<h1>Notebook suite</h1>\n<p class=\"summary\">")
          .Append(string.Create(CultureInfo.InvariantCulture, $"{entries.Count} notebooks, {ok} ok, {entries.Count - ok} failed"))
          .Append(string.Create(CultureInfo.InvariantCulture, $"; run time {FormatDuration(TimeSpan.FromTicks(entries.Sum(e => e.Result.Duration.Ticks)))}"))
          .Append("; parameters: <code>").Append(MarkdownToHtml.Escape(parameters.Length == 0 ? "(none)" : parameters)).Append("</code>")
          .Append("; finished ").Append(finished.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)).Append(".</p>\n");

        sb.Append("<table class=\"suite\">\n<thead><tr><th>Notebook</th><th>Status</th><th style=\"text-align:right\">Run time</th><th>Claims</th></tr></thead>\n<tbody>\n");
        foreach (var entry in entries)
        {
            var r = entry.Result;
            string name = Path.GetFileNameWithoutExtension(r.Name);
            int claims = ClaimsCells(r).Count;
            sb.Append("<tr class=\"").Append(r.Succeeded ? "ok" : "failed").Append("\"><td><a href=\"").Append(Attribute(entry.HtmlFileName)).Append("\">")
              .Append(MarkdownToHtml.Escape(name)).Append("</a></td><td class=\"status\">").Append(MarkdownToHtml.Escape(Status(r)))
              .Append("</td><td style=\"text-align:right\">").Append(FormatDuration(r.Duration)).Append("</td><td><a href=\"#").Append(Attribute(Anchor(name))).Append("\">")
              .Append(claims == 0 ? "none" : claims == 1 ? "1 cell" : string.Create(CultureInfo.InvariantCulture, $"{claims} cells")).Append("</a></td></tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");

        foreach (var entry in entries)
            Claims(entry, sb);
        sb.Append("</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    const string Css = """
        h1 { margin-top: 0; }
        .summary { color: #59636e; }
        table.suite { border-collapse: collapse; width: 100%; margin: 12px 0 24px; }
        table.suite th, table.suite td { border: 1px solid #d0d7de; padding: 6px 10px; text-align: left; }
        table.suite tr.ok td.status { color: #1a7f37; font-weight: 600; }
        table.suite tr.failed td.status { color: #cf222e; font-weight: 600; }
        section.claims { margin: 18px 0 28px; }
        section.claims h2 a { color: inherit; text-decoration: none; }
        p.none { color: #59636e; font-style: italic; }
        """;

    static void Claims(Entry entry, StringBuilder sb)
    {
        var r = entry.Result;
        string name = Path.GetFileNameWithoutExtension(r.Name);
        sb.Append("<section class=\"claims\" id=\"").Append(Attribute(Anchor(name))).Append("\">\n<h2><a href=\"").Append(Attribute(entry.HtmlFileName)).Append("\">")
          .Append(MarkdownToHtml.Escape(name)).Append("</a></h2>\n");
        var cells = ClaimsCells(r);
        if (cells.Count == 0)
            sb.Append("<p class=\"none\">This notebook has no claims table (no code cell tagged <code>").Append(ClaimsTag).Append("</code>).</p>\n");
        foreach (var (index, cell) in cells)
        {
            var status = r.Cells.FirstOrDefault(c => c.CellIndex == index)?.Status;
            if (status == CellStatus.NotRun)
            {
                sb.Append("<p class=\"none\">The claims cell (notebook cell ").Append((index + 1).ToString(CultureInfo.InvariantCulture))
                  .Append(") did not run: an earlier cell failed.</p>\n");
                continue;
            }
            if (cell.Outputs.Count == 0)
                sb.Append("<p class=\"none\">The claims cell (notebook cell ").Append((index + 1).ToString(CultureInfo.InvariantCulture)).Append(") showed nothing.</p>\n");
            sb.Append("<div class=\"outputs\" style=\"margin-left:0\">\n");
            foreach (var output in cell.Outputs)
                HtmlExporter.Output(output, sb);
            sb.Append("</div>\n");
        }
        sb.Append("</section>\n");
    }

    /// <summary>The code cells of a run tagged <see cref="ClaimsTag"/>, with their index in the executed notebook.</summary>
    public static IReadOnlyList<(int Index, Microsoft.DotNet.Interactive.Documents.InteractiveDocumentElement Cell)> ClaimsCells(NotebookRunResult result) =>
        result.Notebook.CodeCells().Where(p => p.Cell.HasTag(ClaimsTag)).ToList();

    /// <summary>"ok", or how many cells failed and did not run.</summary>
    public static string Status(NotebookRunResult result) => result.Succeeded
        ? "ok"
        : string.Create(CultureInfo.InvariantCulture, $"FAILED: {result.FailedCount} failed, {result.NotRunCount} not run");

    static string Anchor(string name) => "claims-" + name;

    static string Attribute(string text) => MarkdownToHtml.Escape(text);

    /// <summary>"850 ms", "12.3 s" or "4 min 05 s".</summary>
    public static string FormatDuration(TimeSpan t) => t.TotalSeconds < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms")
        : t.TotalMinutes < 1
            ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.0} s")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes} min {t.Seconds:00} s");
}
