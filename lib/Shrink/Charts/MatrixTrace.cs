using System.Text.Json;

namespace Shrink.Charts;

/// <summary>
/// A trace of values on a grid, <c>z[row][column]</c>, where a row is one y position and a column one x position
/// (Plotly's orientation: row 0 is drawn at the first y, at the bottom of the plot). Shared by
/// <see cref="Heatmap"/>, <see cref="Contour"/> and <see cref="Surface"/>; NaN values become JSON null (a hole).
/// </summary>
public abstract class MatrixTrace : Trace
{
    private readonly double[][] _z;
    private readonly Coordinates? _x, _y;

    private protected MatrixTrace(string kindLabel, double[][] z, Coordinates? x, Coordinates? y, string? name, string colorscale) : base(name)
    {
        var label = Series.Label(kindLabel, name);
        int cols = z[0].Length;
        if (x is not null && x.Count != cols)
            throw new ArgumentException($"{label}: x has {x.Count} values but z has {cols} columns; x needs one value per column of z (z[row][column], row = y).", "x");
        if (y is not null && y.Count != z.Length)
            throw new ArgumentException($"{label}: y has {y.Count} values but z has {z.Length} rows; y needs one value per row of z (z[row][column], row = y).", "y");
        ArgumentException.ThrowIfNullOrWhiteSpace(colorscale);
        _z = z; _x = x; _y = y; Colorscale = colorscale;
    }

    /// <summary>The values, <c>Z[row][column]</c> with row = y index and column = x index.</summary>
    public IReadOnlyList<IReadOnlyList<double>> Z => _z;

    /// <summary>Rows of <see cref="Z"/> (y positions).</summary>
    public int Rows => _z.Length;

    /// <summary>Columns of <see cref="Z"/> (x positions).</summary>
    public int Columns => _z[0].Length;

    /// <summary>Numeric x positions, or null (labels or Plotly's 0, 1, 2, …).</summary>
    public IReadOnlyList<double>? X => _x?.Numbers;

    /// <summary>Numeric y positions, or null (labels or Plotly's 0, 1, 2, …).</summary>
    public IReadOnlyList<double>? Y => _y?.Numbers;

    /// <summary>Category labels along x, or null.</summary>
    public IReadOnlyList<string>? XLabels => _x?.Labels;

    /// <summary>Category labels along y, or null.</summary>
    public IReadOnlyList<string>? YLabels => _y?.Labels;

    /// <summary>A Plotly colour scale name, e.g. <c>Viridis</c>, <c>RdBu</c>, <c>Greys</c>.</summary>
    public string Colorscale { get; }

    /// <summary>Whether the colour bar is drawn (Plotly <c>showscale</c>); default true.</summary>
    public bool ShowScale { get; internal init; } = true;

    /// <summary>Whether the colour scale runs backwards (Plotly <c>reversescale</c>); default false.</summary>
    public bool ReverseScale { get; internal init; }

    internal override bool HasColorBar => ShowScale;

    private protected override string SizeText => $"{Rows}×{Columns}";

    internal override void WriteProperties(Utf8JsonWriter w)
    {
        _x?.Write(w, "x");
        _y?.Write(w, "y");
        w.WritePropertyName("z");
        w.WriteStartArray();
        foreach (var row in _z) FigureJson.WriteNumbers(w, row);
        w.WriteEndArray();
        w.WriteString("colorscale", Colorscale);
        if (!ShowScale) w.WriteBoolean("showscale", false);
        if (ReverseScale) w.WriteBoolean("reversescale", true);
        WriteKindProperties(w);
    }

    /// <summary>Properties of the concrete kind (labels, contour options).</summary>
    private protected abstract void WriteKindProperties(Utf8JsonWriter w);
}
