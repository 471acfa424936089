using System.Text.Json;

namespace Shrink.Charts;

/// <summary>
/// A line or scatter trace (Plotly <c>scatter</c>): y over numeric or categorical x, optionally with symmetric
/// error bars (<c>error_y</c>, e.g. the std over seeds). NaN values become JSON null, which Plotly draws as a gap.
/// Build with <see cref="Chart.Line{TX, TY}"/> or <see cref="Chart.Scatter{TX, TY}"/>.
/// </summary>
public sealed class Scatter : Trace
{
    private readonly Coordinates _x;
    private readonly double[] _y;
    private readonly double[]? _errorY;

    internal Scatter(Coordinates x, double[] y, ScatterMode mode, string? name, double[]? errorY, string? color) : base(name)
    {
        var label = Series.Label("Scatter", name);
        Series.CheckLength(x.Count, y.Length, label, "x", "y", "x");
        if (errorY is not null) Series.CheckLength(errorY.Length, y.Length, label, "errors", "y", "errors");
        _x = x; _y = y; _errorY = errorY; Mode = mode; Color = color;
    }

    /// <inheritdoc/>
    public override string Kind => "scatter";

    /// <summary>Numeric x positions, or null when x holds category labels (<see cref="XLabels"/>).</summary>
    public IReadOnlyList<double>? X => _x.Numbers;

    /// <summary>Category labels along x, or null when x is numeric.</summary>
    public IReadOnlyList<string>? XLabels => _x.Labels;

    /// <summary>The y values.</summary>
    public IReadOnlyList<double> Y => _y;

    /// <summary>Half-lengths of symmetric error bars on y, or null.</summary>
    public IReadOnlyList<double>? ErrorY => _errorY;

    /// <summary>Lines, markers or both.</summary>
    public ScatterMode Mode { get; }

    /// <summary>A CSS colour, or null for Plotly's colour cycle.</summary>
    public string? Color { get; }

    private protected override string SizeText => $"{_y.Length} pts";

    internal override void WriteProperties(Utf8JsonWriter w)
    {
        _x.Write(w, "x");
        w.WritePropertyName("y");
        FigureJson.WriteNumbers(w, _y);
        w.WriteString("mode", Mode switch { ScatterMode.Lines => "lines", ScatterMode.Markers => "markers", _ => "lines+markers" });
        if (_errorY is not null) FigureJson.WriteErrorBars(w, "error_y", _errorY);
        if (Color is not null)
        {
            w.WriteStartObject("line"); w.WriteString("color", Color); w.WriteEndObject();
            w.WriteStartObject("marker"); w.WriteString("color", Color); w.WriteEndObject();
        }
    }
}
