using Plotly.NET;

namespace Shrink.Charts;

/// <summary>
/// Small edits of the Plotly.NET traces <see cref="Chart"/> builds: Plotly.NET traces are dynamic objects whose
/// properties are plotly.js's JSON names, so a property Plotly.NET.CSharp has no argument for (error bars, a named
/// colour scale, a text template, numbers with gaps) is set under its plotly.js name.
/// </summary>
internal static class Traces
{
    /// <summary>The one trace of a chart built from one trace.</summary>
    public static Trace Single(GenericChart chart) => GenericChart.getTraces(chart).Head;

    /// <summary>Plotly's trace type of <paramref name="trace"/>, e.g. <c>scatter</c>, <c>bar</c>, <c>heatmap</c>.</summary>
    public static string Kind(Trace trace) => trace.TryGetPropertyValue("type")?.Value?.ToString() ?? "trace";

    /// <summary>True when <paramref name="chart"/> draws in a 3-D scene (surfaces) rather than on x/y axes.</summary>
    public static bool Is3D(GenericChart chart) => GenericChart.getTraces(chart).Any(t => Kind(t) == "surface");

    /// <summary>Sets <paramref name="key"/> to <paramref name="values"/>, NaN and infinities as null (gaps).</summary>
    public static void SetNumbers(Trace trace, string key, double[] values) => trace.SetProperty(key, Series.WithGaps(values));

    /// <summary>The matrix <paramref name="z"/> (rows of numbers, gaps as null) and a plotly.js colour scale name.</summary>
    public static void SetMatrix(Trace trace, double[][] z, string colorscale)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(colorscale);
        trace.SetProperty("z", z.Select(Series.WithGaps).ToArray());
        trace.SetProperty("colorscale", colorscale);
    }

    /// <summary>Symmetric error bars of per-point half-lengths under <paramref name="key"/> (<c>error_y</c>).</summary>
    public static void SetErrorBars(Trace trace, string key, double[] halfLengths)
    {
        var error = new Plotly.NET.TraceObjects.Error();
        error.SetProperty("type", "data");
        error.SetProperty("symmetric", true);
        error.SetProperty("array", Series.WithGaps(halfLengths));
        error.SetProperty("visible", true);
        trace.SetProperty(key, error);
    }

    /// <summary>Sets <paramref name="property"/> of the nested object <paramref name="key"/> (e.g. <c>line.color</c>), creating it if needed.</summary>
    public static void Style(DynamicObj.DynamicObj owner, string key, string property, object value)
    {
        if (owner.TryGetPropertyValue(key)?.Value is not DynamicObj.DynamicObj nested)
        {
            nested = new DynamicObj.DynamicObj();
            owner.SetProperty(key, nested);
        }
        nested.SetProperty(property, value);
    }

    /// <summary>Summary of one trace for text/plain, e.g. <c>scatter 'train' 30 pts</c> or <c>heatmap 10×12</c>.</summary>
    public static string Describe(Trace trace)
    {
        var kind = Kind(trace);
        var name = trace.TryGetPropertyValue("name")?.Value as string;
        string size = trace.TryGetPropertyValue("z")?.Value is System.Collections.IList z && z.Count > 0 && z[0] is System.Collections.IList row
            ? $"{z.Count}×{row.Count}"
            : trace.TryGetPropertyValue("y")?.Value is System.Collections.IList y
                ? kind == "bar" ? $"{y.Count} bars" : $"{y.Count} pts"
                : "";
        return string.Join(' ', new[] { kind, name is null ? null : $"'{name}'", size }.Where(s => !string.IsNullOrEmpty(s)));
    }
}
