using System.Numerics;
using Plotly.NET;
using PlotlyChart = Plotly.NET.CSharp.Chart;

namespace Shrink.Charts;

/// <summary>
/// Short constructors of Plotly.NET charts for notebook cells. Every method returns a Plotly.NET
/// <see cref="GenericChart"/>; overlay charts with <see cref="Combine"/>, lay them out side by side with
/// <see cref="Grid"/>, and finish with the <see cref="ChartLayout"/> extensions (<c>WithTitle</c>, <c>WithXAxis</c>,
/// <c>WithYAxis</c>, <c>WithZAxis</c>, <c>WithSize</c>, <c>WithLegend</c>). Anything else Plotly.NET offers applies
/// to the result directly (<c>Plotly.NET.Chart.with…</c>, <c>GenericChart.toFigureJson</c>, …).
/// <para>
/// Numbers may be any numeric type (<c>double[]</c>, <c>float[]</c>, <c>int</c> ranges, LINQ sequences); matrices
/// are <c>T[,]</c> or jagged <c>T[][]</c> with <c>z[row][column]</c>, row = y. NaN and infinities become gaps (JSON
/// null). Shape mismatches throw <see cref="ArgumentException"/> naming the trace. The inputs are copied: the chart
/// does not change when the arrays do, and the <c>With…</c> extensions and <see cref="Combine"/>/<see cref="Grid"/>
/// never change the charts they are given.
/// </para>
/// </summary>
public static class Chart
{
    /// <summary>The default colour scale of matrix traces.</summary>
    public const string DefaultColorscale = "Viridis";

    // ------------------------------------------------------------------ lines and points

    /// <summary>A line through (x, y), optionally with error bars (e.g. the std over seeds).</summary>
    public static GenericChart Line<TX, TY>(IEnumerable<TX> x, IEnumerable<TY> y, string? name = null, IEnumerable<TY>? errors = null,
                                            bool markers = false, string? color = null)
        where TX : INumberBase<TX> where TY : INumberBase<TY> =>
        Xy(Series.ToDoubles(x, nameof(x)), y, name, errors, markers ? XyMode.LinesAndMarkers : XyMode.Lines, color);

    /// <summary>A line over category labels (x), optionally with error bars.</summary>
    public static GenericChart Line<TY>(IEnumerable<string> x, IEnumerable<TY> y, string? name = null, IEnumerable<TY>? errors = null,
                                        bool markers = false, string? color = null)
        where TY : INumberBase<TY> =>
        Xy(Series.Labels(x, nameof(x)), y, name, errors, markers ? XyMode.LinesAndMarkers : XyMode.Lines, color);

    /// <summary>Markers at (x, y), optionally with error bars.</summary>
    public static GenericChart Scatter<TX, TY>(IEnumerable<TX> x, IEnumerable<TY> y, string? name = null, IEnumerable<TY>? errors = null, string? color = null)
        where TX : INumberBase<TX> where TY : INumberBase<TY> =>
        Xy(Series.ToDoubles(x, nameof(x)), y, name, errors, XyMode.Markers, color);

    /// <summary>Markers over category labels (x), optionally with error bars.</summary>
    public static GenericChart Scatter<TY>(IEnumerable<string> x, IEnumerable<TY> y, string? name = null, IEnumerable<TY>? errors = null, string? color = null)
        where TY : INumberBase<TY> =>
        Xy(Series.Labels(x, nameof(x)), y, name, errors, XyMode.Markers, color);

    private enum XyMode { Lines, Markers, LinesAndMarkers }

    private static GenericChart Xy<TX, TY>(TX[] x, IEnumerable<TY> y, string? name, IEnumerable<TY>? errors, XyMode mode, string? color)
        where TX : IConvertible where TY : INumberBase<TY>
    {
        var label = Series.Label("Scatter", name);
        var ys = Series.ToDoubles(y, nameof(y));
        Series.CheckLength(x.Length, ys.Length, label, "x", "y", "x");
        var errs = errors is null ? null : Series.ToDoubles(errors, nameof(errors));
        if (errs is not null) Series.CheckLength(errs.Length, ys.Length, label, "errors", "y", "errors");

        var chart = mode == XyMode.Markers
            ? PlotlyChart.Point<TX, double, string>(x, ys, Name: Opt(name))
            : PlotlyChart.Line<TX, double, string>(x, ys, ShowMarkers: mode == XyMode.LinesAndMarkers, Name: Opt(name));
        var trace = Traces.Single(chart);
        Traces.SetNumbers(trace, "y", ys);
        if (x is double[] xs) Traces.SetNumbers(trace, "x", xs);
        if (errs is not null) Traces.SetErrorBars(trace, "error_y", errs);
        if (color is not null)
        {
            Traces.Style(trace, "line", "color", color);
            Traces.Style(trace, "marker", "color", color);
        }
        return chart;
    }

