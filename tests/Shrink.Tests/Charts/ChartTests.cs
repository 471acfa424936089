using System.Text.Json.Nodes;
using Plotly.NET;
using Shrink.Charts;
using Chart = Shrink.Charts.Chart;

namespace Shrink.Tests.Charts;

/// <summary>
/// The builders make Plotly.NET charts whose figure JSON (as Plotly.NET serialises it) carries the data, the error
/// bars, the gaps and the layout the notebooks ask for; shapes are checked.
/// </summary>
public class ChartTests
{
    /// <summary>Plotly.NET's figure JSON of <paramref name="chart"/>: {"data": [...], "layout": {...}}.</summary>
    internal static JsonObject Json(GenericChart chart) => JsonNode.Parse(GenericChart.toFigureJson(chart))!.AsObject();

    private static JsonObject Trace(GenericChart chart, int i = 0) => Json(chart)["data"]![i]!.AsObject();

    private static JsonObject Layout(GenericChart chart) => Json(chart)["layout"]!.AsObject();

    private static string[] Strings(JsonNode? array) => array!.AsArray().Select(n => (string?)n ?? "").ToArray();

    private static double?[] Numbers(JsonNode? array) => array!.AsArray().Select(n => n is null ? (double?)null : n.GetValue<double>()).ToArray();

    [Fact]
    public void LineCarriesXYErrorBarsAndGaps()
    {
        var chart = Chart.Line(new[] { 1, 2, 3 }, new[] { 0.5, double.NaN, 0.25 }, name: "test", errors: new[] { 0.1, 0.2, double.PositiveInfinity }, color: "red");
        var t = Trace(chart);
        Assert.Equal("scatter", (string?)t["type"]);
        Assert.Equal("lines", (string?)t["mode"]);
        Assert.Equal("test", (string?)t["name"]);
        Assert.Equal([1.0, 2.0, 3.0], Numbers(t["x"]));
        Assert.Equal([0.5, null, 0.25], Numbers(t["y"]));   // NaN is a gap (null), not the string "NaN"
        Assert.Equal("data", (string?)t["error_y"]!["type"]);
        Assert.True((bool)t["error_y"]!["symmetric"]!);
        Assert.Equal([0.1, 0.2, null], Numbers(t["error_y"]!["array"]));
        Assert.Equal("red", (string?)t["line"]!["color"]);
        Assert.Equal("red", (string?)t["marker"]!["color"]);
        Assert.Equal("lines+markers", (string?)Trace(Chart.Line(new[] { 1 }, new[] { 1f }, markers: true))["mode"]);
    }

    [Fact]
    public void FloatsKeepTheirShortestDecimalForm()
    {
        var t = Trace(Chart.Line(new[] { 0.1f, 0.2f }, new[] { 0.3f, 1e-7f }));
        Assert.Equal([0.1, 0.2], Numbers(t["x"]));
        Assert.Equal([0.3, 1e-7], Numbers(t["y"]));
    }

    [Fact]
    public void ScatterAndCategoryLinesUseLabels()
    {
        var p = Trace(Chart.Scatter(new[] { 5 }, new[] { 80.5 }, name: "one-shot", errors: new[] { 1.5 }));
        Assert.Equal("markers", (string?)p["mode"]);
        Assert.Equal([80.5], Numbers(p["y"]));
        Assert.Equal([1.5], Numbers(p["error_y"]!["array"]));
        var l = Trace(Chart.Line(["no KD", "KD"], new[] { 70.0, 72.0 }, name: "baseline"));
        Assert.Equal(["no KD", "KD"], Strings(l["x"]));
        Assert.Equal(["a", "b"], Strings(Trace(Chart.Scatter(["a", "b"], new[] { 1, 2 }))["x"]));
    }

    [Fact]
    public void BarsAreVerticalColumnsWithErrorBars()
    {
        var t = Trace(Chart.Bar(["dense", "IMP"], new[] { 91.0, 90.0 }, new[] { 0.4, 1.0 }, name: "top-1", color: "#123456"));
        Assert.Equal("bar", (string?)t["type"]);
        Assert.Equal("v", (string?)t["orientation"]);
        Assert.Equal(["dense", "IMP"], Strings(t["x"]));
        Assert.Equal([91.0, 90.0], Numbers(t["y"]));
        Assert.Equal([0.4, 1.0], Numbers(t["error_y"]!["array"]));
        Assert.Equal("#123456", (string?)t["marker"]!["color"]);
        Assert.Equal([3.0, 4.0], Numbers(Trace(Chart.Bar(["a", "b"], new long[] { 3, 4 }))["y"]));
    }

