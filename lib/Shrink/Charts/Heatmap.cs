using System.Text.Json;

namespace Shrink.Charts;

/// <summary>
/// A heatmap (Plotly <c>heatmap</c>): a colour per cell of <c>z[row][column]</c>, row = y (drawn bottom-up),
/// with optional category labels on both axes and optional value annotations in the cells.
/// Build with <see cref="Chart.Heatmap{T}(T[,], IEnumerable{string}?, IEnumerable{string}?, string?, string, string?)"/>.
/// </summary>
public sealed class Heatmap : MatrixTrace
{
    internal Heatmap(double[][] z, Coordinates? x, Coordinates? y, string? name, string colorscale, string? valueFormat)
        : base("Heatmap", z, x, y, name, colorscale)
    {
        ValueFormat = valueFormat;
    }

    /// <inheritdoc/>
    public override string Kind => "heatmap";

    /// <summary>
    /// A d3 number format for annotating each cell with its value (e.g. <c>.2f</c>, <c>.1%</c>), or null for no
    /// annotations. An empty string annotates with Plotly's default format.
    /// </summary>
    public string? ValueFormat { get; }

    private protected override void WriteKindProperties(Utf8JsonWriter w)
    {
        if (ValueFormat is null) return;
        w.WriteString("texttemplate", ValueFormat.Length == 0 ? "%{z}" : "%{z:" + ValueFormat + "}");
        w.WriteString("hovertemplate", "x: %{x}<br>y: %{y}<br>z: %{z}<extra></extra>");
    }
}
