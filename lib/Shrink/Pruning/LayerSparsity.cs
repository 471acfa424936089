namespace Shrink.Pruning;

/// <summary>The zeros of one weight tensor, counted from its values: <paramref name="Zeros"/> of <paramref name="Total"/> entries are exactly 0.</summary>
public sealed record LayerSparsity(string Name, long Total, long Zeros)
{
    /// <summary>Zeros / Total (0 for an empty tensor).</summary>
    public double Fraction => Total == 0 ? 0 : (double)Zeros / Total;

    /// <summary>Total − Zeros.</summary>
    public long Remaining => Total - Zeros;
}