    [Fact]
    public void HeatmapCarriesTheMatrixLabelsAndValueTemplate()
    {
        var t = Trace(Chart.Heatmap(new[,] { { 1, 2, 3 }, { 4, 5, 6 } }, ["a", "b", "c"], ["r0", "r1"], colorscale: "Blues", valueFormat: "d"));
        Assert.Equal("heatmap", (string?)t["type"]);
        Assert.Equal([1.0, 2.0, 3.0], Numbers(t["z"]![0]));
        Assert.Equal([4.0, 5.0, 6.0], Numbers(t["z"]![1]));
        Assert.Equal(["a", "b", "c"], Strings(t["x"]));
        Assert.Equal(["r0", "r1"], Strings(t["y"]));
        Assert.Equal("Blues", (string?)t["colorscale"]);
        Assert.Equal("%{z:d}", (string?)t["texttemplate"]);
        var jagged = Trace(Chart.Heatmap(new[] { new[] { 0.5, double.NaN } }));
        Assert.Equal([0.5, null], Numbers(jagged["z"]![0]));
        Assert.Equal("Viridis", (string?)jagged["colorscale"]);
        Assert.Null(jagged["texttemplate"]);
    }

    [Fact]
    public void ImageIsFlippedSoRowZeroIsOnTopAndHasNoColorBar()
    {
        var t = Trace(Chart.Image(new byte[,] { { 0, 255 }, { 10, 20 } }, reverseScale: true));
        Assert.Equal([10.0, 20.0], Numbers(t["z"]![0]));   // heatmaps draw row 0 at the bottom
        Assert.Equal([0.0, 255.0], Numbers(t["z"]![1]));
        Assert.False((bool)t["showscale"]!);
        Assert.True((bool)t["reversescale"]!);
        Assert.Equal("Greys", (string?)t["colorscale"]);
    }

    [Fact]
    public void ContourAndSurfaceCarryXYZ()
    {
        var z = new double[,] { { 2, 1 }, { 1, 0 }, { 2, 1 } };
        var c = Trace(Chart.Contour(new[] { -1.0, 1 }, new[] { -1.0, 0, 1 }, z, name: "loss", showLabels: true));
        Assert.Equal("contour", (string?)c["type"]);
        Assert.Equal([-1.0, 1.0], Numbers(c["x"]));
        Assert.Equal([-1.0, 0.0, 1.0], Numbers(c["y"]));
        Assert.Equal([1.0, 0.0], Numbers(c["z"]![1]));
        Assert.True((bool)c["contours"]!["showlabels"]!);
        var s = Trace(Chart.Surface(new[] { -1.0, 1 }, new[] { -1.0, 0, 1 }, new[] { new[] { 2.0, 1 }, new[] { 1.0, 0 }, new[] { 2.0, 1 } }, name: "loss"));
        Assert.Equal("surface", (string?)s["type"]);
        Assert.Equal([2.0, 1.0], Numbers(s["z"]![2]));
    }

    [Fact]
    public void ShapeMismatchesNameTheTrace()
    {
        var e = Assert.Throws<ArgumentException>(() => Chart.Line(new[] { 1, 2 }, new[] { 1.0 }, name: "train"));
        Assert.Contains("Scatter 'train'", e.Message);
        Assert.Throws<ArgumentException>(() => Chart.Bar(["a"], new[] { 1.0 }, new[] { 0.1, 0.2 }));
        e = Assert.Throws<ArgumentException>(() => Chart.Contour(new[] { 1.0 }, new[] { 1.0, 2 }, new double[,] { { 1, 2 }, { 3, 4 } }));
        Assert.Contains("x has 1 values but z has 2 columns", e.Message);
        e = Assert.Throws<ArgumentException>(() => Chart.Heatmap(new[] { new[] { 1.0, 2 }, new[] { 3.0 } }));
        Assert.Contains("ragged", e.Message);
        Assert.Throws<ArgumentException>(() => Chart.Heatmap(new double[0, 3]));
    }

