using Microsoft.FSharp.Collections;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using DynObj = DynamicObj.DynamicObj;

namespace Shrink.Charts;

/// <summary>
/// The finishing touches of a chart, as extension methods on Plotly.NET's <see cref="GenericChart"/>, so that a
/// notebook cell reads as one expression:
/// <code>
/// Chart.Combine(Chart.Line(epochs, train, name: "train"), Chart.Line(epochs, test, name: "test"))
///      .WithTitle("loss").WithXAxis("epoch").WithYAxis("loss", log: true)
/// </code>
/// Each returns a new chart and leaves the one it is called on unchanged (Plotly.NET's own <c>Chart.with…</c>
/// functions change the chart's layout in place). On a <see cref="Chart.Grid"/> the axis methods set every panel's axis.
/// </summary>
public static class ChartLayout
{
    /// <summary>This chart with the title <paramref name="title"/> (null removes it).</summary>
    public static GenericChart WithTitle(this GenericChart chart, string? title) =>
        Edit(chart, layout =>
        {
            if (title is null) layout.RemoveProperty("title");
            else layout.SetProperty("title", TitleOf(title));
        });

    /// <summary>This chart with its x axis (every panel's) titled <paramref name="title"/>, optionally logarithmic and with a fixed range (in data units).</summary>
    public static GenericChart WithXAxis(this GenericChart chart, string? title, bool log = false, double? min = null, double? max = null) =>
        WithAxis(chart, 'x', title, log, min, max, nameof(WithXAxis));

    /// <summary>This chart with its y axis (every panel's) titled <paramref name="title"/>, optionally logarithmic and with a fixed range (in data units).</summary>
    public static GenericChart WithYAxis(this GenericChart chart, string? title, bool log = false, double? min = null, double? max = null) =>
        WithAxis(chart, 'y', title, log, min, max, nameof(WithYAxis));

    /// <summary>This chart with the z axis of its 3-D panels titled <paramref name="title"/>, optionally logarithmic and with a fixed range.</summary>
    public static GenericChart WithZAxis(this GenericChart chart, string? title, bool log = false, double? min = null, double? max = null) =>
        WithAxis(chart, 'z', title, log, min, max, nameof(WithZAxis));

    /// <summary>This chart drawn <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public static GenericChart WithSize(this GenericChart chart, int width, int height)
    {
        if (width < 10 || height < 10) throw new ArgumentOutOfRangeException(width < 10 ? nameof(width) : nameof(height), $"WithSize({width}, {height}): a chart needs at least 10 × 10 pixels.");
        return Edit(chart, layout => { layout.SetProperty("width", width); layout.SetProperty("height", height); });
    }

    /// <summary>This chart with the legend shown or hidden.</summary>
    public static GenericChart WithLegend(this GenericChart chart, bool show = true) =>
        Edit(chart, layout => layout.SetProperty("showlegend", show));

    // ------------------------------------------------------------------ internals shared with Chart and GridLayout

    /// <summary>True when <paramref name="chart"/> is a grid of panels (<see cref="Chart.Grid"/>).</summary>
    internal static bool IsGrid(GenericChart chart) => GenericChart.getLayout(chart).TryGetPropertyValue("grid") is not null;

    /// <summary>The title text of <paramref name="chart"/>, or null.</summary>
    internal static string? TitleText(GenericChart chart) =>
        GenericChart.getLayout(chart).TryGetPropertyValue("title")?.Value switch
        {
            string s => s,
            DynObj t => t.TryGetPropertyValue("text")?.Value as string,
            _ => null,
        };

    /// <summary>A plotly.js title object.</summary>
    internal static Title TitleOf(string text)
    {
        var t = new Title();
        t.SetProperty("text", text);
        return t;
    }

    /// <summary>
    /// A copy of <paramref name="chart"/> that shares no Plotly.NET object with it: new traces and layout, nested
    /// objects (axes, scenes, titles, error bars) copied too, each of its own type. Plotly.NET's <c>Chart.Grid</c> and
    /// <c>Chart.Combine</c> change the traces and layouts they are given; they get copies.
    /// </summary>
    internal static GenericChart Copy(GenericChart chart)
    {
        var traces = GenericChart.getTraces(chart).Select(t => (Trace)DeepCopy(t)).ToList();
        var layout = (Layout)DeepCopy(GenericChart.getLayout(chart));
        var config = GenericChart.getConfig(chart);
        var display = GenericChart.getDisplayOptions(chart);
        return chart.IsChart && traces.Count == 1
            ? GenericChart.NewChart(traces[0], layout, config, display)
            : GenericChart.NewMultiChart(ListModule.OfSeq(traces), layout, config, display);
    }

