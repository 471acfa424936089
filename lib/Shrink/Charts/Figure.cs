using System.Text;
using Shrink.Experiments;
using Shrink.Formatting;

namespace Shrink.Charts;

/// <summary>
/// A Plotly figure: traces plus layout (title, axes, size, legend), possibly a grid of panels. Immutable: every
/// <c>With…</c> method returns a new figure, so a notebook cell reads as one expression:
/// <code>
/// Chart.Combine(Chart.Line(epochs, train, name: "train"), Chart.Line(epochs, test, name: "test"))
///      .WithTitle("loss").WithXAxis("epoch").WithYAxis("loss", log: true)
/// </code>
/// In a notebook a figure renders inline as an interactive chart (<c>text/html</c>, plotly.js embedded, no network)
/// with a one-line <c>text/plain</c> summary (<see cref="ToString"/>), through <see cref="FigureFormatterSource"/>.
/// </summary>
[TypeFormatterSource(typeof(FigureFormatterSource), PreferredMimeTypes = ["text/html", "text/plain"])]
public sealed class Figure
{
    private readonly Trace[] _traces;
    private readonly Panel[] _panels;

    /// <summary>A single-panel figure of <paramref name="traces"/> (overlaid).</summary>
    public Figure(params Trace[] traces) : this(Single(traces), [Panel.Whole], null, null, null, null, null) { }

    internal Figure(Trace[] traces, Panel[] panels, string? title, int? width, int? height, bool? showLegend, (int Rows, int Cols)? grid)
    {
        ArgumentNullException.ThrowIfNull(traces);
        if (panels.Length == 0) throw new ArgumentException("A figure needs at least one panel.", nameof(panels));
        for (int i = 0; i < traces.Length; i++)
        {
            var t = traces[i] ?? throw new ArgumentException($"Figure: trace {i} is null.", nameof(traces));
            if (t.Panel >= panels.Length) throw new ArgumentException($"Figure: trace {i} ({t}) is in panel {t.Panel} but the figure has {panels.Length}.", nameof(traces));
        }
        for (int p = 0; p < panels.Length; p++)
        {
            var inPanel = traces.Where(t => t.Panel == p).ToArray();
            if (inPanel.Any(t => t.Is3D) && inPanel.Any(t => !t.Is3D))
                throw new ArgumentException(
                    $"Figure: panel {p} mixes 3-D traces ({string.Join(", ", inPanel.Where(t => t.Is3D))}) with 2-D traces ({string.Join(", ", inPanel.Where(t => !t.Is3D))}); " +
                    "a 3-D scene cannot be overlaid on x/y axes. Put them side by side with Chart.Grid.", nameof(traces));
        }
        _traces = traces; _panels = panels;
        Title = title; Width = width; Height = height; ShowLegend = showLegend; Grid = grid;
    }

    private static Trace[] Single(Trace[] traces)
    {
        ArgumentNullException.ThrowIfNull(traces);
        return traces.Select(t => t?.OnPanel(0)!).ToArray();
    }

    /// <summary>The traces, in drawing order (later ones on top).</summary>
    public IReadOnlyList<Trace> Traces => _traces;

    /// <summary>The figure title, or null.</summary>
    public string? Title { get; }

    /// <summary>Width in pixels, or null to fill the output's width.</summary>
    public int? Width { get; }

    /// <summary>Height in pixels, or null for Plotly's default (450).</summary>
    public int? Height { get; }

    /// <summary>Whether to show the legend, or null for Plotly's default (shown when there are several traces).</summary>
    public bool? ShowLegend { get; }

    /// <summary>The x axis (of the first panel; <see cref="WithXAxis"/> sets every panel's).</summary>
    public Axis XAxis => _panels[0].X;

    /// <summary>The y axis (of the first panel; <see cref="WithYAxis"/> sets every panel's).</summary>
    public Axis YAxis => _panels[0].Y;

    /// <summary>The z axis of 3-D panels (of the first panel; <see cref="WithZAxis"/> sets every panel's).</summary>
    public Axis ZAxis => _panels[0].Z;

    /// <summary>The number of panels (subplots): 1, or rows × columns used by <see cref="Chart.Grid"/>.</summary>
    public int PanelCount => _panels.Length;

    internal IReadOnlyList<Panel> Panels => _panels;

    /// <summary>Rows and columns when this figure is a grid of panels, else null.</summary>
    internal (int Rows, int Cols)? Grid { get; }

    private Figure With(Trace[]? traces = null, Panel[]? panels = null, string? title = null, bool setTitle = false,
                        int? width = null, int? height = null, bool setSize = false, bool? showLegend = null, bool setLegend = false) =>
        new(traces ?? _traces, panels ?? _panels, setTitle ? title : Title, setSize ? width : Width, setSize ? height : Height,
            setLegend ? showLegend : ShowLegend, Grid);

