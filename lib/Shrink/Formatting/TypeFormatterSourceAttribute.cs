namespace Shrink.Formatting;

/// <summary>
/// Names the formatter source that renders the attributed type in a notebook, by the convention of
/// .NET Interactive's <c>Formatter</c> (papers/notebook-format.md §5): the host finds any attribute whose type
/// name is exactly <c>TypeFormatterSourceAttribute</c>, reads <see cref="FormatterSourceType"/> and
/// <see cref="PreferredMimeTypes"/> by reflection, creates the source with its parameterless constructor and calls
/// its <c>CreateTypeFormatters()</c>. Polyglot Notebooks and our own runner (Shrink.Notebooks) both follow it, so
/// this assembly needs no reference to either. Used on <see cref="TensorPreview"/> (TorchSharp's <c>Tensor</c> is not
/// ours to attribute: <c>t.Preview()</c> wraps it). Plotly.NET charts and Deedle frames, which are not ours either, are
/// registered with .NET Interactive's <c>Formatter</c> by <see cref="Charts.ChartFormatters"/> and
/// <see cref="Reports.FrameFormatters"/>.
/// <para>
/// Internal on purpose: an attribute cannot be shared across assemblies without being public, and the convention
/// matches by name, so any other assembly that wants the convention declares its own copy.
/// </para>
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = true, AllowMultiple = false)]
internal sealed class TypeFormatterSourceAttribute : Attribute
{
    /// <summary>Names the formatter source type (public, with a public parameterless constructor).</summary>
    public TypeFormatterSourceAttribute(Type formatterSourceType) => FormatterSourceType = formatterSourceType;

    /// <summary>The type whose <c>CreateTypeFormatters()</c> returns the formatters.</summary>
    public Type FormatterSourceType { get; }

    /// <summary>The MIME types a host should produce for this type, most preferred first (e.g. text/html, text/plain).</summary>
    public string[] PreferredMimeTypes { get; set; } = [];
}
