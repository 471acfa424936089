using System.Text;
using Plotly.NET;
using Shrink.Experiments;
using Shrink.Formatting;

namespace Shrink.Charts;

/// <summary>
/// HTML for Plotly.NET charts that works offline: a chart fragment (a div and a script that draws the chart's figure
/// JSON, as Plotly.NET serialises it, with <c>Plotly.newPlot</c>), optionally preceded by the whole plotly.js that
/// Plotly.NET embeds (<see cref="PlotlyJs"/>); and standalone pages. No output ever names a CDN or require.js URL.
/// </summary>
public static class ChartHtml
{
    /// <summary>How long a chart waits for <c>window.Plotly</c> (loaded by an earlier output), in 50 ms polls.</summary>
    public const int PollAttempts = 200;

    private static readonly Lazy<string> LazyLibraryScript = new(() =>
        // "</script" cannot occur inside an inline script; escaping it is a no-op for JavaScript.
        "<script type=\"text/javascript\">/* plotly.js " + PlotlyJs.Version + " (MIT), embedded in Plotly.NET */\n" +
        PlotlyJs.Source.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase) + "\n</script>\n");

    /// <summary>A <c>&lt;script&gt;</c> element holding the whole plotly.js (about 3.6 MB).</summary>
    public static string LibraryScript => LazyLibraryScript.Value;

    /// <summary>
    /// An HTML fragment that draws <paramref name="chart"/>: a <c>&lt;div&gt;</c> with a unique id and a
    /// <c>&lt;script&gt;</c> that calls <c>Plotly.newPlot</c> once <c>window.Plotly</c> exists (it waits up to 10 s
    /// for a library loaded by an earlier output). With <paramref name="includePlotlyJs"/> the whole plotly.js is inlined first.
    /// </summary>
    public static string ToHtml(this GenericChart chart, bool includePlotlyJs = false)
    {
        ArgumentNullException.ThrowIfNull(chart);
        var id = "shrink-chart-" + Guid.NewGuid().ToString("N");
        // Plotly.NET's figure JSON ({"data", "layout", "frames"}); "</" escaped so that no string can end the script.
        var figure = GenericChart.toFigureJson(chart).Replace("</", "<\\/", StringComparison.Ordinal);
        var sb = new StringBuilder();
        if (includePlotlyJs) sb.Append(LibraryScript);
        sb.Append($$"""
            <div id="{{id}}" class="shrink-chart"></div>
            <script type="text/javascript">
            (function () {
              var id = "{{id}}";
              var figure = {{figure}};
              var config = { responsive: true, displaylogo: false };
              var attempts = 0;
              function draw() {
                var el = document.getElementById(id);
                if (el && window.Plotly && typeof window.Plotly.newPlot === "function") {
                  window.Plotly.newPlot(el, figure.data, figure.layout, config);
                  return;
                }
                if (++attempts <= {{PollAttempts}}) { setTimeout(draw, 50); return; }
                if (el) {
                  el.textContent = "This chart cannot be drawn: plotly.js is not loaded on this page. It is embedded in the " +
                    "first chart of each notebook session; if that output was cleared, re-run the notebook, or call " +
                    "Shrink.Charts.PlotlyJs.EmbedInNextChart() and display the chart again.";
                }
              }
              draw();
            })();
            </script>

            """);
        return sb.ToString();
    }

    /// <summary>
    /// Writes a standalone HTML page of <paramref name="chart"/> with plotly.js inlined (works offline, about 3.6 MB)
    /// to <paramref name="path"/>, atomically (a temporary file renamed over the target); creates the folder if needed.
    /// </summary>
    public static void SaveHtml(this GenericChart chart, string path)
    {
        ArgumentNullException.ThrowIfNull(chart);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(path, Page(ChartLayout.TitleText(chart) ?? "Chart", [chart.ToHtml()]));
    }

    /// <summary>A standalone HTML page with plotly.js inlined in its head and <paramref name="fragments"/> in its body.</summary>
    public static string Page(string title, IEnumerable<string> fragments)
    {
        ArgumentNullException.ThrowIfNull(fragments);
        var sb = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
        sb.Append(HtmlText.Encode(title)).Append("</title>\n").Append(LibraryScript).Append("</head>\n<body>\n");
        foreach (var f in fragments) sb.Append(f);
        return sb.Append("</body>\n</html>\n").ToString();
    }
}