    /// <summary>A new object of the same type as <paramref name="source"/> with its properties, nested dynamic objects copied too (data arrays are shared: nothing changes them).</summary>
    internal static DynObj DeepCopy(DynObj source)
    {
        var target = source is Trace trace
            ? (DynObj)Activator.CreateInstance(source.GetType(), Traces.Kind(trace))!
            : source.GetType().GetConstructor(Type.EmptyTypes) is not null ? (DynObj)Activator.CreateInstance(source.GetType())! : new DynObj();
        foreach (var kv in source.GetProperties(true))
            target.SetProperty(kv.Key, kv.Value is DynObj nested ? DeepCopy(nested) : kv.Value);
        return target;
    }

    /// <summary>Copies the properties of <paramref name="source"/> into <paramref name="target"/> (shallow) and returns it.</summary>
    internal static T CopyOf<T>(DynObj source, T target) where T : DynObj
    {
        foreach (var kv in source.GetProperties(true)) target.SetProperty(kv.Key, kv.Value);
        return target;
    }

    /// <summary>A new chart with a copy of the layout of <paramref name="chart"/>, changed by <paramref name="edit"/>.</summary>
    internal static GenericChart Edit(GenericChart chart, Action<Layout> edit)
    {
        ArgumentNullException.ThrowIfNull(chart);
        var layout = CopyOf(GenericChart.getLayout(chart), new Layout());
        edit(layout);
        return GenericChart.setLayout(layout, chart);
    }

    private static GenericChart WithAxis(GenericChart chart, char letter, string? title, bool log, double? min, double? max, string method)
    {
        if (min is { } lo && max is { } hi && !(lo < hi)) throw new ArgumentException($"{method}: min ({lo}) must be less than max ({hi}).", nameof(min));
        if (log && (min <= 0 || max <= 0)) throw new ArgumentException($"{method}: a log axis needs a positive range; got min {min}, max {max}.", nameof(min));
        var (flat, scenes) = Panels(chart);
        return Edit(chart, layout =>
        {
            if (letter != 'z')
                foreach (var suffix in flat)
                    layout.SetProperty($"{letter}axis{suffix}", Axis(layout.TryGetPropertyValue($"{letter}axis{suffix}")?.Value as DynObj, title, log, min, max));
            foreach (var scene in scenes)
            {
                var copy = CopyOf(layout.TryGetPropertyValue(scene)?.Value as DynObj ?? new Scene(), new Scene());
                copy.SetProperty($"{letter}axis", Axis(copy.TryGetPropertyValue($"{letter}axis")?.Value as DynObj, title, log, min, max));
                layout.SetProperty(scene, copy);
            }
        });
    }

    /// <summary>The axis suffixes of the 2-D panels ("" for <c>xaxis</c>, "2" for <c>xaxis2</c>, …) and the scene ids of the 3-D panels.</summary>
    private static (string[] Flat, string[] Scenes) Panels(GenericChart chart)
    {
        var flat = new SortedSet<string>(StringComparer.Ordinal);
        var scenes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var t in GenericChart.getTraces(chart))
        {
            if (Traces.Kind(t) == "surface") scenes.Add(t.TryGetPropertyValue("scene")?.Value as string ?? "scene");
            else
            {
                var x = t.TryGetPropertyValue("xaxis")?.Value as string ?? "x";
                flat.Add(x.Length > 1 ? x[1..] : "");
            }
        }
        return ([.. flat], [.. scenes]);
    }

    /// <summary>A new axis: the properties of <paramref name="existing"/> with title, type and range set as asked.</summary>
    private static LinearAxis Axis(DynObj? existing, string? title, bool log, double? min, double? max)
    {
        var axis = existing is null ? new LinearAxis() : CopyOf(existing, new LinearAxis());
        if (title is null) axis.RemoveProperty("title");
        else axis.SetProperty("title", TitleOf(title));
        if (log) axis.SetProperty("type", "log");
        else axis.RemoveProperty("type");
        axis.RemoveProperty("range");
        axis.RemoveProperty("autorange");
        if (min is not null || max is not null)
        {
            // Plotly's range on a log axis is in log10 units; a missing end is left to autorange (null, plotly.js 2.26+).
            double? End(double? v) => v is { } d ? (log ? Math.Log10(d) : d) : null;
            axis.SetProperty("range", new[] { End(min), End(max) });
            if (max is null) axis.SetProperty("autorange", "max");
            else if (min is null) axis.SetProperty("autorange", "min");
        }
        return axis;
    }
}
