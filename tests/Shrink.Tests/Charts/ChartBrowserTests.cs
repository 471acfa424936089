using System.Text.RegularExpressions;
using Shrink.Charts;
using Shrink.Tests.Formatting;

namespace Shrink.Tests.Charts;

/// <summary>
/// Charts really draw: pages made the way the runner's HTML export makes them (the text/html of each output
/// concatenated: plotly.js once, in the first chart, then chart fragments) and by <see cref="Figure.SaveHtml"/> are
/// loaded in headless Chromium, and plotly's SVG must be inside every chart's div.
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

    [Fact]
    public void TwoNotebookOutputsDrawWithOneEmbeddedLibrary()
    {
        var loss = Chart.Combine(
                Chart.Line(new[] { 1, 2, 3, 4 }, new[] { 1.0, 0.6, 0.4, 0.3 }, name: "train"),
                Chart.Line(new[] { 1, 2, 3, 4 }, new[] { 1.1, 0.8, double.NaN, 0.7 }, name: "test", errors: new[] { 0.1, 0.1, 0.1, 0.1 }))
            .WithTitle("loss").WithXAxis("epoch").WithYAxis("loss", log: true);
        var acc = Chart.Bar(["dense", "IMP"], new[] { 0.91, 0.90 }, new[] { 0.004, 0.01 }, name: "top-1").WithTitle("accuracy");

        string first = "", second = "";
        NotebookSessionCollection.InSession(Guid.NewGuid().ToString(), () =>
        {
            first = ConventionFormatter.FormatBundle(loss).Get("text/html");
            second = ConventionFormatter.FormatBundle(acc).Get("text/html");
        });
        Assert.Contains("window.Plotly = Plotly;", first);
        Assert.DoesNotContain("window.Plotly = Plotly;", second);

        using var temp = new TempFolder("browser");
        var dir = temp.Path;
        var page = Path.Combine(dir, "notebook.html");
        File.WriteAllText(page, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>outputs</title></head><body>\n" +
                                "<div class=\"output\">" + first + "</div>\n<div class=\"output\">" + second + "</div>\n</body></html>\n");
        var dom = HeadlessChromium.DumpDom(page, Timeout);
        AssertDrawn(dom, ChartId(first), "the first chart (the one carrying plotly.js)");
        AssertDrawn(dom, ChartId(second), "the second chart (reusing window.Plotly)");
        Assert.Contains(">epoch<", ChartDiv(dom, ChartId(first)));   // the axis title is drawn as SVG text
    }

    [Fact]
    public void SavedPageWithAGridDraws()
    {
        var grid = Chart.Grid(1, 2,
            Chart.Heatmap(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } }, ["a", "b", "c"], ["r0", "r1"], valueFormat: ".0f").WithTitle("attention"),
            Chart.Contour(new[] { -1.0, 0, 1 }, new[] { -1.0, 0, 1 }, new double[,] { { 2, 1, 2 }, { 1, 0, 1 }, { 2, 1, 2 } }).WithTitle("landscape"))
            .WithTitle("grid");
        using var temp = new TempFolder("browser");
        var dir = temp.Path;
        var path = Path.Combine(dir, "grid.html");
        grid.SaveHtml(path);
        var html = File.ReadAllText(path);
        var dom = HeadlessChromium.DumpDom(path, Timeout);
        AssertDrawn(dom, ChartId(html), "the saved grid");
        var div = ChartDiv(dom, ChartId(html));
        Assert.Contains(">attention<", div);
        Assert.Contains(">landscape<", div);
        Assert.Contains("class=\"x2y2\"", div);   // the second panel's subplot
        Assert.Equal(6, Regex.Matches(div, "class=\"heatmap-label\"").Count);   // one value annotation per heatmap cell
    }
}
