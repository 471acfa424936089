using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Html;

/// <summary>
/// Renders an (executed) notebook as one standalone HTML page: markdown cells through <see cref="MarkdownToHtml"/>,
/// code cells as their source with their outputs. Per output the richest representation is used: <c>text/html</c> and
/// <c>image/svg+xml</c> inserted as they are, <c>image/png</c>/<c>jpeg</c>/<c>gif</c> as data URIs, <c>text/markdown</c>
/// converted, <c>text/plain</c> escaped in a <c>&lt;pre&gt;</c>; streams in <c>&lt;pre&gt;</c>, errors styled. Scripts
/// inside HTML outputs (charts carry plotly.js in their first output) run when the page opens, so the page needs
/// nothing else.
/// </summary>
public static partial class HtmlExporter
{
    const string Css = """
        body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; line-height: 1.5; color: #1f2328; margin: 0; background: #fff; }
        main { max-width: 1000px; margin: 0 auto; padding: 24px; }
        .cell { margin: 14px 0; }
        .markdown h1, .markdown h2, .markdown h3 { border-bottom: 1px solid #d8dee4; padding-bottom: .2em; }
        .input { display: flex; gap: 8px; }
        .prompt { color: #6e7781; font-family: monospace; min-width: 4.5em; text-align: right; padding-top: 8px; user-select: none; }
        pre { margin: 0; padding: 8px 10px; overflow-x: auto; font-size: 13px; line-height: 1.4; }
        pre.source { flex: 1; background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; }
        .outputs { margin-left: calc(4.5em + 8px); }
        .output { margin-top: 6px; overflow-x: auto; }
        pre.stream { background: #fff; }
        pre.stderr { background: #fff8e6; }
        pre.error { background: #ffebe9; border-left: 4px solid #cf222e; color: #82071e; white-space: pre-wrap; }
        .markdown code, .markdown pre { background: #f6f8fa; border-radius: 4px; }
        .markdown code { padding: .1em .3em; }
        .markdown table { border-collapse: collapse; }
        .markdown th, .markdown td { border: 1px solid #d0d7de; padding: 4px 10px; }
        .math { font-family: "Latin Modern Math", "Cambria Math", serif; }
        blockquote { margin: 0; padding: 0 1em; color: #59636e; border-left: 4px solid #d0d7de; }
        img { max-width: 100%; }
        """;

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();

    /// <summary>The page's stylesheet (also used by <see cref="SuiteIndex"/>).</summary>
    internal static string Stylesheet => Css;

    /// <summary>The page for <paramref name="notebook"/>, titled <paramref name="title"/>.</summary>
    public static string Export(InteractiveDocument notebook, string title)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
          .Append("<title>").Append(MarkdownToHtml.Escape(title)).Append("</title>\n<style>\n").Append(Css).Append("\n</style>\n</head>\n<body>\n<main>\n");
        foreach (var cell in notebook.Elements)
        {
            if (cell.IsMarkdown())
                sb.Append("<section class=\"cell markdown\">\n").Append(MarkdownToHtml.Convert(cell.Contents)).Append("</section>\n");
            else
                Code(cell, sb);
        }
        sb.Append("</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    static void Code(InteractiveDocumentElement cell, StringBuilder sb)
    {
        string count = cell.ExecutionOrder > 0 ? cell.ExecutionOrder.ToString(CultureInfo.InvariantCulture) : " ";
        sb.Append("<section class=\"cell code\">\n<div class=\"input\"><div class=\"prompt\">[").Append(count).Append("]:</div>")
          .Append("<pre class=\"source\"><code class=\"language-csharp\">").Append(MarkdownToHtml.Escape(cell.Contents)).Append("</code></pre></div>\n");
        if (cell.Outputs.Count > 0)
        {
            sb.Append("<div class=\"outputs\">\n");
            foreach (var output in cell.Outputs)
                Output(output, sb);
            sb.Append("</div>\n");
        }
        sb.Append("</section>\n");
    }

    /// <summary>Appends one output as HTML (streams and errors in <c>&lt;pre&gt;</c>, displays by their richest MIME type).</summary>
    internal static void Output(InteractiveDocumentOutputElement output, StringBuilder sb)
    {
        switch (output)
        {
            case TextElement stream:
                string name = stream.Name == "stderr" ? "stderr" : "stdout";
                sb.Append($"<pre class=\"output stream {name}\">").Append(MarkdownToHtml.Escape(StripAnsi(stream.Text ?? ""))).Append("</pre>\n");
                break;
            case ErrorElement error:
                var text = new StringBuilder();
                text.Append(error.ErrorName).Append(": ").Append(error.ErrorValue);
                var traceback = (error.StackTrace ?? []).Select(StripAnsi).ToList();
                if (traceback.Count > 0 && traceback[0] == error.ErrorValue)
                    traceback.RemoveAt(0);
                if (traceback.Count > 0)
                    text.Append('\n').Append(string.Join("\n", traceback));
                sb.Append("<pre class=\"output error\">").Append(MarkdownToHtml.Escape(text.ToString().TrimEnd())).Append("</pre>\n");
                break;
            default:
                sb.Append("<div class=\"output display\">").Append(Rich(output.Bundle())).Append("</div>\n");
                break;
        }
    }

    static string Rich(IReadOnlyList<KeyValuePair<string, string>> data)
    {
        string? Get(string mime) => data.FirstOrDefault(p => p.Key == mime) is { Key: not null } found ? found.Value : null;
        if (Get("text/html") is string html)
            return html;
        if (Get("image/svg+xml") is string svg)
            return svg;
        foreach (var image in new[] { "image/png", "image/jpeg", "image/gif" })
            if (Get(image) is string base64)
                return $"<img src=\"data:{image};base64,{string.Concat(base64.Where(c => !char.IsWhiteSpace(c)))}\" alt=\"\">";
        if (Get("text/markdown") is string markdown)
            return MarkdownToHtml.Convert(markdown);
        if (Get("text/plain") is string plain)
            return "<pre>" + MarkdownToHtml.Escape(StripAnsi(plain)) + "</pre>";
        var first = data.FirstOrDefault();
        return first.Key is null ? "" : "<pre>" + MarkdownToHtml.Escape(first.Value) + "</pre>";
    }

    static string StripAnsi(string text) => AnsiEscape().Replace(text, "");
}