    /// <summary>This figure with the title <paramref name="title"/> (null removes it).</summary>
    public Figure WithTitle(string? title) => With(title: title, setTitle: true);

    /// <summary>This figure with its x axis (every panel's) titled <paramref name="title"/>, optionally logarithmic and with a fixed range.</summary>
    public Figure WithXAxis(string? title, bool log = false, double? min = null, double? max = null) =>
        With(panels: _panels.Select(p => p with { X = MakeAxis(title, log, min, max, "WithXAxis") }).ToArray());

    /// <summary>This figure with its y axis (every panel's) titled <paramref name="title"/>, optionally logarithmic and with a fixed range.</summary>
    public Figure WithYAxis(string? title, bool log = false, double? min = null, double? max = null) =>
        With(panels: _panels.Select(p => p with { Y = MakeAxis(title, log, min, max, "WithYAxis") }).ToArray());

    /// <summary>This figure with the z axis of its 3-D panels titled <paramref name="title"/>, optionally logarithmic and with a fixed range.</summary>
    public Figure WithZAxis(string? title, bool log = false, double? min = null, double? max = null) =>
        With(panels: _panels.Select(p => p with { Z = MakeAxis(title, log, min, max, "WithZAxis") }).ToArray());

    /// <summary>This figure drawn <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public Figure WithSize(int width, int height)
    {
        if (width < 10 || height < 10) throw new ArgumentOutOfRangeException(width < 10 ? nameof(width) : nameof(height), $"WithSize({width}, {height}): a figure needs at least 10 × 10 pixels.");
        return With(width: width, height: height, setSize: true);
    }

    /// <summary>This figure with the legend shown or hidden.</summary>
    public Figure WithLegend(bool show = true) => With(showLegend: show, setLegend: true);

    /// <summary>This figure with <paramref name="trace"/> overlaid on its first panel.</summary>
    public Figure Add(Trace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return With(traces: [.. _traces, trace.OnPanel(0)]);
    }

    private static Axis MakeAxis(string? title, bool log, double? min, double? max, string method)
    {
        if (min is { } lo && max is { } hi && !(lo < hi)) throw new ArgumentException($"{method}: min ({lo}) must be less than max ({hi}).", nameof(min));
        if (log && (min <= 0 || max <= 0)) throw new ArgumentException($"{method}: a log axis needs a positive range; got min {min}, max {max}.", nameof(min));
        return new Axis(title, log, min, max);
    }

    /// <summary>The Plotly figure JSON: <c>{"data": [traces…], "layout": {…}}</c>, NaN and infinities as null.</summary>
    /// <param name="indented">Pretty-print (for reading); the default is compact.</param>
    public string ToJson(bool indented = false) => FigureJson.Write(this, indented);

    /// <summary>
    /// An HTML fragment that draws this figure: a <c>&lt;div&gt;</c> with a unique id and a <c>&lt;script&gt;</c> that
    /// calls <c>Plotly.newPlot</c> once <c>window.Plotly</c> exists (it waits up to 10 s for a library loaded by an
    /// earlier output). With <paramref name="includePlotlyJs"/> the whole plotly.js (about 4.8 MB) is inlined first.
    /// </summary>
    public string ToHtml(bool includePlotlyJs = false) => FigureHtml.Fragment(this, includePlotlyJs);

    /// <summary>
    /// Writes a standalone HTML page with plotly.js inlined (works offline, about 4.8 MB) to <paramref name="path"/>,
    /// atomically (a temporary file renamed over the target); creates the folder if needed.
    /// </summary>
    public void SaveHtml(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        AtomicFile.WriteAllText(path, FigureHtml.Page(Title ?? "Figure", [FigureHtml.Fragment(this, includeLibrary: false)]));
    }

    /// <summary>
    /// A one-line summary, e.g. <c>Figure 'loss': 2 traces (scatter 'train' 30 pts, scatter 'test' 30 pts); x: epoch, y: loss (log)</c>.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder("Figure");
        if (Title is not null) sb.Append(" '").Append(Title).Append('\'');
        sb.Append(": ");
        if (Grid is { } g) sb.Append(g.Rows).Append('×').Append(g.Cols).Append(" grid, ");
        sb.Append(_traces.Length).Append(_traces.Length == 1 ? " trace" : " traces");
        if (_traces.Length > 0) sb.Append(" (").AppendJoin(", ", _traces.Select(t => t.ToString())).Append(')');
        var axes = new List<string>();
        if (XAxis.Title is not null || XAxis.Log) axes.Add("x: " + XAxis);
        if (YAxis.Title is not null || YAxis.Log) axes.Add("y: " + YAxis);
        if (_traces.Any(t => t.Is3D) && (ZAxis.Title is not null || ZAxis.Log)) axes.Add("z: " + ZAxis);
        if (axes.Count > 0) sb.Append("; ").AppendJoin(", ", axes);
        return sb.ToString();
    }
}
