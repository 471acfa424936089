using Shrink.Data;
using Shrink.Torch;
using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// Evaluates the linear path between two solutions θ_a and θ_b of the same architecture (Goodfellow et al. 2015;
/// Frankle et al. 2020): θ_α = (1 − α)·θ_a + α·θ_b for α in [0, 1], computed as θ_a + α·(θ_b − θ_a) for α ≤ ½ and
/// θ_b − (1 − α)·(θ_b − θ_a) above, so both endpoints are reproduced exactly and θ_b = θ_a gives θ_α = θ_a at every α (the
/// barrier between a model and itself is exactly 0). Returns an <see cref="InterpolationCurve"/> with the barriers.
/// <para>
/// Parameters are interpolated; buffers other than pruning masks (BatchNorm running statistics) are interpolated the
/// same way (loss-landscape's <c>--dir_type states</c>) and then, when BatchNorm layers exist and
/// <see cref="Recalibration"/> is set, recomputed at every point — endpoints included — on training batches
/// (<see cref="BatchNormRecalibration"/>). Pruning masks are not interpolated: the interpolated weights carry the zeros of
/// both endpoints' masks where they agree; integer buffers (BatchNorm's <c>num_batches_tracked</c>) are not interpolated.
/// The first model is used as the work model and restored afterwards. The path is computed on the first model's device
/// in its dtype (θ_α in float32 as θ_a + α·d or θ_b − (1 − α)·d with d = θ_b − θ_a).
/// </para>
/// </summary>
public sealed class LinearInterpolation
{
    /// <summary>Training images (with their normalisation) on which BatchNorm statistics are recomputed at each α; null = keep the interpolated statistics.</summary>
    public (ImageDataset Train, Normalization? Normalization)? Recalibration { get; init; }

    /// <summary>Training batches used per recomputation. Default 10.</summary>
    public int RecalibrationBatches { get; init; } = 10;

    /// <summary>Batch size of the recomputation. Default 128.</summary>
    public int RecalibrationBatchSize { get; init; } = 128;

    /// <summary>The α of Frankle et al. (30 evenly spaced points from 0 to 1 inclusive) — or <paramref name="count"/> of them.</summary>
    public static double[] DefaultAlphas(int count = 30) => LossLandscape.Range(0, 1, count);

    /// <summary>Loss and accuracy along the path from <paramref name="a"/> (α = 0) to <paramref name="b"/> (α = 1) at <paramref name="alphas"/> (0 and 1 are added when absent).</summary>
    public InterpolationCurve Evaluate(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b, LandscapeEvaluator evaluator, IReadOnlyList<double>? alphas = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        return Evaluate(a, b.state_dict(), evaluator, alphas);
    }

    /// <summary>As <see cref="Evaluate(nn.Module{Tensor, Tensor}, nn.Module{Tensor, Tensor}, LandscapeEvaluator, IReadOnlyList{double}?)"/> with θ_b given as a state dict (on any device).</summary>
    public InterpolationCurve Evaluate(nn.Module<Tensor, Tensor> a, IReadOnlyDictionary<string, Tensor> b, LandscapeEvaluator evaluator, IReadOnlyList<double>? alphas = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(evaluator);
        var points = (alphas ?? DefaultAlphas()).Append(0.0).Append(1.0).Distinct().Order().ToArray();
        var masks = Pruning.PruningMask.All(a).Select(m => Pruning.PruningMask.MaskName(m.Name)).ToHashSet(StringComparer.Ordinal);
        var start = Pruning.ModuleTree.CloneState(a);
        var loss = new double[points.Length]; var acc = new double[points.Length];
        bool recalibrate = Recalibration is not null && BatchNormRecalibration.HasBatchNorm(a);
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            // Interpolated: every floating-point entry but the masks; integer buffers (num_batches_tracked) stay a's.
            var keys = start.Keys.Where(k => !masks.Contains(k) && start[k].is_floating_point()).ToArray();
            foreach (var k in keys)
            {
                if (!b.TryGetValue(k, out var t)) throw new ArgumentException($"LinearInterpolation: the second model has no '{k}'.");
                if (!t.shape.SequenceEqual(start[k].shape)) throw new ArgumentException($"LinearInterpolation: '{k}' has shape ({string.Join(", ", start[k].shape)}) in the first model and ({string.Join(", ", t.shape)}) in the second.");
            }
            var sb = keys.ToDictionary(k => k, k => b[k].detach().to(start[k].dtype, start[k].device).clone());   // θ_b on a's device (a copy: b may be a)
            var diff = keys.ToDictionary(k => k, k => sb[k] - start[k]);                                   // θ_b − θ_a
            for (int p = 0; p < points.Length; p++)
            {
                using var point = NewDisposeScope();
                double alpha = points[p], beta = 1 - points[p];
                bool fromB = points[p] > 0.5;
                var state = keys.ToDictionary(k => k, k => fromB
                    ? sb[k] - diff[k] * (float)beta          // θ_b − (1 − α)·(θ_b − θ_a)
                    : start[k] + diff[k] * (float)alpha);    // θ_a + α·(θ_b − θ_a)
                a.LoadStateDictChecked(state, strict: false);
                if (recalibrate)
                {
                    var (train, normalization) = Recalibration!.Value;
                    BatchNormRecalibration.Recompute(a, train, normalization, RecalibrationBatches, RecalibrationBatchSize);
                }
                var r = evaluator.Evaluate(a);
                loss[p] = r.Loss; acc[p] = r.Accuracy;
            }
        }
        finally
        {
            a.LoadStateDictChecked(start, strict: true);
            foreach (var t in start.Values) t.Dispose();
        }
        return new InterpolationCurve(points, loss, acc);
    }
}