    // ------------------------------------------------------------------ bars

    /// <summary>One bar per category, optionally with error bars. Combine several to group them per category.</summary>
    public static GenericChart Bar<T>(IEnumerable<string> categories, IEnumerable<T> values, IEnumerable<T>? errors = null, string? name = null, string? color = null)
        where T : INumberBase<T>
    {
        var label = Series.Label("Bar", name);
        var keys = Series.Labels(categories, nameof(categories));
        var vs = Series.ToDoubles(values, nameof(values));
        Series.CheckLength(keys.Length, vs.Length, label, "categories", "values", "categories");
        var errs = errors is null ? null : Series.ToDoubles(errors, nameof(errors));
        if (errs is not null) Series.CheckLength(errs.Length, vs.Length, label, "errors", "values", "errors");

        var chart = PlotlyChart.Column<double, string, string>(vs, Keys: keys, Name: Opt(name));
        var trace = Traces.Single(chart);
        Traces.SetNumbers(trace, "y", vs);
        if (errs is not null) Traces.SetErrorBars(trace, "error_y", errs);
        if (color is not null) Traces.Style(trace, "marker", "color", color);
        return chart;
    }

    // ------------------------------------------------------------------ matrices

    /// <summary>
    /// A heatmap of <paramref name="z"/> (<c>z[row, column]</c>, row = y, drawn bottom-up) with optional labels;
    /// <paramref name="valueFormat"/> (a d3 format such as <c>.2f</c>, or "" for the default) writes each value in its cell.
    /// </summary>
    public static GenericChart Heatmap<T>(T[,] z, IEnumerable<string>? xLabels = null, IEnumerable<string>? yLabels = null, string? name = null,
                                          string colorscale = DefaultColorscale, string? valueFormat = null)
        where T : INumberBase<T> =>
        HeatmapOf(Series.ToRows(z, Series.Label("Heatmap", name)), xLabels, yLabels, name, colorscale, valueFormat);

    /// <summary>A heatmap of jagged <paramref name="z"/> (<c>z[row][column]</c>, row = y); see <see cref="Heatmap{T}(T[,], IEnumerable{string}?, IEnumerable{string}?, string?, string, string?)"/>.</summary>
    public static GenericChart Heatmap<T>(IEnumerable<IEnumerable<T>> z, IEnumerable<string>? xLabels = null, IEnumerable<string>? yLabels = null, string? name = null,
                                          string colorscale = DefaultColorscale, string? valueFormat = null)
        where T : INumberBase<T> =>
        HeatmapOf(Series.ToRows(z, Series.Label("Heatmap", name)), xLabels, yLabels, name, colorscale, valueFormat);

    private static GenericChart HeatmapOf(double[][] z, IEnumerable<string>? xLabels, IEnumerable<string>? yLabels, string? name, string colorscale, string? valueFormat)
    {
        var label = Series.Label("Heatmap", name);
        var x = xLabels is null ? null : Series.Labels(xLabels, nameof(xLabels));
        var y = yLabels is null ? null : Series.Labels(yLabels, nameof(yLabels));
        Series.CheckMatrixAxes(z, x?.Length, y?.Length, label);
        var chart = x is null && y is null
            ? PlotlyChart.Heatmap<double, string, string, string>(z, Name: Opt(name))
            : x is null
                ? PlotlyChart.Heatmap<double, string, string, string>(z, Y: y!, Name: Opt(name))
                : y is null
                    ? PlotlyChart.Heatmap<double, string, string, string>(z, X: x, Name: Opt(name))
                    : PlotlyChart.Heatmap<double, string, string, string>(z, X: x, Y: y, Name: Opt(name));
        var trace = Traces.Single(chart);
        Traces.SetMatrix(trace, z, colorscale);
        if (valueFormat is not null)
        {
            trace.SetProperty("texttemplate", valueFormat.Length == 0 ? "%{z}" : "%{z:" + valueFormat + "}");
            trace.SetProperty("hovertemplate", "x: %{x}<br>y: %{y}<br>z: %{z}<extra></extra>");
        }
        return chart;
    }

