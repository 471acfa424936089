using Plotly.NET;
using DynObj = DynamicObj.DynamicObj;
using PlotlyChart = Plotly.NET.CSharp.Chart;

namespace Shrink.Charts;

/// <summary>
/// <see cref="Chart.Grid"/> on top of Plotly.NET's <c>Chart.Grid</c> (a plotly.js layout grid with independent
/// axes): the charts' titles become subplot titles, the gaps leave room for axis titles and colour bars, each
/// colour bar is moved beside its own panel (plotly.js puts them all at the right edge), and a series that appears in
/// several panels under one name (e.g. "train" in a loss and an accuracy panel) gets one colour and one legend entry.
/// </summary>
internal static class GridLayout
{
    public static GenericChart Build(int rows, int cols, GenericChart[] charts)
    {
        var titles = charts.Select(c => ChartLayout.TitleText(c) ?? "").ToArray();
        // Copies without their titles: Plotly.NET's Grid changes the charts' traces and layouts in place and would keep
        // the last chart's title as the grid's.
        var copies = charts.Select(c => ChartLayout.Copy(c).WithTitle(null)).ToArray();
        bool colorBars = copies.Any(c => GenericChart.getTraces(c).Any(HasColorBar));
        bool xTitles = copies.Any(c => GenericChart.getLayout(c).GetPropertyNames(true).Any(k => k.StartsWith("xaxis", StringComparison.Ordinal)));
        // Gaps as fractions of one cell (plotly.js grid xgap/ygap): room for colour bars beside, and for the upper
        // panel's tick labels and x-axis title plus the lower panel's title between rows.
        double xGap = cols == 1 ? 0 : colorBars ? 0.35 : 0.2;
        double yGap = rows == 1 ? 0 : xTitles ? 0.45 : 0.3;

        var grid = PlotlyChart.Grid(copies, rows, cols,
            SubPlotTitles: titles.Any(t => t.Length > 0) ? titles.Concat(Enumerable.Repeat("", rows * cols - titles.Length)).ToArray() : default(Plotly.NET.CSharp.Optional<IEnumerable<string>>),
            XGap: xGap, YGap: yGap);

        foreach (var trace in GenericChart.getTraces(grid).Where(HasColorBar))
        {
            int panel = PanelOf(trace);
            int r = panel / cols, c = panel % cols;
            var (x0, x1) = Cell(c, cols, xGap);
            var (top, bottom) = (1 - Cell(r, rows, yGap).Lo, 1 - Cell(r, rows, yGap).Hi);
            var bar = trace.TryGetPropertyValue("colorbar")?.Value is DynObj existing ? ChartLayout.CopyOf(existing, new DynObj()) : new DynObj();
            bar.SetProperty("x", Math.Round(x1 + 0.01, 4));
            bar.SetProperty("xanchor", "left");
            bar.SetProperty("y", Math.Round((top + bottom) / 2, 4));
            bar.SetProperty("yanchor", "middle");
            bar.SetProperty("len", Math.Round(top - bottom, 4));
            bar.SetProperty("thickness", 12);
            trace.SetProperty("colorbar", bar);
        }
        LinkSeriesAcrossPanels(GenericChart.getTraces(grid).ToList());
        return ChartLayout.Edit(grid, layout =>
        {
            layout.RemoveProperty("title");
            layout.SetProperty("height", 350 * rows);
            layout.SetProperty("width", Math.Max(600, 300 * cols));
        });
    }

    /// <summary>plotly.js's default colour sequence (the "plotly" template's colorway, which Plotly.NET's default template uses).</summary>
    private static readonly string[] Colorway =
        ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880", "#FF97FF", "#FECB52"];

    /// <summary>
    /// When a trace name occurs more than once, every named trace gets the colour of its name (in order of first
    /// appearance; an explicit colour is kept) and only the first trace of each name a legend entry (one legend group
    /// per name, so clicking it toggles the series in every panel).
    /// </summary>
    private static void LinkSeriesAcrossPanels(List<Trace> traces)
    {
        var names = traces.Select(t => t.TryGetPropertyValue("name")?.Value as string).ToList();
        var named = names.OfType<string>().ToList();
        if (named.Count == named.Distinct(StringComparer.Ordinal).Count()) return;
        var order = named.Distinct(StringComparer.Ordinal).ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < traces.Count; i++)
        {
            if (names[i] is not { } name) continue;
            var trace = traces[i];
            trace.SetProperty("legendgroup", name);
            if (!seen.Add(name)) trace.SetProperty("showlegend", false);
            var color = Colorway[order.IndexOf(name) % Colorway.Length];
            var kind = Traces.Kind(trace);
            if (kind == "scatter" && !HasColor(trace, "line"))
            {
                Traces.Style(trace, "line", "color", color);
                Traces.Style(trace, "marker", "color", color);
            }
            else if (kind == "bar" && !HasColor(trace, "marker")) Traces.Style(trace, "marker", "color", color);
        }
    }

    private static bool HasColor(Trace trace, string key) =>
        trace.TryGetPropertyValue(key)?.Value is DynObj o && o.TryGetPropertyValue("color") is not null;

    /// <summary>Plotly.js's grid cell domain: cell <paramref name="i"/> of <paramref name="n"/> with gap <paramref name="gap"/> (a fraction of one cell).</summary>
    private static (double Lo, double Hi) Cell(int i, int n, double gap)
    {
        double step = 1 / (n - gap);
        double lo = step * i;
        return (lo, lo + step * (1 - gap));
    }

    /// <summary>The panel index of a trace after Plotly.NET's grid: chart k uses axes <c>x{k+1}</c>/<c>y{k+1}</c> or <c>scene{k+1}</c>.</summary>
    private static int PanelOf(Trace trace)
    {
        var id = trace.TryGetPropertyValue("scene")?.Value as string ?? trace.TryGetPropertyValue("xaxis")?.Value as string ?? "x";
        var digits = new string(id.Where(char.IsAsciiDigit).ToArray());
        return digits.Length == 0 ? 0 : int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) - 1;
    }

    private static bool HasColorBar(Trace trace) =>
        Traces.Kind(trace) is "heatmap" or "contour" or "surface" && trace.TryGetPropertyValue("showscale")?.Value is not false;
}
