using System.Collections;
using System.Globalization;

namespace Shrink.Notebooks.Tests.Formatting;

/// <summary>
/// A library-style attribute with the name .NET Interactive's convention looks for, defined here (internal, as a
/// library would define its own), so the runner must find it by name and reflection only.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class TypeFormatterSourceAttribute(Type formatterSourceType) : Attribute
{
    public Type FormatterSourceType { get; } = formatterSourceType;
    public string[]? PreferredMimeTypes { get; set; }
}

/// <summary>A value with convention-based formatters: HTML and plain text preferred, JSON too, SVG refused.</summary>
[TypeFormatterSource(typeof(GaugeFormatterSource), PreferredMimeTypes = ["text/html", "text/plain"])]
public class Gauge(double value)
{
    public double Value { get; } = value;
    public override string ToString() => "Gauge.ToString";
}

/// <summary>Inherits its formatters from <see cref="Gauge"/>'s attribute.</summary>
public sealed class DerivedGauge(double value) : Gauge(value);

public sealed class GaugeFormatterSource
{
    public static int CreateCalls;

    public IEnumerable CreateTypeFormatters()
    {
        Interlocked.Increment(ref CreateCalls);
        return new object[]
        {
            new GaugeFormatter("text/plain", g => $"gauge {g.Value.ToString(CultureInfo.InvariantCulture)}"),
            new GaugeFormatter("application/json", g => $"{{\"value\": {g.Value.ToString(CultureInfo.InvariantCulture)}}}"),
            new GaugeFormatter("image/svg+xml", _ => null),
            new StringOnlyFormatter(),
            new GaugeFormatter("text/html", g => $"<meter value=\"{g.Value.ToString(CultureInfo.InvariantCulture)}\"></meter>"),
        };
    }
}

public sealed class GaugeFormatter(string mimeType, Func<Gauge, string?> render)
{
    public string MimeType { get; } = mimeType;
    public Type Type => typeof(Gauge);

    public bool Format(object instance, TextWriter writer)
    {
        if (render((Gauge)instance) is not string text)
            return false;
        writer.Write(text);
        return true;
    }
}

/// <summary>Applies to strings only, so it must never be called for a gauge.</summary>
public sealed class StringOnlyFormatter
{
    public string MimeType => "text/markdown";
    public Type Type => typeof(string);
    public bool Format(object instance, TextWriter writer) => throw new InvalidOperationException("called for a type it does not apply to");
}

/// <summary>A convention type with no text/plain formatter: the bundle's text/plain is ToString().</summary>
[TypeFormatterSource(typeof(HtmlOnlySource))]
public sealed class HtmlOnly
{
    public override string ToString() => "html-only";
}

public sealed class HtmlOnlySource
{
    public IEnumerable CreateTypeFormatters() => new[] { new HtmlOnlyFormatter() };
}

public sealed class HtmlOnlyFormatter
{
    public string MimeType => "text/html";
    public bool Format(object instance, TextWriter writer)
    {
        writer.Write("<i>html</i>");
        return true;
    }
}
