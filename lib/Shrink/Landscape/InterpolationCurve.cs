namespace Shrink.Landscape;

/// <summary>
/// Loss and error along the linear path θ_α = (1 − α)·θ_a + α·θ_b between two solutions, with the barriers.
/// <list type="bullet">
/// <item><see cref="ErrorBarrier"/> = max_α ε(θ_α) − ½(ε(θ_a) + ε(θ_b)) — Frankle et al. 2020 ("linear mode connectivity"): a
/// pair is linearly connected (stable) when this is ≈ 0 (they use 2%).</item>
/// <item><see cref="LossBarrier"/> = max_α L(θ_α) − ½(L(θ_a) + L(θ_b)), the same with the loss.</item>
/// <item><see cref="LossBarrierAboveLinear"/> = max_α [L(θ_α) − ((1 − α)·L(θ_a) + α·L(θ_b))], the loss barrier relative to the
/// straight line between the endpoint losses (used by later papers).</item>
/// </list>
/// The maxima run over the evaluated α, which always include 0 and 1, so every barrier is ≥ 0.
/// </summary>
public sealed record InterpolationCurve(double[] Alphas, double[] Loss, double[] Accuracy)
{
    /// <summary>1 − accuracy at each α.</summary>
    public double[] Error => Accuracy.Select(a => 1 - a).ToArray();

    /// <summary>max_α ε(α) − ½(ε(0) + ε(1)).</summary>
    public double ErrorBarrier => Error.Max() - 0.5 * (Error[0] + Error[^1]);

    /// <summary>max_α L(α) − ½(L(0) + L(1)).</summary>
    public double LossBarrier => Loss.Max() - 0.5 * (Loss[0] + Loss[^1]);

    /// <summary>max_α [L(α) − ((1 − α)·L(0) + α·L(1))].</summary>
    public double LossBarrierAboveLinear => Alphas.Select((a, i) => Loss[i] - ((1 - a) * Loss[0] + a * Loss[^1])).Max();
}
