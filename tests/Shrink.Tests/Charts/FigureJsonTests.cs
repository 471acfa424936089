using System.Text.Json.Nodes;
using Shrink.Charts;

namespace Shrink.Tests.Charts;

public class FigureJsonTests
{
    private static JsonNode Parse(Figure f) => JsonNode.Parse(f.ToJson())!;

    private static double?[] Numbers(JsonNode? array) =>
        array!.AsArray().Select(n => n is null ? (double?)null : n.GetValue<double>()).ToArray();

    private static readonly int[] Epochs = [1, 2, 3, 4];

    [Fact]
    public void LineChartHasTracesModesNamesAndAxisTitles()
    {
        var fig = Chart.Combine(
                Chart.Line(Epochs, new[] { 1.0, 0.5, 0.25, 0.125 }, name: "train"),
                Chart.Line(Epochs, new[] { 1.2f, 0.7f, 0.5f, 0.45f }, name: "test", markers: true))
            .WithTitle("loss").WithXAxis("epoch").WithYAxis("cross-entropy", log: true).WithSize(640, 400);
        var json = Parse(fig);

        var data = json["data"]!.AsArray();
        Assert.Equal(2, data.Count);
        Assert.Equal("scatter", (string?)data[0]!["type"]);
        Assert.Equal("train", (string?)data[0]!["name"]);
        Assert.Equal("lines", (string?)data[0]!["mode"]);
        Assert.Equal("lines+markers", (string?)data[1]!["mode"]);
        Assert.Equal(new double?[] { 1, 2, 3, 4 }, Numbers(data[0]!["x"]));
        Assert.Equal(new double?[] { 1, 0.5, 0.25, 0.125 }, Numbers(data[0]!["y"]));
        // floats keep their shortest decimal form: 0.7f is 0.7 in the JSON, not 0.699999988079071
        Assert.Equal(new double?[] { 1.2, 0.7, 0.5, 0.45 }, Numbers(data[1]!["y"]));
        Assert.Null(data[0]!["xaxis"]); // the first panel uses the default axes

        var layout = json["layout"]!;
        Assert.Equal("loss", (string?)layout["title"]!["text"]);
        Assert.Equal("epoch", (string?)layout["xaxis"]!["title"]!["text"]);
        Assert.Equal("cross-entropy", (string?)layout["yaxis"]!["title"]!["text"]);
        Assert.Equal("log", (string?)layout["yaxis"]!["type"]);
        Assert.Null(layout["xaxis"]!["type"]);
        Assert.Equal(640, (int)layout["width"]!);
        Assert.Equal(400, (int)layout["height"]!);
    }

    [Fact]
    public void ScatterOverCategoriesAndMarkersMode()
    {
        var json = Parse(Chart.Scatter(new[] { "a", "b" }, new[] { 3, 4 }, name: "pts", color: "red"));
        var t = json["data"]![0]!;
        Assert.Equal("markers", (string?)t["mode"]);
        Assert.Equal(["a", "b"], t["x"]!.AsArray().Select(n => (string)n!).ToArray());
        Assert.Equal("red", (string?)t["marker"]!["color"]);
    }

    [Fact]
    public void NaNAndInfinityBecomeNull()
    {
        var json = Parse(Chart.Line(new[] { 0.0, 1, 2, 3 }, new[] { 1.0, double.NaN, double.PositiveInfinity, 4 }));
        Assert.Equal(new double?[] { 1, null, null, 4 }, Numbers(json["data"]![0]!["y"]));

        var floats = Parse(Chart.Line(new[] { 0f, 1f }, new[] { float.NaN, 2f }));
        Assert.Equal(new double?[] { null, 2 }, Numbers(floats["data"]![0]!["y"]));

        var heat = Parse(Chart.Heatmap(new double[,] { { 1, double.NaN }, { double.NegativeInfinity, 4 } }));
        var z = heat["data"]![0]!["z"]!.AsArray();
        Assert.Equal(new double?[] { 1, null }, Numbers(z[0]));
        Assert.Equal(new double?[] { null, 4 }, Numbers(z[1]));
    }

