using Shrink.Data;
using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Landscape;

/// <summary>
/// Recomputes the running statistics of every <see cref="BatchNorm2d"/> for the current parameters, as needed at each
/// point of a linear interpolation: the running mean/variance of either endpoint (or their average) do not describe the
/// activations of θ_α, and evaluating with them gives wrong losses (Li et al.'s README; Frankle et al. 2020 reset them).
/// <para>
/// The statistics become the exact average over the given training batches (PyTorch's <c>momentum=None</c>,
/// cumulative moving average, as in <c>torch.optim.swa_utils.update_bn</c>): μ = (1/N) Σ_n μ_n and
/// σ² = (1/N) Σ_n σ²_n with σ²_n the unbiased variance of batch n. Our layers update with a fixed momentum m
/// (r ← (1 − m)·r + m·s), so each batch statistic is recovered from the update as s = (r′ − (1 − m)·r)/m and folded into the
/// cumulative mean. The forward passes run in training mode under no-grad; the model's mode is restored afterwards.
/// </para>
/// </summary>
public static class BatchNormRecalibration
{
    /// <summary>True when <paramref name="model"/> has a BatchNorm layer (running statistics to recompute).</summary>
    public static bool HasBatchNorm(Module model) => model.Modules().Any(m => m is BatchNorm2d);

    /// <summary>Recomputes the running statistics on <paramref name="batches"/> (images); returns the number of batches used.</summary>
    public static int Recompute(Module<Tensor, Tensor> model, IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        var layers = model.Modules().OfType<BatchNorm2d>().ToArray();
        if (layers.Length == 0) return 0;
        bool wasTraining = model.Training;
        var mean = layers.Select(l => new double[l.NumFeatures]).ToArray();
        var var = layers.Select(l => new double[l.NumFeatures]).ToArray();
        int n = 0;
        model.Train();
        try
        {
            using var noGrad = Tensor.NoGrad();
            foreach (var x in batches)
            {
                using var scope = TensorScope.Begin();
                var before = layers.Select(l => (l.RunningMean.ToArray(), l.RunningVar.ToArray())).ToArray();
                model.Forward(x);
                n++;
                for (int k = 0; k < layers.Length; k++)
                {
                    double m = layers[k].Momentum;
                    var rm = layers[k].RunningMean.AsSpan(); var rv = layers[k].RunningVar.AsSpan();
                    for (int c = 0; c < rm.Length; c++)
                    {
                        double sm = (rm[c] - (1 - m) * before[k].Item1[c]) / m;
                        double sv = (rv[c] - (1 - m) * before[k].Item2[c]) / m;
                        mean[k][c] += (sm - mean[k][c]) / n;
                        var[k][c] += (sv - var[k][c]) / n;
                    }
                }
            }
        }
        finally { model.Train(wasTraining); }
        if (n == 0) throw new ArgumentException("BatchNormRecalibration: no batches were given.");
        for (int k = 0; k < layers.Length; k++)
        {
            var rm = layers[k].RunningMean.AsSpan(); var rv = layers[k].RunningVar.AsSpan();
            for (int c = 0; c < rm.Length; c++) { rm[c] = (float)mean[k][c]; rv[c] = (float)var[k][c]; }
        }
        return n;
    }

    /// <summary>
    /// Recomputes the running statistics on the first <paramref name="batchCount"/> batches of size
    /// <paramref name="batchSize"/> of <paramref name="train"/> (dataset order, no augmentation, <paramref name="normalization"/>).
    /// </summary>
    public static int Recompute(Module<Tensor, Tensor> model, ImageDataset train, Normalization? normalization, int batchCount = 10, int batchSize = 128)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (batchCount < 1) throw new ArgumentException($"BatchNormRecalibration: batchCount must be ≥ 1, got {batchCount}.");
        var loader = new DataLoader(train, batchSize, normalization: normalization, prefetch: 0);
        return Recompute(model, loader.Enumerate(0).Take(batchCount).Select(b => b.Images));
    }
}
