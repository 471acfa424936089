using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// Random directions in parameter space for loss-landscape plots and basin estimates.
/// <para>
/// <b>Filter normalisation</b> (Li, Xu, Taylor, Studer, Goldstein, NeurIPS 2018; <c>net_plotter.py</c> of
/// tomgoldstein/loss-landscape): draw δ ~ N(0, I) shaped like θ, then for every filter j of every parameter i —
/// the slice along the first axis: a row of a Linear weight, an output channel of a convolution —
/// δ_{i,j} ← δ_{i,j} / ‖δ_{i,j}‖ · ‖θ_{i,j}‖ (Frobenius norms in float64, +1e−10 in the denominator as the reference
/// code). Parameters with at most one dimension (biases, LayerNorm/BatchNorm γ and β) get δ = 0 (their
/// <c>--xignore biasbn</c>). A parameter whose first axis has length 1 (a ViT's class token and position embedding,
/// (1, T, D)) is one filter.
/// </para>
/// <para>
/// <b>Pruned networks.</b> When the model holds pruning masks (<see cref="Pruning.PruningMask"/>) the direction is
/// multiplied by the mask before normalisation (δ ← δ ⊙ m), so the slice stays in the sparse subspace and the filter
/// norms count only surviving weights (the pruned θ entries are 0 anyway).
/// </para>
/// <para>
/// <b>Randomness and devices.</b> The Gaussian entries are drawn from <c>generator</c> (a CPU generator, e.g.
/// <see cref="Torch.Seed.Generator(ulong, ReadOnlySpan{ulong})"/>) parameter by parameter in <c>named_parameters()</c>
/// order, then moved to the parameters' device: the same seed gives the same direction on every device.
/// </para>
/// </summary>
public static class RandomDirections
{
    /// <summary>A filter-normalised Gaussian direction for <paramref name="model"/> (masked when the model is pruned); see the class remarks.</summary>
    public static ParameterVector FilterNormalized(nn.Module model, Generator generator, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var theta = ParameterVector.FromModel(model, include);
        var d = Gaussian(theta, generator);
        if (theta.MaskOf(model) is { } mask) d.MultiplyInPlace(mask);
        foreach (var (name, shape, data) in d.Entries)
        {
            if (shape.Count <= 1) { data.zero_(); continue; }
            var d2 = data.reshape(shape[0], -1).to(ScalarType.Float64);              // (F, size)
            var w2 = theta[name].reshape(shape[0], -1).to(ScalarType.Float64);       // (F, size)
            var scale = w2.pow(2).sum(1).sqrt() / (d2.pow(2).sum(1).sqrt() + 1e-10);  // (F,) ‖θ_f‖ / (‖δ_f‖ + 1e−10)
            data.copy_((d2 * scale.unsqueeze(1)).reshape(data.shape));               // (…)
        }
        return d.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// A direction drawn uniformly from the unit sphere of the subspace of the model's unpruned coordinates (a
    /// Gaussian, masked, divided by its norm): the directions of the basin-volume estimate (<see cref="BasinVolume"/>).
    /// </summary>
    public static ParameterVector UnitSphere(nn.Module model, Generator generator, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        using var scope = NewDisposeScope();
        var theta = ParameterVector.FromModel(model, include);
        var d = Gaussian(theta, generator);
        if (theta.MaskOf(model) is { } mask) d.MultiplyInPlace(mask);
        return d.ScaleInPlace(1 / d.Norm()).MoveToOuterDisposeScope();
    }

    /// <summary>N(0, I) entries shaped like <paramref name="like"/>, drawn on the CPU from <paramref name="g"/> in entry order, on <paramref name="like"/>'s devices.</summary>
    internal static ParameterVector Gaussian(ParameterVector like, Generator g) =>
        ParameterVector.FromTensors(like.Entries.Select(e =>
            (e.Name, randn(e.Shape.ToArray(), ScalarType.Float32, generator: g).to(e.Data.dtype, e.Data.device))));
}
