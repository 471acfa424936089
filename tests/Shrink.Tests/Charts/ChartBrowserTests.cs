using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;
using Shrink.Charts;
using Chart = Shrink.Charts.Chart;

namespace Shrink.Tests.Charts;

/// <summary>
/// Charts really draw, offline: pages made the way a notebook front end shows outputs (the text/html of each output
/// from .NET Interactive's <see cref="Formatter"/>, concatenated: plotly.js once, in the first chart, then chart
/// fragments) and by <see cref="ChartHtml.SaveHtml"/> are loaded in headless Chromium with the network off, and
/// plotly's SVG must be inside every chart's div.
/// </summary>
[Collection(NotebookSessionCollection.Name)]
[Trait("Category", "Browser")]
public class ChartBrowserTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private static string ChartId(string html) => Regex.Match(html, "<div id=\"(shrink-chart-[0-9a-f]{32})\"").Groups[1].Value;

    /// <summary>The part of <paramref name="dom"/> from the div of <paramref name="id"/> to the next chart div (or the end).</summary>
    private static string ChartDiv(string dom, string id)
    {
        int start = dom.IndexOf($"id=\"{id}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"the dumped DOM has no element with id {id}:\n{Head(dom)}");
        int next = dom.IndexOf("id=\"shrink-chart-", start + 10, StringComparison.Ordinal);
        return next < 0 ? dom[start..] : dom[start..next];
    }

    private static string Head(string dom) => dom.Length <= 3000 ? dom : dom[..1500] + "\n…\n" + dom[^1500..];

    private static void AssertDrawn(string dom, string id, string what)
    {
        var div = ChartDiv(dom, id);
        Assert.True(div.Contains("class=\"main-svg\"", StringComparison.Ordinal),
            $"plotly did not draw {what} (no class=\"main-svg\" in its div {id}). The DOM Chromium dumped:\n{Head(dom)}");
        Assert.DoesNotContain(">This chart cannot be drawn", div);   // the fallback text set as the div's content
    }

    /// <summary>The outputs' HTML outside the inlined plotly.js: no URL at all (no CDN, no require.js).</summary>
    private static void AssertNoUrlOutsideTheLibrary(string html)
    {
        var marker = html.IndexOf(PlotlyEmbeddingTests.LibraryMarker, StringComparison.Ordinal);
        var outside = marker < 0 ? html : html[..marker] + html[(html.IndexOf("</script>", marker, StringComparison.Ordinal) + 9)..];
        Assert.DoesNotMatch("(?i)https?:|//cdn|require(js)?[.(]|<script[^>]+src=", outside);
    }

    [Fact]
    public void EveryChartKindDrawsInOneSessionWithOneEmbeddedLibrary()
    {
        var z = new double[,] { { 2, 1, 2 }, { 1, 0, 1 }, { 2, 1, 2 } };
        var charts = new (string What, GenericChart Chart, string[] Texts)[]
        {
            ("line with error bars, a gap and a log axis", Chart.Combine(
                    Chart.Line(new[] { 1, 2, 3, 4 }, new[] { 1.0, 0.6, 0.4, 0.3 }, name: "train"),
                    Chart.Line(new[] { 1, 2, 3, 4 }, new[] { 1.1, 0.8, double.NaN, 0.7 }, name: "test", errors: new[] { 0.1, 0.1, 0.1, 0.1 }))
                .WithTitle("loss").WithXAxis("epoch").WithYAxis("loss", log: true), [">epoch<", ">loss<", ">train<"]),
            ("scatter over categories", Chart.Scatter(["a", "b"], new[] { 1.0, 2.0 }, name: "points", errors: new[] { 0.2, 0.2 }).WithTitle("scatter"), [">scatter<"]),
            ("grouped bars", Chart.Combine(Chart.Bar(["dense", "IMP"], new[] { 0.91, 0.90 }, new[] { 0.004, 0.01 }, name: "top-1"),
                                           Chart.Bar(["dense", "IMP"], new[] { 0.97, 0.96 }, name: "top-5")).WithTitle("accuracy").WithSize(500, 300),
                [">dense<", ">IMP<"]),
            ("heatmap with values", Chart.Heatmap(new[,] { { 1, 2, 3 }, { 4, 5, 6 } }, ["a", "b", "c"], ["r0", "r1"], colorscale: "Blues", valueFormat: "d").WithTitle("confusion"),
                [">confusion<"]),
            ("image", Chart.Image(new byte[,] { { 0, 128, 255 }, { 255, 128, 0 } }).WithTitle("image"), [">image<"]),
            ("contour", Chart.Contour(new[] { -1.0, 0, 1 }, new[] { -1.0, 0, 1 }, z, name: "loss").WithTitle("landscape").WithXAxis("α"), [">landscape<", ">α<"]),
            ("surface", Chart.Surface(new[] { -1.0, 0, 1 }, new[] { -1.0, 0, 1 }, z).WithTitle("surface").WithZAxis("loss"),
                [">surface<", "class=\"gl-container\"", "<canvas"]),   // the 3-D scene is drawn with WebGL (SwiftShader in headless Chromium)
            ("grid", Chart.Grid(2, 2,
                    Chart.Line(new[] { 1, 2 }, new[] { 1.0, 2 }).WithTitle("panel one"),
                    Chart.Heatmap(new[,] { { 1.0, 2 }, { 3, 4 } }, valueFormat: ".0f").WithTitle("panel two"),
                    Chart.Bar(["x"], new[] { 3 }).WithTitle("panel three"))
                .WithSize(800, 600), [">panel one<", ">panel two<", ">panel three<", "class=\"x2y2\"", "class=\"x3y3\""]),
        };

        var html = new List<string>();
        NotebookSessionCollection.InSession(Guid.NewGuid().ToString(), () =>
        {
            foreach (var c in charts) html.Add(Formatter.ToDisplayString(c.Chart, "text/html"));
        });
        var page = string.Concat(html.Select(h => "<div class=\"output\">" + h + "</div>\n"));
        Assert.Single(Regex.Matches(page, Regex.Escape(PlotlyEmbeddingTests.LibraryMarker)));   // plotly.js inlined exactly once
        Assert.Contains(PlotlyEmbeddingTests.LibraryMarker, html[0]);
        AssertNoUrlOutsideTheLibrary(page);

        using var temp = new TempFolder("browser");
        var path = Path.Combine(temp.Path, "notebook.html");
        File.WriteAllText(path, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>outputs</title></head><body>\n" + page + "</body></html>\n");
        var dom = HeadlessChromium.DumpDom(path, Timeout);
        for (int i = 0; i < charts.Length; i++)
        {
            var id = ChartId(html[i]);
            AssertDrawn(dom, id, $"chart {i} ({charts[i].What})");
            var div = ChartDiv(dom, id);
            foreach (var text in charts[i].Texts) Assert.True(div.Contains(text, StringComparison.Ordinal), $"chart {i} ({charts[i].What}) has no {text} in its drawn DOM");
        }
        Assert.Equal(6 + 4, Regex.Matches(dom, "class=\"heatmap-label\"").Count);   // one value per heatmap cell: 2×3 and 2×2
    }

    [Fact]
    public void SavedPageWithAGridDraws()
    {
        var grid = Chart.Grid(1, 2,
            Chart.Heatmap(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } }, ["a", "b", "c"], ["r0", "r1"], valueFormat: ".0f").WithTitle("attention"),
            Chart.Contour(new[] { -1.0, 0, 1 }, new[] { -1.0, 0, 1 }, new double[,] { { 2, 1, 2 }, { 1, 0, 1 }, { 2, 1, 2 } }).WithTitle("landscape"))
            .WithTitle("grid");
        using var temp = new TempFolder("browser");
        var path = Path.Combine(temp.Path, "grid.html");
        grid.SaveHtml(path);
        var html = File.ReadAllText(path);
        AssertNoUrlOutsideTheLibrary(html);
        var dom = HeadlessChromium.DumpDom(path, Timeout);
        AssertDrawn(dom, ChartId(html), "the saved grid");
        var div = ChartDiv(dom, ChartId(html));
        Assert.Contains(">attention<", div);
        Assert.Contains(">landscape<", div);
        Assert.Contains("class=\"x2y2\"", div);   // the second panel's subplot
        Assert.Equal(6, Regex.Matches(div, "class=\"heatmap-label\"").Count);   // one value annotation per heatmap cell
    }
}