    /// <summary>
    /// A single-channel image <paramref name="pixels"/> (<c>pixels[row, column]</c>, row 0 at the top, as images are stored)
    /// drawn as a heatmap without a colour bar. Heatmaps draw row 0 at the bottom, so the rows are flipped here and the
    /// picture appears the right way up. The default grey scale ("Greys") draws low values black and high values white, as
    /// the images are usually shown; <paramref name="reverseScale"/> swaps the ends (checked in Chromium).
    /// </summary>
    public static GenericChart Image<T>(T[,] pixels, string? name = null, string colorscale = "Greys", bool reverseScale = false)
        where T : INumberBase<T>
    {
        var rows = Series.ToRows(pixels, Series.Label("Image", name));
        Array.Reverse(rows);
        var chart = PlotlyChart.Heatmap<double, string, string, string>(rows, Name: Opt(name), ShowScale: false, ReverseScale: reverseScale);
        Traces.SetMatrix(Traces.Single(chart), rows, colorscale);
        return chart;
    }

    /// <summary>Contours of <paramref name="z"/> (<c>z[row, column]</c>) over x (one per column) and y (one per row).</summary>
    public static GenericChart Contour<TX, TY, TZ>(IEnumerable<TX> x, IEnumerable<TY> y, TZ[,] z, string? name = null,
                                                   string colorscale = DefaultColorscale, bool showLabels = false)
        where TX : INumberBase<TX> where TY : INumberBase<TY> where TZ : INumberBase<TZ> =>
        ContourOf(Series.ToDoubles(x, nameof(x)), Series.ToDoubles(y, nameof(y)), Series.ToRows(z, Series.Label("Contour", name)), name, colorscale, showLabels);

    /// <summary>Contours of jagged <paramref name="z"/> (<c>z[row][column]</c>) over x (one per column) and y (one per row).</summary>
    public static GenericChart Contour<TX, TY, TZ>(IEnumerable<TX> x, IEnumerable<TY> y, IEnumerable<IEnumerable<TZ>> z, string? name = null,
                                                   string colorscale = DefaultColorscale, bool showLabels = false)
        where TX : INumberBase<TX> where TY : INumberBase<TY> where TZ : INumberBase<TZ> =>
        ContourOf(Series.ToDoubles(x, nameof(x)), Series.ToDoubles(y, nameof(y)), Series.ToRows(z, Series.Label("Contour", name)), name, colorscale, showLabels);

    private static GenericChart ContourOf(double[] x, double[] y, double[][] z, string? name, string colorscale, bool showLabels)
    {
        Series.CheckMatrixAxes(z, x.Length, y.Length, Series.Label("Contour", name));
        var chart = PlotlyChart.Contour<double, double, double, string>(z, Name: Opt(name), X: x, Y: y, ShowContoursLabels: showLabels);
        var trace = Traces.Single(chart);
        Traces.SetMatrix(trace, z, colorscale);
        Traces.SetNumbers(trace, "x", x);
        Traces.SetNumbers(trace, "y", y);
        return chart;
    }

    /// <summary>A 3-D surface of <paramref name="z"/> (<c>z[row, column]</c>) over x (one per column) and y (one per row).</summary>
    public static GenericChart Surface<TX, TY, TZ>(IEnumerable<TX> x, IEnumerable<TY> y, TZ[,] z, string? name = null, string colorscale = DefaultColorscale)
        where TX : INumberBase<TX> where TY : INumberBase<TY> where TZ : INumberBase<TZ> =>
        SurfaceOf(Series.ToDoubles(x, nameof(x)), Series.ToDoubles(y, nameof(y)), Series.ToRows(z, Series.Label("Surface", name)), name, colorscale);

