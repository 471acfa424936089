using System.Text.Json;

namespace Shrink.Charts;

/// <summary>
/// A 3-D surface (Plotly <c>surface</c>) of <c>z[row][column]</c> over numeric x (columns) and y (rows), drawn in a
/// 3-D scene; the figure's axis titles become the scene's axis titles. A surface cannot share a panel with 2-D
/// traces. Build with <see cref="Chart.Surface{TX, TY, TZ}(IEnumerable{TX}, IEnumerable{TY}, TZ[,], string?, string)"/>.
/// </summary>
public sealed class Surface : MatrixTrace
{
    internal Surface(double[][] z, Coordinates x, Coordinates y, string? name, string colorscale)
        : base("Surface", z, x, y, name, colorscale) { }

    /// <inheritdoc/>
    public override string Kind => "surface";

    /// <inheritdoc/>
    public override bool Is3D => true;

    private protected override void WriteKindProperties(Utf8JsonWriter w) { }
}
