using System.Numerics;

namespace Shrink.Charts;

/// <summary>
/// Short constructors of Plotly figures for notebook cells. Every method returns a <see cref="Figure"/>; overlay
/// figures with <see cref="Combine"/>, lay them out side by side with <see cref="Grid"/>, and finish with
/// <see cref="Figure.WithTitle"/>, <see cref="Figure.WithXAxis"/>, <see cref="Figure.WithYAxis"/>, <see cref="Figure.WithSize"/>.
/// <para>
/// Numbers may be any numeric type (<c>double[]</c>, <c>float[]</c>, <c>int</c> ranges, LINQ sequences); matrices
/// are <c>T[,]</c> or jagged <c>T[][]</c> with <c>z[row][column]</c>, row = y. NaN becomes a gap (JSON null).
/// Shape mismatches throw <see cref="ArgumentException"/> naming the trace.
/// </para>
/// </summary>
public static class Chart
{
    /// <summary>The default colour scale of matrix traces.</summary>
    public const string DefaultColorscale = "Viridis";

    // ------------------------------------------------------------------ lines and points

    /// <summary>A line through (x, y), optionally with error bars (e.g. the std over seeds).</summary>
    public static Figure Line<TX, TY>(IEnumerable<TX> x, IEnumerable<TY> y, string? name = null, IEnumerable<TY>? errors = null,
                                      bool markers = false, string? color = null)
        where TX : INumberBase<TX> where TY : INumberBase<TY> =>
        Xy(Coordinates.Of(x, nameof(x)), y, name, errors, markers ? ScatterMode.LinesAndMarkers : ScatterMode.Lines, color);

    /// <summary>A line over category labels (x), optionally with error bars.</summary>
    public static Figure Line<TY>(IEnumerable<string> x, IEnumerable<TY> y, string? name = null, IEnumerable<TY>? errors = null,
                                  bool markers = false, string? color = null)
        where TY : INumberBase<TY> =>
        Xy(Coordinates.Of(x, nameof(x)), y, name, errors, markers ? ScatterMode.LinesAndMarkers : ScatterMode.Lines, color);

    /// <summary>Markers at (x, y), optionally with error bars.</summary>
    public static Figure Scatter<TX, TY>(IEnumerable<TX> x, IEnumerable<TY> y, string? name = null, IEnumerable<TY>? errors = null, string? color = null)
        where TX : INumberBase<TX> where TY : INumberBase<TY> =>
        Xy(Coordinates.Of(x, nameof(x)), y, name, errors, ScatterMode.Markers, color);

    /// <summary>Markers over category labels (x), optionally with error bars.</summary>
    public static Figure Scatter<TY>(IEnumerable<string> x, IEnumerable<TY> y, string? name = null, IEnumerable<TY>? errors = null, string? color = null)
        where TY : INumberBase<TY> =>
        Xy(Coordinates.Of(x, nameof(x)), y, name, errors, ScatterMode.Markers, color);

    private static Figure Xy<TY>(Coordinates x, IEnumerable<TY> y, string? name, IEnumerable<TY>? errors, ScatterMode mode, string? color)
        where TY : INumberBase<TY> =>
        new(new Scatter(x, Series.ToDoubles(y, nameof(y)), mode, name, errors is null ? null : Series.ToDoubles(errors, nameof(errors)), color));

    // ------------------------------------------------------------------ bars

    /// <summary>One bar per category, optionally with error bars. Combine several to group them per category.</summary>
    public static Figure Bar<T>(IEnumerable<string> categories, IEnumerable<T> values, IEnumerable<T>? errors = null, string? name = null, string? color = null)
        where T : INumberBase<T> =>
        new(new Bar(Coordinates.Of(categories, nameof(categories)), Series.ToDoubles(values, nameof(values)),
                    errors is null ? null : Series.ToDoubles(errors, nameof(errors)), name, color));

    // ------------------------------------------------------------------ matrices

    /// <summary>
    /// A heatmap of <paramref name="z"/> (<c>z[row, column]</c>, row = y, drawn bottom-up) with optional labels;
    /// <paramref name="valueFormat"/> (a d3 format such as <c>.2f</c>, or "" for the default) writes each value in its cell.
    /// </summary>
    public static Figure Heatmap<T>(T[,] z, IEnumerable<string>? xLabels = null, IEnumerable<string>? yLabels = null, string? name = null,
                                    string colorscale = DefaultColorscale, string? valueFormat = null)
        where T : INumberBase<T> =>
        new(new Heatmap(Series.ToRows(z, Series.Label("Heatmap", name)), Labels(xLabels, nameof(xLabels)), Labels(yLabels, nameof(yLabels)), name, colorscale, valueFormat));