    /// <summary>A 3-D surface of jagged <paramref name="z"/> (<c>z[row][column]</c>) over x (one per column) and y (one per row).</summary>
    public static GenericChart Surface<TX, TY, TZ>(IEnumerable<TX> x, IEnumerable<TY> y, IEnumerable<IEnumerable<TZ>> z, string? name = null, string colorscale = DefaultColorscale)
        where TX : INumberBase<TX> where TY : INumberBase<TY> where TZ : INumberBase<TZ> =>
        SurfaceOf(Series.ToDoubles(x, nameof(x)), Series.ToDoubles(y, nameof(y)), Series.ToRows(z, Series.Label("Surface", name)), name, colorscale);

    private static GenericChart SurfaceOf(double[] x, double[] y, double[][] z, string? name, string colorscale)
    {
        Series.CheckMatrixAxes(z, x.Length, y.Length, Series.Label("Surface", name));
        var chart = PlotlyChart.Surface<double, double, double, string>(z, X: x, Y: y, Name: Opt(name));
        var trace = Traces.Single(chart);
        Traces.SetMatrix(trace, z, colorscale);
        Traces.SetNumbers(trace, "x", x);
        Traces.SetNumbers(trace, "y", y);
        return chart;
    }

    // ------------------------------------------------------------------ composition

    /// <summary>
    /// Overlays single-panel charts on one set of axes (Plotly.NET's <c>Chart.Combine</c>): all traces, in order; the
    /// layouts are merged (later charts' settings win where both set one). Bars of several charts are grouped per category.
    /// </summary>
    public static GenericChart Combine(params GenericChart[] charts)
    {
        ArgumentNullException.ThrowIfNull(charts);
        if (charts.Length == 0) throw new ArgumentException("Combine needs at least one chart.", nameof(charts));
        for (int i = 0; i < charts.Length; i++)
        {
            var c = charts[i] ?? throw new ArgumentException($"Combine: chart {i} is null.", nameof(charts));
            if (ChartLayout.IsGrid(c)) throw new ArgumentException($"Combine: chart {i} is a grid; only single-panel charts can be overlaid.", nameof(charts));
        }
        var copies = charts.Select(ChartLayout.Copy).ToArray();
        bool threeD = copies.Any(Traces.Is3D), flat = copies.Any(c => !Traces.Is3D(c));
        if (threeD && flat)
            throw new ArgumentException("Combine: 3-D charts (surfaces) cannot be overlaid on x/y axes; put them side by side with Chart.Grid.", nameof(charts));
        return PlotlyChart.Combine(copies);
    }

    /// <summary>
    /// Lays single-panel charts out in a <paramref name="rows"/> × <paramref name="cols"/> grid, row by row
    /// (Plotly.NET's <c>Chart.Grid</c>): each keeps its traces and axes, on its own axes (<c>xaxis2</c>, … or
    /// <c>scene2</c>, … for 3-D), and its title becomes the panel's title. Colour bars are placed beside their panel.
    /// Fewer charts than cells leave the last cells empty. Unless a chart sets a height, the grid is 350 px per row.
    /// </summary>
    public static GenericChart Grid(int rows, int cols, params GenericChart[] charts)
    {
        ArgumentNullException.ThrowIfNull(charts);
        if (rows < 1 || cols < 1) throw new ArgumentOutOfRangeException(rows < 1 ? nameof(rows) : nameof(cols), $"Grid({rows}, {cols}): rows and cols must be at least 1.");
        if (charts.Length == 0) throw new ArgumentException($"Grid({rows}, {cols}) needs at least one chart.", nameof(charts));
        if (charts.Length > rows * cols)
            throw new ArgumentException($"Grid({rows}, {cols}) has {rows * cols} cells but {charts.Length} charts were given.", nameof(charts));
        for (int i = 0; i < charts.Length; i++)
        {
            var c = charts[i] ?? throw new ArgumentException($"Grid: chart {i} is null.", nameof(charts));
            if (ChartLayout.IsGrid(c)) throw new ArgumentException($"Grid: chart {i} is itself a grid; grids do not nest.", nameof(charts));
        }
        return GridLayout.Build(rows, cols, charts);
    }

    /// <summary>A Plotly.NET.CSharp optional argument: absent for null.</summary>
    private static Plotly.NET.CSharp.Optional<string> Opt(string? value) => value is null ? default : new(value, true);
}
