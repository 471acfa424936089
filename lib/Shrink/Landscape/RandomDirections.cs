using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Landscape;

/// <summary>
/// Random directions in parameter space for loss-landscape plots and basin estimates.
/// <para>
/// <b>Filter normalisation</b> (Li, Xu, Taylor, Studer, Goldstein, NeurIPS 2018; <c>net_plotter.py</c> of
/// tomgoldstein/loss-landscape): draw δ ~ N(0, I) shaped like θ, then for every filter j of every parameter i —
/// the slice along the first axis: a row of a Linear weight, an output channel of a convolution —
/// δ_{i,j} ← δ_{i,j} / ‖δ_{i,j}‖ · ‖θ_{i,j}‖ (Frobenius norms, +1e−10 in the denominator as the reference code). Parameters
/// with at most one dimension (biases, LayerNorm/BatchNorm γ and β) get δ = 0 (their <c>--xignore biasbn</c>). A
/// parameter whose first axis has length 1 (a ViT's class token and position embedding, (1, T, D)) is one filter.
/// </para>
/// <para>
/// <b>Pruned networks.</b> When the model holds pruning masks (<see cref="Pruning.PruningMask"/>) the direction is
/// multiplied by the mask before normalisation (δ ← δ ⊙ m), so the slice stays in the sparse subspace and the filter
/// norms count only surviving weights (the pruned θ entries are 0 anyway).
/// </para>
/// </summary>
public static class RandomDirections
{
    /// <summary>A filter-normalised Gaussian direction for <paramref name="model"/> (masked when the model is pruned); see the class remarks.</summary>
    public static ParameterVector FilterNormalized(Module model, Generator generator, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var theta = ParameterVector.FromModel(model, include);
        var d = Gaussian(theta, generator);
        if (theta.MaskOf(model) is { } mask) d.MultiplyInPlace(mask);
        foreach (var (name, shape, data) in d.Entries)
        {
            if (shape.Count <= 1) { Array.Clear(data); continue; }
            var w = theta[name];
            int filters = shape[0], size = data.Length / filters;
            for (int f = 0; f < filters; f++)
            {
                double dn = 0, wn = 0;
                for (int i = f * size; i < (f + 1) * size; i++) { dn += (double)data[i] * data[i]; wn += (double)w[i] * w[i]; }
                double scale = Math.Sqrt(wn) / (Math.Sqrt(dn) + 1e-10);
                for (int i = f * size; i < (f + 1) * size; i++) data[i] = (float)(data[i] * scale);
            }
        }
        return d;
    }

    /// <summary>
    /// A direction drawn uniformly from the unit sphere of the subspace of the model's unpruned coordinates (a
    /// Gaussian, masked, divided by its norm): the directions of the basin-volume estimate (<see cref="BasinVolume"/>).
    /// </summary>
    public static ParameterVector UnitSphere(Module model, Generator generator, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var theta = ParameterVector.FromModel(model, include);
        var d = Gaussian(theta, generator);
        if (theta.MaskOf(model) is { } mask) d.MultiplyInPlace(mask);
        return d.ScaleInPlace(1 / d.Norm());
    }

    private static ParameterVector Gaussian(ParameterVector like, Generator g)
    {
        var d = like.ZerosLike();
        foreach (var (_, _, data) in d.Entries)
            for (int i = 0; i < data.Length; i++) data[i] = (float)g.NextNormal();
        return d;
    }
}
