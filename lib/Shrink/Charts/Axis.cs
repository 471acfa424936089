namespace Shrink.Charts;

/// <summary>
/// One axis of a panel: its title, whether it is logarithmic, and an optional fixed range (in data units, also on a
/// log axis). Set through <see cref="Figure.WithXAxis"/>, <see cref="Figure.WithYAxis"/> and <see cref="Figure.WithZAxis"/>.
/// </summary>
/// <param name="Title">The axis title, or null for none.</param>
/// <param name="Log">True for a logarithmic axis (Plotly <c>type: log</c>).</param>
/// <param name="Min">The lower end of a fixed range, or null to autorange.</param>
/// <param name="Max">The upper end of a fixed range, or null to autorange.</param>
public sealed record Axis(string? Title = null, bool Log = false, double? Min = null, double? Max = null)
{
    /// <summary>An axis with nothing set (Plotly's defaults).</summary>
    public static Axis Default { get; } = new();

    /// <summary>True when nothing is set.</summary>
    public bool IsDefault => this == Default;

    /// <summary>This axis with the settings of <paramref name="other"/> where this one has none.</summary>
    internal Axis Or(Axis other) => new(Title ?? other.Title, Log || other.Log, Min ?? other.Min, Max ?? other.Max);

    /// <summary>Text for <see cref="Figure.ToString"/>: the title, with <c>(log)</c> when logarithmic.</summary>
    public override string ToString() => (Title ?? "") + (Log ? " (log)" : "");
}