    [Fact]
    public void LayoutExtensionsSetTitleAxesSizeAndLegendWithoutChangingTheOriginal()
    {
        var line = Chart.Line(new[] { 1, 2 }, new[] { 0.1, 0.01 });
        var styled = line.WithTitle("loss").WithXAxis("epoch").WithYAxis("loss", log: true, min: 0.001).WithSize(700, 400).WithLegend(false);
        var layout = Layout(styled);
        Assert.Equal("loss", (string?)layout["title"]!["text"]);
        Assert.Equal("epoch", (string?)layout["xaxis"]!["title"]!["text"]);
        Assert.Equal("log", (string?)layout["yaxis"]!["type"]);
        Assert.Equal([-3.0, null], Numbers(layout["yaxis"]!["range"]));   // log10 units; the open end autoranges
        Assert.Equal("max", (string?)layout["yaxis"]!["autorange"]);
        Assert.Equal(700, (int)layout["width"]!);
        Assert.Equal(400, (int)layout["height"]!);
        Assert.False((bool)layout["showlegend"]!);
        var original = Layout(line);
        Assert.Null(original["title"]);
        Assert.Null(original["xaxis"]);
        Assert.Null(Layout(styled.WithTitle(null))["title"]);
        Assert.Throws<ArgumentException>(() => line.WithYAxis("y", min: 2, max: 1));
        Assert.Throws<ArgumentException>(() => line.WithXAxis("x", log: true, min: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => line.WithSize(5, 400));
    }

    [Fact]
    public void CombineOverlaysTracesInOrder()
    {
        var chart = Chart.Combine(
                Chart.Bar(["a", "b"], new[] { 1.0, 2 }, name: "CNN"),
                Chart.Bar(["a", "b"], new[] { 1.5, 2.5 }, name: "INN"),
                Chart.Line(["a", "b"], new[] { 1.2, 1.2 }, name: "baseline"))
            .WithTitle("per class");
        var json = Json(chart);
        Assert.Equal(["CNN", "INN", "baseline"], json["data"]!.AsArray().Select(t => (string?)t!["name"] ?? "").ToArray());
        Assert.Equal("per class", (string?)json["layout"]!["title"]!["text"]);
        Assert.Throws<ArgumentException>(() => Chart.Combine());
        Assert.Throws<ArgumentException>(() => Chart.Combine(Chart.Line(new[] { 1 }, new[] { 1 }), Chart.Surface(new[] { 1 }, new[] { 1 }, new[,] { { 1 } })));
    }

    [Fact]
    public void GridGivesEachChartItsAxesAndItsTitleAsPanelTitle()
    {
        var grid = Chart.Grid(2, 2,
                Chart.Line(new[] { 1, 2 }, new[] { 1.0, 2 }).WithTitle("loss").WithYAxis("cross-entropy", log: true),
                Chart.Heatmap(new[,] { { 1.0, 2 }, { 3, 4 } }).WithTitle("attention"),
                Chart.Surface(new[] { 0, 1 }, new[] { 0, 1 }, new[,] { { 1.0, 2 }, { 3, 4 } }).WithTitle("landscape").WithZAxis("loss"))
            .WithXAxis("epoch").WithSize(900, 700).WithTitle("overview");
        var json = Json(grid);
        var layout = json["layout"]!.AsObject();
        Assert.Equal("overview", (string?)layout["title"]!["text"]);
        Assert.Equal(2, (int)layout["grid"]!["rows"]!);
        Assert.Equal(2, (int)layout["grid"]!["columns"]!);
        var titles = layout["annotations"]!.AsArray().Select(a => (string?)a!["text"] ?? "").ToArray();
        Assert.Equal(["loss", "attention", "landscape"], titles.Where(t => t.Length > 0).ToArray());
        Assert.Equal("log", (string?)layout["yaxis"]!["type"]);                      // the first panel keeps its log axis
        Assert.Equal("cross-entropy", (string?)layout["yaxis"]!["title"]!["text"]);
        Assert.Equal("epoch", (string?)layout["xaxis"]!["title"]!["text"]);           // WithXAxis set every 2-D panel's x axis
        Assert.Equal("epoch", (string?)layout["xaxis2"]!["title"]!["text"]);
        Assert.Equal("loss", (string?)layout["scene3"]!["zaxis"]!["title"]!["text"]);
        var data = json["data"]!.AsArray();
        Assert.Equal("x2", (string?)data[1]!["xaxis"]);
        Assert.Equal("scene3", (string?)data[2]!["scene"]);
        var heatBar = data[1]!["colorbar"]!;                                          // beside its own panel, not at the right edge
        Assert.InRange((double)heatBar["x"]!, 0.9, 1.1);
        Assert.InRange((double)heatBar["y"]!, 0.5, 1.0);
        Assert.InRange((double)data[2]!["colorbar"]!["x"]!, 0.3, 0.6);
        Assert.Throws<ArgumentException>(() => Chart.Grid(1, 1, Chart.Line(new[] { 1 }, new[] { 1 }), Chart.Line(new[] { 1 }, new[] { 1 })));
        Assert.Throws<ArgumentException>(() => Chart.Grid(1, 2, grid));
        Assert.Throws<ArgumentOutOfRangeException>(() => Chart.Grid(0, 2, Chart.Line(new[] { 1 }, new[] { 1 })));
    }

    [Fact]
    public void GridGivesASeriesInSeveralPanelsOneColourAndOneLegendEntry()
    {
        GenericChart Panel(string title) => Chart.Combine(
            Chart.Line(new[] { 1, 2 }, new[] { 1.0, 2 }, name: "train"),
            Chart.Line(new[] { 1, 2 }, new[] { 2.0, 3 }, name: "test", color: "black")).WithTitle(title);
        var data = Json(Chart.Grid(1, 2, Panel("loss"), Panel("accuracy")))["data"]!.AsArray();
        Assert.Equal(["train", "test", "train", "test"], data.Select(t => (string?)t!["name"] ?? "").ToArray());
        Assert.Equal(["train", "test", "train", "test"], data.Select(t => (string?)t!["legendgroup"] ?? "").ToArray());
        Assert.Equal([true, true, false, false], data.Select(t => t!["showlegend"] is null || (bool)t["showlegend"]!).ToArray());
        Assert.Equal((string?)data[0]!["line"]!["color"], (string?)data[2]!["line"]!["color"]);
        Assert.Equal("black", (string?)data[3]!["line"]!["color"]);   // an explicit colour is kept
        Assert.Null(Json(Chart.Grid(1, 2, Chart.Line(new[] { 1 }, new[] { 1 }, name: "a"), Chart.Line(new[] { 1 }, new[] { 1 }, name: "b")))["data"]![1]!["legendgroup"]);
    }

    [Fact]
    public void GridLeavesTheChartsItIsGivenUnchanged()
    {
        var line = Chart.Line(new[] { 1, 2 }, new[] { 1.0, 2 }, errors: new[] { 0.1, 0.1 }).WithTitle("loss").WithXAxis("epoch").WithYAxis("loss", log: true);
        var before = GenericChart.toFigureJson(line);
        _ = Chart.Grid(1, 2, line, Chart.Bar(["a"], new[] { 1 }));
        _ = Chart.Combine(line, Chart.Line(new[] { 1, 2 }, new[] { 2.0, 1 }).WithXAxis("step"));
        _ = Chart.Grid(2, 1, Chart.Combine(line, line), line).WithXAxis("x").WithTitle("t").WithSize(300, 300);
        Assert.Equal(before, GenericChart.toFigureJson(line));
    }

    [Fact]
    public void SummaryNamesTitleAndTraces()
    {
        var chart = Chart.Combine(Chart.Line(new[] { 1, 2, 3 }, new[] { 0.3, 0.2, 0.1 }, name: "train"), Chart.Bar(["a"], new[] { 1 }))
            .WithTitle("loss");
        Assert.Equal("GenericChart 'loss': 2 traces (scatter 'train' 3 pts, bar 1 bars)", ChartFormatters.Summary(chart));
        Assert.Equal("GenericChart: 1×2 grid, 2 traces (heatmap 1×1, heatmap 1×1)",
            ChartFormatters.Summary(Chart.Grid(1, 2, Chart.Heatmap(new[,] { { 1 } }), Chart.Heatmap(new[,] { { 2 } }))));
    }
}
