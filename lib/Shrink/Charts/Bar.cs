using System.Text.Json;

namespace Shrink.Charts;

/// <summary>
/// A bar trace (Plotly <c>bar</c>): one bar per category, optionally with symmetric error bars. Several bar traces
/// overlaid with <see cref="Chart.Combine"/> are drawn side by side per category (<c>barmode: group</c>).
/// Build with <see cref="Chart.Bar{T}"/>.
/// </summary>
public sealed class Bar : Trace
{
    private readonly Coordinates _categories;
    private readonly double[] _values;
    private readonly double[]? _errors;

    internal Bar(Coordinates categories, double[] values, double[]? errors, string? name, string? color) : base(name)
    {
        var label = Series.Label("Bar", name);
        Series.CheckLength(categories.Count, values.Length, label, "categories", "values", "categories");
        if (errors is not null) Series.CheckLength(errors.Length, values.Length, label, "errors", "values", "errors");
        _categories = categories; _values = values; _errors = errors; Color = color;
    }

    /// <inheritdoc/>
    public override string Kind => "bar";

    /// <summary>The category labels (x), or null when the categories are numeric.</summary>
    public IReadOnlyList<string>? Categories => _categories.Labels;

    /// <summary>The bar heights.</summary>
    public IReadOnlyList<double> Values => _values;

    /// <summary>Half-lengths of symmetric error bars, or null.</summary>
    public IReadOnlyList<double>? Errors => _errors;

    /// <summary>A CSS colour, or null for Plotly's colour cycle.</summary>
    public string? Color { get; }

    private protected override string SizeText => $"{_values.Length} bars";

    internal override void WriteProperties(Utf8JsonWriter w)
    {
        _categories.Write(w, "x");
        w.WritePropertyName("y");
        FigureJson.WriteNumbers(w, _values);
        if (_errors is not null) FigureJson.WriteErrorBars(w, "error_y", _errors);
        if (Color is not null) { w.WriteStartObject("marker"); w.WriteString("color", Color); w.WriteEndObject(); }
    }
}
