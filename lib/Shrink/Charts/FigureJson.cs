using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Shrink.Charts;

/// <summary>
/// Writes a <see cref="Figure"/> as Plotly figure JSON (<c>{"data": [...], "layout": {...}}</c>, plotly.js 3+ schema:
/// titles are <c>{"text": …}</c> objects). Panel k of a grid uses axes <c>x{k+1}</c>/<c>y{k+1}</c> (the first panel
/// plain <c>x</c>/<c>y</c>) with their <c>domain</c>s, or a scene <c>scene{k+1}</c> for 3-D panels; the two kinds are
/// numbered separately. Strings are escaped so that the JSON can sit inside an HTML <c>&lt;script&gt;</c>
/// (<c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c> become <c>\u003C</c> …); non-finite numbers become null.
/// </summary>
internal static class FigureJson
{
    private static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.Create(UnicodeRanges.All);

    public static string Write(Figure figure, bool indented)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = Encoder, Indented = indented }))
        {
            w.WriteStartObject();
            WriteData(w, figure);
            WriteLayout(w, figure);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary>An array of numbers; NaN and ±infinity as null (a gap in Plotly).</summary>
    public static void WriteNumbers(Utf8JsonWriter w, IReadOnlyList<double> values)
    {
        w.WriteStartArray();
        foreach (var v in values)
        {
            if (double.IsFinite(v)) w.WriteNumberValue(v);
            else w.WriteNullValue();
        }
        w.WriteEndArray();
    }

    /// <summary>Symmetric error bars from per-point half-lengths.</summary>
    public static void WriteErrorBars(Utf8JsonWriter w, string property, IReadOnlyList<double> halfLengths)
    {
        w.WriteStartObject(property);
        w.WriteString("type", "data");
        w.WriteBoolean("symmetric", true);
        w.WritePropertyName("array");
        WriteNumbers(w, halfLengths);
        w.WriteBoolean("visible", true);
        w.WriteEndObject();
    }

    /// <summary>Axis references per panel: (x axis id, y axis id) for 2-D panels, or the scene id for 3-D ones.</summary>
    private static (string? X, string? Y, string? Scene)[] AxisIds(Figure figure)
    {
        var ids = new (string?, string?, string?)[figure.PanelCount];
        int flat = 0, scenes = 0;
        for (int p = 0; p < figure.PanelCount; p++)
        {
            if (figure.Traces.Any(t => t.Panel == p && t.Is3D))
            {
                scenes++;
                ids[p] = (null, null, scenes == 1 ? "scene" : "scene" + scenes);
            }
            else
            {
                flat++;
                ids[p] = flat == 1 ? ("x", "y", null) : ("x" + flat, "y" + flat, null);
            }
        }
        return ids;
    }

    private static void WriteData(Utf8JsonWriter w, Figure figure)
    {
        var ids = AxisIds(figure);
        bool multi = figure.PanelCount > 1;
        w.WriteStartArray("data");
        foreach (var t in figure.Traces)
        {
            w.WriteStartObject();
            w.WriteString("type", t.Kind);
            if (t.Name is not null) w.WriteString("name", t.Name);
            var id = ids[t.Panel];
            if (id.Scene is not null) { if (id.Scene != "scene") w.WriteString("scene", id.Scene); }
            else if (id.X != "x") { w.WriteString("xaxis", id.X); w.WriteString("yaxis", id.Y); }
            t.WriteProperties(w);
            if (multi && t.HasColorBar)
            {
                var panel = figure.Panels[t.Panel];
                w.WriteStartObject("colorbar");
                w.WriteNumber("x", Math.Round(panel.DomainX.Hi + 0.01, 4));
                w.WriteString("xanchor", "left");
                w.WriteNumber("y", Math.Round((panel.DomainY.Lo + panel.DomainY.Hi) / 2, 4));
                w.WriteString("yanchor", "middle");
                w.WriteNumber("len", Math.Round(panel.DomainY.Hi - panel.DomainY.Lo, 4));
                w.WriteNumber("thickness", 12);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteLayout(Utf8JsonWriter w, Figure figure)
    {
        w.WriteStartObject("layout");
        if (figure.Title is not null) WriteTitle(w, figure.Title);
        if (figure.Width is { } width) w.WriteNumber("width", width);
        if (figure.Height is { } height) w.WriteNumber("height", height);
        if (figure.ShowLegend is { } legend) w.WriteBoolean("showlegend", legend);
        if (figure.Traces.Any(t => t is Bar)) w.WriteString("barmode", "group");

        var ids = AxisIds(figure);
        bool multi = figure.PanelCount > 1;
        for (int p = 0; p < figure.PanelCount; p++)
        {
            var panel = figure.Panels[p];
            var id = ids[p];
            if (id.Scene is not null)
            {
                w.WriteStartObject(id.Scene);
                WriteAxis(w, "xaxis", panel.X, null, null);
                WriteAxis(w, "yaxis", panel.Y, null, null);
                WriteAxis(w, "zaxis", panel.Z, null, null);
                if (multi)
                {
                    w.WriteStartObject("domain");
                    WriteRange(w, "x", panel.DomainX);
                    WriteRange(w, "y", panel.DomainY);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            else
            {
                string suffix = id.X!.Substring(1);
                WriteAxis(w, "xaxis" + suffix, panel.X, multi ? panel.DomainX : null, multi ? id.Y : null);
                WriteAxis(w, "yaxis" + suffix, panel.Y, multi ? panel.DomainY : null, multi ? id.X : null);
            }
        }

        var titled = multi ? figure.Panels.Where(p => p.Title is not null).ToArray() : [];
        if (titled.Length > 0)
        {
            w.WriteStartArray("annotations");
            foreach (var p in titled)
            {
                w.WriteStartObject();
                w.WriteString("text", p.Title);
                w.WriteNumber("x", Math.Round((p.DomainX.Lo + p.DomainX.Hi) / 2, 4));
                w.WriteNumber("y", p.DomainY.Hi);
                w.WriteString("xref", "paper");
                w.WriteString("yref", "paper");
                w.WriteString("xanchor", "center");
                w.WriteString("yanchor", "bottom");
                w.WriteBoolean("showarrow", false);
                w.WriteStartObject("font"); w.WriteNumber("size", 14); w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteTitle(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject("title");
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static void WriteAxis(Utf8JsonWriter w, string key, Axis axis, (double Lo, double Hi)? domain, string? anchor)
    {
        if (axis.IsDefault && domain is null) return;
        w.WriteStartObject(key);
        if (axis.Title is not null) WriteTitle(w, axis.Title);
        if (axis.Log) w.WriteString("type", "log");
        if (axis.Min is not null || axis.Max is not null)
        {
            // Plotly's range on a log axis is in log10 units; a missing end is left to autorange (null).
            w.WriteStartArray("range");
            foreach (var v in new[] { axis.Min, axis.Max })
            {
                if (v is { } d) w.WriteNumberValue(axis.Log ? Math.Log10(d) : d);
                else w.WriteNullValue();
            }
            w.WriteEndArray();
            // One end given: Plotly (2.26+) autoranges the other ("max" = compute the max, keep the given min).
            if (axis.Max is null) w.WriteString("autorange", "max");
            else if (axis.Min is null) w.WriteString("autorange", "min");
        }
        if (domain is { } dm) WriteRange(w, "domain", dm);
        if (anchor is not null) w.WriteString("anchor", anchor);
        w.WriteEndObject();
    }

    private static void WriteRange(Utf8JsonWriter w, string key, (double Lo, double Hi) range)
    {
        w.WriteStartArray(key);
        w.WriteNumberValue(range.Lo);
        w.WriteNumberValue(range.Hi);
        w.WriteEndArray();
    }
}
