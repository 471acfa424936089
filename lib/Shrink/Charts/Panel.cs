namespace Shrink.Charts;

/// <summary>
/// One subplot of a <see cref="Figure"/>: its axes, title and the fraction of the figure it covers (Plotly axis
/// <c>domain</c>, 0..1 from the left and from the bottom). A single chart has one panel covering everything;
/// <see cref="Chart.Grid"/> makes one per cell.
/// </summary>
internal sealed record Panel(Axis X, Axis Y, Axis Z, string? Title, (double Lo, double Hi) DomainX, (double Lo, double Hi) DomainY)
{
    /// <summary>The panel of a single chart: default axes, the whole figure.</summary>
    public static Panel Whole { get; } = new(Axis.Default, Axis.Default, Axis.Default, null, (0, 1), (0, 1));
}
