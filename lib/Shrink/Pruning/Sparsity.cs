using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// Sparsity measured from the weights (DESIGN.md: never from the request): the fraction of entries that are exactly 0,
/// s = Σ_l #{i : w_{l,i} = 0} / Σ_l n_l, with the per-tensor counts in <see cref="Layers"/>. After L levels of pruning a
/// fraction p of the remaining weights, s = 1 − (1 − p)^L up to the ⌈·⌉ rounding (and any weight that happens to be 0).
/// </summary>
public sealed record Sparsity(IReadOnlyList<LayerSparsity> Layers)
{
    /// <summary>Entries counted.</summary>
    public long Total => Layers.Sum(l => l.Total);

    /// <summary>Entries that are exactly 0.</summary>
    public long Zeros => Layers.Sum(l => l.Zeros);

    /// <summary>Zeros / Total.</summary>
    public double Fraction => Total == 0 ? 0 : (double)Zeros / Total;

    /// <summary>Total − Zeros.</summary>
    public long Remaining => Total - Zeros;

    /// <summary>Sparsity of the prunable weights of <paramref name="model"/> (see <see cref="Prunable"/>), minus <paramref name="ignore"/>.</summary>
    public static Sparsity Measure(nn.Module model, IEnumerable<string>? ignore = null) =>
        new(Prunable.Parameters(model, ignore).Select(p => Count(p.Name, p.Weight)).ToList());

    /// <summary>Sparsity over every parameter of <paramref name="model"/> (biases, norms and tokens included).</summary>
    public static Sparsity OfAllParameters(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new(model.named_parameters().Select(p => Count(p.name, p.parameter)).ToList());
    }

    /// <summary>The zeros of one tensor: #{i : w_i = 0} (on the tensor's device; −0 counts as 0).</summary>
    public static LayerSparsity Count(string name, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long zeros = weight.eq(0).sum().item<long>();
        return new LayerSparsity(name, weight.numel(), zeros);
    }

    /// <summary>E.g. <c>sparsity 48.8% (136,512 of 266,200 weights are 0)</c>.</summary>
    public override string ToString() => $"sparsity {Fraction:P1} ({Zeros:N0} of {Total:N0} weights are 0)";
}