    /// <summary>A heatmap of jagged <paramref name="z"/> (<c>z[row][column]</c>, row = y); see <see cref="Heatmap{T}(T[,], IEnumerable{string}?, IEnumerable{string}?, string?, string, string?)"/>.</summary>
    public static Figure Heatmap<T>(IEnumerable<IEnumerable<T>> z, IEnumerable<string>? xLabels = null, IEnumerable<string>? yLabels = null, string? name = null,
                                    string colorscale = DefaultColorscale, string? valueFormat = null)
        where T : INumberBase<T> =>
        new(new Heatmap(Series.ToRows(z, Series.Label("Heatmap", name)), Labels(xLabels, nameof(xLabels)), Labels(yLabels, nameof(yLabels)), name, colorscale, valueFormat));

    /// <summary>
    /// A single-channel image <paramref name="pixels"/> (<c>pixels[row, column]</c>, row 0 at the top, as images are stored)
    /// drawn as a heatmap without a colour bar. Heatmaps draw row 0 at the bottom, so the rows are flipped here and the
    /// picture appears the right way up. The default grey scale ("Greys") draws low values black and high values white, as
    /// the images are usually shown; <paramref name="reverseScale"/> swaps the ends (checked in Chromium).
    /// </summary>
    public static Figure Image<T>(T[,] pixels, string? name = null, string colorscale = "Greys", bool reverseScale = false)
        where T : INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(pixels);
        int h = pixels.GetLength(0), w = pixels.GetLength(1);
        var flipped = new T[h, w];
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) flipped[r, c] = pixels[h - 1 - r, c];
        return new(new Heatmap(Series.ToRows(flipped, Series.Label("Image", name)), null, null, name, colorscale, null)
        {
            ShowScale = false,
            ReverseScale = reverseScale,
        });
    }

    /// <summary>Contours of <paramref name="z"/> (<c>z[row, column]</c>) over x (one per column) and y (one per row).</summary>
    public static Figure Contour<TX, TY, TZ>(IEnumerable<TX> x, IEnumerable<TY> y, TZ[,] z, string? name = null,
                                             string colorscale = DefaultColorscale, bool showLabels = false)
        where TX : INumberBase<TX> where TY : INumberBase<TY> where TZ : INumberBase<TZ> =>
        new(new Contour(Series.ToRows(z, Series.Label("Contour", name)), Coordinates.Of(x, nameof(x)), Coordinates.Of(y, nameof(y)), name, colorscale, showLabels));

    /// <summary>Contours of jagged <paramref name="z"/> (<c>z[row][column]</c>) over x (one per column) and y (one per row).</summary>
    public static Figure Contour<TX, TY, TZ>(IEnumerable<TX> x, IEnumerable<TY> y, IEnumerable<IEnumerable<TZ>> z, string? name = null,
                                             string colorscale = DefaultColorscale, bool showLabels = false)
        where TX : INumberBase<TX> where TY : INumberBase<TY> where TZ : INumberBase<TZ> =>
        new(new Contour(Series.ToRows(z, Series.Label("Contour", name)), Coordinates.Of(x, nameof(x)), Coordinates.Of(y, nameof(y)), name, colorscale, showLabels));

    /// <summary>A 3-D surface of <paramref name="z"/> (<c>z[row, column]</c>) over x (one per column) and y (one per row).</summary>
    public static Figure Surface<TX, TY, TZ>(IEnumerable<TX> x, IEnumerable<TY> y, TZ[,] z, string? name = null, string colorscale = DefaultColorscale)
        where TX : INumberBase<TX> where TY : INumberBase<TY> where TZ : INumberBase<TZ> =>
        new(new Surface(Series.ToRows(z, Series.Label("Surface", name)), Coordinates.Of(x, nameof(x)), Coordinates.Of(y, nameof(y)), name, colorscale));

    /// <summary>A 3-D surface of jagged <paramref name="z"/> (<c>z[row][column]</c>) over x (one per column) and y (one per row).</summary>
    public static Figure Surface<TX, TY, TZ>(IEnumerable<TX> x, IEnumerable<TY> y, IEnumerable<IEnumerable<TZ>> z, string? name = null, string colorscale = DefaultColorscale)
        where TX : INumberBase<TX> where TY : INumberBase<TY> where TZ : INumberBase<TZ> =>
        new(new Surface(Series.ToRows(z, Series.Label("Surface", name)), Coordinates.Of(x, nameof(x)), Coordinates.Of(y, nameof(y)), name, colorscale));

    private static Coordinates? Labels(IEnumerable<string>? labels, string what) => labels is null ? null : Coordinates.Of(labels, what);

    // ------------------------------------------------------------------ composition

    /// <summary>
    /// Overlays single-panel figures on one set of axes: all traces, in order; the title, size, legend and each
    /// axis come from the first figure that sets them. Bars of several figures are grouped per category.
    /// </summary>
    public static Figure Combine(params Figure[] figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        if (figures.Length == 0) throw new ArgumentException("Combine needs at least one figure.", nameof(figures));
        Axis x = Axis.Default, y = Axis.Default, z = Axis.Default;
        for (int i = 0; i < figures.Length; i++)
        {
            var f = figures[i] ?? throw new ArgumentException($"Combine: figure {i} is null.", nameof(figures));
            if (f.PanelCount != 1) throw new ArgumentException($"Combine: figure {i} ({f}) is a grid of {f.PanelCount} panels; only single-panel figures can be overlaid.", nameof(figures));
            x = x.Or(f.XAxis); y = y.Or(f.YAxis); z = z.Or(f.ZAxis);
        }
        var traces = figures.SelectMany(f => f.Traces).Select(t => t.OnPanel(0)).ToArray();
        var sized = figures.FirstOrDefault(f => f.Width is not null);
        return new Figure(traces, [Panel.Whole with { X = x, Y = y, Z = z }],
                          figures.Select(f => f.Title).FirstOrDefault(t => t is not null),
                          sized?.Width, sized?.Height,
                          figures.Select(f => f.ShowLegend).FirstOrDefault(s => s is not null), null);
    }

    /// <summary>
    /// Lays single-panel figures out in a <paramref name="rows"/> × <paramref name="cols"/> grid, row by row
    /// (subplots): each keeps its traces, axes and title (as the panel's title), on its own axes (<c>xaxis2</c>,
    /// <c>yaxis2</c>, … or <c>scene2</c>, … for 3-D). Fewer figures than cells leave the last cells empty.
    /// Unless a figure sets a height, the grid is 350 px per row.
    /// </summary>
    public static Figure Grid(int rows, int cols, params Figure[] figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        if (rows < 1 || cols < 1) throw new ArgumentOutOfRangeException(rows < 1 ? nameof(rows) : nameof(cols), $"Grid({rows}, {cols}): rows and cols must be at least 1.");
        if (figures.Length == 0) throw new ArgumentException($"Grid({rows}, {cols}) needs at least one figure.", nameof(figures));
        if (figures.Length > rows * cols)
            throw new ArgumentException($"Grid({rows}, {cols}) has {rows * cols} cells but {figures.Length} figures were given.", nameof(figures));

        var traces = new List<Trace>();
        var panels = new Panel[figures.Length];
        bool colorBars = figures.Any(f => f is not null && f.Traces.Any(t => t.HasColorBar));
        double gapX = cols == 1 ? 0 : colorBars ? 0.14 : 0.08;
        // Between rows: the upper panel's tick labels and x-axis title, then the lower panel's title.
        bool xTitles = figures.Any(f => f?.XAxis.Title is not null);
        double gapY = rows == 1 ? 0 : xTitles ? 0.2 : 0.14;
        double w = (1 - gapX * (cols - 1)) / cols, h = (1 - gapY * (rows - 1)) / rows;
        for (int i = 0; i < figures.Length; i++)
        {
            var f = figures[i] ?? throw new ArgumentException($"Grid: figure {i} is null.", nameof(figures));
            if (f.PanelCount != 1) throw new ArgumentException($"Grid: figure {i} ({f}) is itself a grid of {f.PanelCount} panels; grids do not nest.", nameof(figures));
            int r = i / cols, c = i % cols;
            double x0 = c * (w + gapX), y1 = 1 - r * (h + gapY);
            panels[i] = new Panel(f.XAxis, f.YAxis, f.ZAxis, f.Title, (Round(x0), Round(x0 + w)), (Round(y1 - h), Round(y1)));
            traces.AddRange(f.Traces.Select(t => t.OnPanel(i)));
        }
        var sized = figures.FirstOrDefault(f => f.Height is not null);
        return new Figure([.. traces], panels, null, sized?.Width, sized?.Height ?? 350 * rows,
                          figures.Select(f => f.ShowLegend).FirstOrDefault(s => s is not null), (rows, cols));
    }

    private static double Round(double v) => Math.Round(v, 4);
}