    [Fact]
    public void ImageFlipsRowsSoRowZeroIsDrawnAtTheTop()
    {
        var t = Parse(Chart.Image(new float[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } }, "img"))["data"]![0]!;
        var rows = t["z"]!.AsArray();
        Assert.Equal(new double?[] { 5, 6 }, Numbers(rows[0]));   // heatmap row 0 is the bottom: the image's last row
        Assert.Equal(new double?[] { 1, 2 }, Numbers(rows[2]));
        Assert.Equal("Greys", (string?)t["colorscale"]);
        Assert.False((bool)t["showscale"]!);
        Assert.Null(t["reversescale"]);
        Assert.True((bool)Parse(Chart.Image(new float[,] { { 1 } }, reverseScale: true))["data"]![0]!["reversescale"]!);
    }

    [Fact]
    public void HeatmapRowsAreY()
    {
        var z = new double[,] { { 1, 2, 3 }, { 4, 5, 6 } };   // 2 rows (y) × 3 columns (x)
        var fig = Chart.Heatmap(z, xLabels: ["a", "b", "c"], yLabels: ["r0", "r1"], name: "h", colorscale: "Greys", valueFormat: ".1f");
        var t = Parse(fig)["data"]![0]!;
        Assert.Equal("heatmap", (string?)t["type"]);
        var rows = t["z"]!.AsArray();
        Assert.Equal(2, rows.Count);
        Assert.Equal(new double?[] { 1, 2, 3 }, Numbers(rows[0]));
        Assert.Equal(new double?[] { 4, 5, 6 }, Numbers(rows[1]));
        Assert.Equal(["a", "b", "c"], t["x"]!.AsArray().Select(n => (string)n!).ToArray());
        Assert.Equal(["r0", "r1"], t["y"]!.AsArray().Select(n => (string)n!).ToArray());
        Assert.Equal("Greys", (string?)t["colorscale"]);
        Assert.Equal("%{z:.1f}", (string?)t["texttemplate"]);

        // a jagged z gives the same JSON
        var jagged = Chart.Heatmap(new[] { new[] { 1f, 2f, 3f }, new[] { 4f, 5f, 6f } }, ["a", "b", "c"], ["r0", "r1"], name: "h", colorscale: "Greys", valueFormat: ".1f");
        Assert.Equal(fig.ToJson(), jagged.ToJson());

        var heatmap = (Heatmap)fig.Traces[0];
        Assert.Equal(2, heatmap.Rows);
        Assert.Equal(3, heatmap.Columns);
        Assert.Equal(6, heatmap.Z[1][2]);
    }

    [Fact]
    public void ContourAndSurfaceCarryNumericAxes()
    {
        double[] x = [-1, 0, 1], y = [-2, 2];
        var z = new double[2][] { [1, 0, 1], [5, 4, 5] };
        var contour = Parse(Chart.Contour(x, y, z, showLabels: true))["data"]![0]!;
        Assert.Equal("contour", (string?)contour["type"]);
        Assert.Equal(new double?[] { -1, 0, 1 }, Numbers(contour["x"]));
        Assert.Equal(new double?[] { -2, 2 }, Numbers(contour["y"]));
        Assert.True((bool)contour["contours"]!["showlabels"]!);

        var surfaceFig = Chart.Surface(x, y, z).WithXAxis("α").WithYAxis("β").WithZAxis("loss");
        var surface = Parse(surfaceFig);
        Assert.Equal("surface", (string?)surface["data"]![0]!["type"]);
        Assert.Null(surface["data"]![0]!["scene"]);  // the first scene is the default
        Assert.Equal("α", (string?)surface["layout"]!["scene"]!["xaxis"]!["title"]!["text"]);
        Assert.Equal("loss", (string?)surface["layout"]!["scene"]!["zaxis"]!["title"]!["text"]);
        Assert.Null(surface["layout"]!["xaxis"]);
        Assert.Contains("z: loss", surfaceFig.ToString());
    }

    [Fact]
    public void ErrorBarsOnLinesAndGroupedBars()
    {
        var line = Parse(Chart.Line(Epochs, new[] { 0.5, 0.6, 0.7, 0.8 }, name: "acc", errors: new[] { 0.01, 0.02, double.NaN, 0.04 }));
        var ey = line["data"]![0]!["error_y"]!;
        Assert.Equal("data", (string?)ey["type"]);
        Assert.True((bool)ey["visible"]!);
        Assert.Equal(new double?[] { 0.01, 0.02, null, 0.04 }, Numbers(ey["array"]));

        var bars = Chart.Combine(
            Chart.Bar(["ViT", "DeiT"], new[] { 0.85, 0.87 }, new[] { 0.01, 0.02 }, name: "dense"),
            Chart.Bar(["ViT", "DeiT"], new[] { 0.84, 0.86 }, name: "pruned"));
        var json = Parse(bars);
        Assert.Equal("group", (string?)json["layout"]!["barmode"]);
        var b0 = json["data"]![0]!;
        Assert.Equal("bar", (string?)b0["type"]);
        Assert.Equal(["ViT", "DeiT"], b0["x"]!.AsArray().Select(n => (string)n!).ToArray());
        Assert.Equal(new double?[] { 0.01, 0.02 }, Numbers(b0["error_y"]!["array"]));
        Assert.Null(json["data"]![1]!["error_y"]);
    }

    [Fact]
    public void GridAssignsAxesDomainsAndPanelTitles()
    {
        var a = Chart.Line(Epochs, new[] { 4.0, 3, 2, 1 }, name: "loss").WithTitle("loss").WithXAxis("epoch");
        var b = Chart.Heatmap(new double[,] { { 1, 2 }, { 3, 4 } }).WithTitle("attention");
        var c = Chart.Surface(new[] { 0, 1 }, new[] { 0, 1 }, new double[,] { { 0, 1 }, { 1, 2 } }).WithTitle("landscape");
        var d = Chart.Bar(["x", "y"], new[] { 1, 2 }).WithTitle("bars").WithYAxis("count", log: true);
        var grid = Chart.Grid(2, 2, a, b, c, d).WithTitle("overview");
        Assert.Equal(4, grid.PanelCount);
        var json = Parse(grid);
        var data = json["data"]!.AsArray();
        var layout = json["layout"]!;

        Assert.Null(data[0]!["xaxis"]);                       // panel 0: x / y
        Assert.Equal("x2", (string?)data[1]!["xaxis"]);        // panel 1: x2 / y2
        Assert.Equal("y2", (string?)data[1]!["yaxis"]);
        Assert.Null(data[2]!["xaxis"]);                       // panel 2: 3-D, the first scene
        Assert.Null(data[2]!["scene"]);
        Assert.Equal("x3", (string?)data[3]!["xaxis"]);        // panel 3: the third 2-D panel
        Assert.Equal("y3", (string?)data[3]!["yaxis"]);

        Assert.Equal("y", (string?)layout["xaxis"]!["anchor"]);
        Assert.Equal("x2", (string?)layout["yaxis2"]!["anchor"]);
        Assert.Equal("epoch", (string?)layout["xaxis"]!["title"]!["text"]);
        Assert.Equal("log", (string?)layout["yaxis3"]!["type"]);
        Assert.Equal("count", (string?)layout["yaxis3"]!["title"]!["text"]);

        var x0 = Numbers(layout["xaxis"]!["domain"]);
        var x1 = Numbers(layout["xaxis2"]!["domain"]);
        var y0 = Numbers(layout["yaxis"]!["domain"]);
        var y3 = Numbers(layout["yaxis3"]!["domain"]);
        Assert.Equal(0, x0[0]);
        Assert.True(x0[1] < x1[0], "columns must not overlap");
        Assert.Equal(1, x1[1]);
        Assert.True(y3[1] < y0[0], "the second row is below the first");
        var scene = layout["scene"]!["domain"]!;
        Assert.Equal(x0, Numbers(scene["x"]));
        Assert.Equal(y3, Numbers(scene["y"]));

        // the heatmap's colour bar sits right of its own panel
        Assert.Equal(Math.Round(x1[1]!.Value + 0.01, 4), (double)data[1]!["colorbar"]!["x"]!);

        var titles = layout["annotations"]!.AsArray().Select(n => (string)n!["text"]!).ToArray();
        Assert.Equal(["loss", "attention", "landscape", "bars"], titles);
        Assert.Equal("overview", (string?)layout["title"]!["text"]);
        Assert.Equal(700, (int)layout["height"]!);
        Assert.Equal("Figure 'overview': 2×2 grid, 4 traces (scatter 'loss' 4 pts, heatmap 2×2, surface 2×2, bar 2 bars); x: epoch", grid.ToString());
    }

    [Fact]
    public void AxisRangesOnLinearAndLogAxes()
    {
        var layout = Parse(Chart.Line(Epochs, Epochs).WithXAxis("x", min: 0, max: 5).WithYAxis("y", log: true, min: 0.01, max: 10))["layout"]!;
        Assert.Equal(new double?[] { 0, 5 }, Numbers(layout["xaxis"]!["range"]));
        Assert.Equal(new double?[] { -2, 1 }, Numbers(layout["yaxis"]!["range"]));   // log10 units on a log axis

        var half = Parse(Chart.Line(Epochs, Epochs).WithYAxis("acc", min: 0))["layout"]!["yaxis"]!;
        Assert.Equal(new double?[] { 0, null }, Numbers(half["range"]));
        Assert.Equal("max", (string?)half["autorange"]);

        Assert.Throws<ArgumentException>(() => Chart.Line(Epochs, Epochs).WithYAxis("y", min: 2, max: 1));
        Assert.Throws<ArgumentException>(() => Chart.Line(Epochs, Epochs).WithYAxis("y", log: true, min: 0, max: 1));
    }

    [Fact]
    public void StringsAreEscapedForAScriptElement()
    {
        var json = Chart.Line(Epochs, Epochs, name: "</script><b>&").WithTitle("accuracy ± std (τ = 4)").ToJson();
        Assert.DoesNotContain("</script", json);
        Assert.DoesNotContain("<b>", json);
        Assert.Contains("\\u003C/script\\u003E", json);
        Assert.Contains("accuracy ± std (τ = 4)", json);   // non-ASCII text stays readable
        Assert.Equal("</script><b>&", (string?)JsonNode.Parse(json)!["data"]![0]!["name"]);
    }

    [Fact]
    public void ShapeErrorsNameTheTrace()
    {
        var e = Assert.Throws<ArgumentException>(() => Chart.Line(new[] { 1, 2, 3 }, new[] { 1.0, 2, 3, 4 }, name: "train"));
        Assert.Contains("Scatter 'train'", e.Message);
        Assert.Contains("x has 3 values but y has 4", e.Message);

        e = Assert.Throws<ArgumentException>(() => Chart.Line(Epochs, new[] { 1.0, 2, 3, 4 }, name: "acc", errors: new[] { 0.1, 0.2 }));
        Assert.Contains("Scatter 'acc': errors has 2 values but y has 4", e.Message);

        e = Assert.Throws<ArgumentException>(() => Chart.Bar(["a", "b"], new[] { 1.0 }, name: "bars"));
        Assert.Contains("Bar 'bars': categories has 2 values but values has 1", e.Message);

        e = Assert.Throws<ArgumentException>(() => Chart.Heatmap(new[] { new[] { 1.0, 2 }, new[] { 3.0 } }, name: "attn"));
        Assert.Contains("Heatmap 'attn'", e.Message);
        Assert.Contains("ragged: row 1 has 1 values but row 0 has 2", e.Message);

        e = Assert.Throws<ArgumentException>(() => Chart.Heatmap(new double[2, 3], xLabels: ["a", "b"]));
        Assert.Contains("Heatmap: x has 2 values but z has 3 columns", e.Message);

        e = Assert.Throws<ArgumentException>(() => Chart.Contour(new[] { 0, 1, 2 }, new[] { 0, 1, 2 }, new double[2, 3], name: "landscape"));
        Assert.Contains("Contour 'landscape': y has 3 values but z has 2 rows", e.Message);

        e = Assert.Throws<ArgumentException>(() => Chart.Surface(new[] { 0 }, new[] { 0 }, new double[0, 0]));
        Assert.Contains("Surface: z is empty", e.Message);

        e = Assert.Throws<ArgumentException>(() => Chart.Combine(Chart.Line(Epochs, Epochs), Chart.Surface(new[] { 0, 1 }, new[] { 0 }, new double[,] { { 1, 2 } })));
        Assert.Contains("3-D", e.Message);
        Assert.Contains("Chart.Grid", e.Message);

        var grid = Chart.Grid(1, 2, Chart.Line(Epochs, Epochs), Chart.Line(Epochs, Epochs));
        Assert.Throws<ArgumentException>(() => Chart.Combine(grid, Chart.Line(Epochs, Epochs)));
        Assert.Throws<ArgumentException>(() => Chart.Grid(2, 2, grid));
        e = Assert.Throws<ArgumentException>(() => Chart.Grid(1, 1, Chart.Line(Epochs, Epochs), Chart.Line(Epochs, Epochs)));
        Assert.Contains("1 cells but 2 figures", e.Message);
    }

    [Fact]
    public void CombineTakesLayoutFromTheFirstFigureThatSetsIt()
    {
        var fig = Chart.Combine(
            Chart.Line(Epochs, Epochs, name: "a"),
            Chart.Line(Epochs, Epochs, name: "b").WithTitle("t").WithXAxis("epoch").WithSize(300, 200),
            Chart.Line(Epochs, Epochs, name: "c").WithTitle("ignored").WithYAxis("acc"));
        Assert.Equal("t", fig.Title);
        Assert.Equal("epoch", fig.XAxis.Title);
        Assert.Equal("acc", fig.YAxis.Title);
        Assert.Equal((300, 200), (fig.Width!.Value, fig.Height!.Value));
        Assert.Equal(["a", "b", "c"], fig.Traces.Select(t => t.Name!).ToArray());
    }

    [Fact]
    public void ToStringSummarisesTracesAndAxes()
    {
        var xs = Enumerable.Range(1, 30).ToArray();
        var ys = xs.Select(x => 1.0 / x).ToArray();
        var fig = Chart.Combine(Chart.Line(xs, ys, name: "train"), Chart.Line(xs, ys, name: "test"))
            .WithTitle("loss").WithXAxis("epoch").WithYAxis("loss");
        Assert.Equal("Figure 'loss': 2 traces (scatter 'train' 30 pts, scatter 'test' 30 pts); x: epoch, y: loss", fig.ToString());
        Assert.Equal("Figure: 1 trace (heatmap 2×3); y: p (log)", Chart.Heatmap(new float[2, 3]).WithYAxis("p", log: true).ToString());
    }

    [Fact]
    public void FiguresAreImmutable()
    {
        var a = Chart.Line(Epochs, Epochs);
        var b = a.WithTitle("b").WithXAxis("x").WithLegend(false);
        Assert.Null(a.Title);
        Assert.True(a.XAxis.IsDefault);
        Assert.Null(a.ShowLegend);
        Assert.Equal("b", b.Title);
        Assert.False(b.ShowLegend);
        Assert.False((bool)JsonNode.Parse(b.ToJson())!["layout"]!["showlegend"]!);
        Assert.Equal(2, a.Add(b.Traces[0]).Traces.Count);
        Assert.Single(a.Traces);
    }

    [Fact]
    public void IndentedJsonIsTheSameFigure()
    {
        var fig = Chart.Line(Epochs, Epochs, name: "n").WithTitle("t");
        var indented = fig.ToJson(indented: true);
        Assert.Contains("\n", indented);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(fig.ToJson()), JsonNode.Parse(indented)));
    }
}
