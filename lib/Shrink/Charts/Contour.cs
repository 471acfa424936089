using System.Text.Json;

namespace Shrink.Charts;

/// <summary>
/// A contour plot (Plotly <c>contour</c>) of <c>z[row][column]</c> over numeric x (columns) and y (rows), e.g. a
/// 2-D loss-landscape slice. Build with <see cref="Chart.Contour{TX, TY, TZ}(IEnumerable{TX}, IEnumerable{TY}, TZ[,], string?, string, bool)"/>.
/// </summary>
public sealed class Contour : MatrixTrace
{
    internal Contour(double[][] z, Coordinates x, Coordinates y, string? name, string colorscale, bool showLabels)
        : base("Contour", z, x, y, name, colorscale)
    {
        ShowLabels = showLabels;
    }

    /// <inheritdoc/>
    public override string Kind => "contour";

    /// <summary>True to print each contour line's level on it.</summary>
    public bool ShowLabels { get; }

    private protected override void WriteKindProperties(Utf8JsonWriter w)
    {
        if (!ShowLabels) return;
        w.WriteStartObject("contours");
        w.WriteBoolean("showlabels", true);
        w.WriteEndObject();
    }
}
