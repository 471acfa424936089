using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// 1-D and 2-D slices of the loss landscape around a solution θ* (Li et al. 2018): f(α) = L(θ* + α·δ) and
/// f(α, β) = L(θ* + α·δ + β·η), with δ, η usually filter-normalised random directions
/// (<see cref="RandomDirections.FilterNormalized"/>, masked for pruned networks). The model is moved to each point,
/// evaluated with a <see cref="LandscapeEvaluator"/>, and restored to θ* at the end (the points are computed on the
/// model's device, one at a time, each in its own dispose scope). BatchNorm running statistics are left
/// as they are at θ* (as in the reference code); recompute them per point with <see cref="LinearInterpolation"/>'s option
/// when comparing two different solutions.
/// </summary>
public static class LossLandscape
{
    /// <summary><paramref name="count"/> evenly spaced values from <paramref name="from"/> to <paramref name="to"/> inclusive.</summary>
    public static double[] Range(double from, double to, int count)
    {
        if (count < 2) throw new ArgumentException($"LossLandscape.Range: count must be ≥ 2, got {count}.");
        return Enumerable.Range(0, count).Select(i => i == count - 1 ? to : from + (to - from) * i / (count - 1)).ToArray();
    }

    /// <summary>f(α) = L(θ* + α·δ) at every α of <paramref name="alphas"/> (θ* = the model's current parameters).</summary>
    public static LossCurve Slice1D(nn.Module<Tensor, Tensor> model, ParameterVector direction, IReadOnlyList<double> alphas, LandscapeEvaluator evaluator)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(direction);
        ArgumentNullException.ThrowIfNull(evaluator);
        var theta = ParameterVector.FromModel(model, n => direction.Names.Contains(n));
        var loss = new double[alphas.Count]; var acc = new double[alphas.Count];
        try
        {
            for (int i = 0; i < alphas.Count; i++)
            {
                using (var point = NewDisposeScope()) theta.Clone().AddInPlace(direction, alphas[i]).CopyTo(model);
                var r = evaluator.Evaluate(model);
                loss[i] = r.Loss; acc[i] = r.Accuracy;
            }
        }
        finally { theta.CopyTo(model); theta.Dispose(); }
        return new LossCurve(alphas.ToArray(), loss, acc);
    }

    /// <summary>f(α, β) = L(θ* + α·δ + β·η) on the grid <paramref name="alphas"/> × <paramref name="betas"/>.</summary>
    public static LossSurface Slice2D(nn.Module<Tensor, Tensor> model, ParameterVector delta, ParameterVector eta,
        IReadOnlyList<double> alphas, IReadOnlyList<double> betas, LandscapeEvaluator evaluator)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(delta);
        ArgumentNullException.ThrowIfNull(eta);
        ArgumentNullException.ThrowIfNull(evaluator);
        var theta = ParameterVector.FromModel(model, n => delta.Names.Contains(n));
        var loss = new double[betas.Count][]; var acc = new double[betas.Count][];
        try
        {
            for (int i = 0; i < betas.Count; i++)
            {
                loss[i] = new double[alphas.Count]; acc[i] = new double[alphas.Count];
                for (int j = 0; j < alphas.Count; j++)
                {
                    using (var point = NewDisposeScope()) theta.Clone().AddInPlace(delta, alphas[j]).AddInPlace(eta, betas[i]).CopyTo(model);
                    var r = evaluator.Evaluate(model);
                    loss[i][j] = r.Loss; acc[i][j] = r.Accuracy;
                }
            }
        }
        finally { theta.CopyTo(model); theta.Dispose(); }
        return new LossSurface(alphas.ToArray(), betas.ToArray(), loss, acc);
    }
}
