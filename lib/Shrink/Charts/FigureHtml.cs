using System.Text;
using Shrink.Formatting;

namespace Shrink.Charts;

/// <summary>HTML for figures: a chart fragment (div + script), the inline plotly.js script, a standalone page.</summary>
internal static class FigureHtml
{
    /// <summary>How long a chart waits for <c>window.Plotly</c> (loaded by an earlier output), in 50 ms polls.</summary>
    public const int PollAttempts = 200;

    private static readonly Lazy<string> LazyLibraryScript = new(() =>
        // "</script" cannot occur inside an inline script; escaping it is a no-op for JavaScript.
        "<script type=\"text/javascript\">/* plotly.js " + PlotlyJs.Version + " (MIT), embedded by Shrink */\n" +
        PlotlyJs.Source.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase) + "\n</script>\n");

    /// <summary>A <c>&lt;script&gt;</c> element holding the whole plotly.js.</summary>
    public static string LibraryScript => LazyLibraryScript.Value;

    /// <summary>The chart: a div with a unique id and a script that draws the figure into it once plotly.js is there.</summary>
    public static string Fragment(Figure figure, bool includeLibrary)
    {
        var id = "shrink-chart-" + Guid.NewGuid().ToString("N");
        var json = figure.ToJson();
        var sb = new StringBuilder();
        if (includeLibrary) sb.Append(LibraryScript);
        sb.Append($$"""
            <div id="{{id}}" class="shrink-chart"></div>
            <script type="text/javascript">
            (function () {
              var id = "{{id}}";
              var figure = {{json}};
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

    /// <summary>A standalone HTML page with plotly.js inlined in its head and <paramref name="fragments"/> in its body.</summary>
    public static string Page(string title, IEnumerable<string> fragments)
    {
        var sb = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
        sb.Append(HtmlText.Encode(title)).Append("</title>\n").Append(LibraryScript).Append("</head>\n<body>\n");
        foreach (var f in fragments) sb.Append(f);
        return sb.Append("</body>\n</html>\n").ToString();
    }
}
