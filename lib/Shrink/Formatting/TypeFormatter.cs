namespace Shrink.Formatting;

/// <summary>
/// One formatter in the duck-typed shape a notebook host expects from a formatter source
/// (papers/notebook-format.md §5): a public <see cref="MimeType"/>, a public <see cref="Type"/> and exactly one
/// public method <see cref="Format"/> taking <c>(object, TextWriter)</c> and returning <c>bool</c>. The host binds
/// <see cref="Format"/> by name, so this class must never gain an overload of it.
/// </summary>
public sealed class TypeFormatter
{
    private readonly Func<object, TextWriter, bool> _format;

    /// <summary>A formatter of <paramref name="type"/> (and its subclasses) for <paramref name="mimeType"/>.</summary>
    /// <param name="type">The type formatted.</param>
    /// <param name="mimeType">The MIME type written, e.g. <c>text/html</c>.</param>
    /// <param name="format">Writes the value; returns false to let the host try its next formatter.</param>
    public TypeFormatter(Type type, string mimeType, Func<object, TextWriter, bool> format)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrWhiteSpace(mimeType);
        ArgumentNullException.ThrowIfNull(format);
        Type = type;
        MimeType = mimeType;
        _format = format;
    }

    /// <summary>The type this formatter renders.</summary>
    public Type Type { get; }

    /// <summary>The MIME type this formatter writes.</summary>
    public string MimeType { get; }

    /// <summary>Writes <paramref name="instance"/> as <see cref="MimeType"/>; false when it is not of <see cref="Type"/>.</summary>
    public bool Format(object instance, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (instance is null || !Type.IsInstanceOfType(instance)) return false;
        return _format(instance, writer);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Type.Name} as {MimeType}";
}
