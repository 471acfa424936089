using Shrink.Data;
using Shrink.Pruning;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// Recomputes the running statistics of every BatchNorm layer (<see cref="BatchNorm"/>: 1-D, 2-D and 3-D) for the current
/// parameters, as needed at each point of a linear interpolation: the running mean/variance of either endpoint (or their
/// average) do not describe the activations of θ_α, and evaluating with them gives wrong losses (Li et al.'s README;
/// Frankle et al. 2020 reset them).
/// <para>
/// The statistics become the exact average over the given training batches (PyTorch's <c>momentum=None</c>,
/// cumulative moving average, as in <c>torch.optim.swa_utils.update_bn</c>): μ = (1/N) Σ_n μ_n and
/// σ² = (1/N) Σ_n σ²_n with σ²_n the unbiased variance of batch n. Each layer's momentum is set to 1 for the passes, so
/// after batch n its running statistics are exactly (μ_n, σ²_n) (r ← 0·r + 1·s); they are averaged in float64, written
/// back, and the momentum restored. The forward passes run in training mode under no-grad on the model's device;
/// the model's mode is restored afterwards, and <c>num_batches_tracked</c> counts the passes as usual.
/// </para>
/// </summary>
public static class BatchNormRecalibration
{
    /// <summary>True when <paramref name="model"/> has a BatchNorm layer (running statistics to recompute).</summary>
    public static bool HasBatchNorm(nn.Module model) => Layers(model).Length > 0;

    /// <summary>Recomputes the running statistics on <paramref name="batches"/> (images, moved to the model's device); returns the number of batches used.</summary>
    /// <exception cref="ArgumentException">No batches were given (the statistics are left as they were).</exception>
    public static int Recompute(nn.Module<Tensor, Tensor> model, IEnumerable<Tensor> batches)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batches);
        var layers = Layers(model);
        if (layers.Length == 0) return 0;
        bool wasTraining = model.training;
        var momenta = layers.Select(l => l.momentum).ToArray();
        var device = ModuleTree.DeviceOf(model);
        var mean = new Tensor[layers.Length];
        var var = new Tensor[layers.Length];
        int n = 0;
        using var scope = NewDisposeScope();
        try
        {
            using var noGrad = no_grad();
            model.train();
            foreach (var l in layers) l.momentum = 1.0;
            for (int k = 0; k < layers.Length; k++)
            {
                mean[k] = zeros(layers[k].num_features, ScalarType.Float64, layers[k].running_mean!.device);   // (C,)
                var[k] = zeros(layers[k].num_features, ScalarType.Float64, layers[k].running_var!.device);     // (C,)
            }
            foreach (var x in batches)
            {
                using (NewDisposeScope()) model.forward(x.to(device));
                n++;
                for (int k = 0; k < layers.Length; k++)
                {
                    mean[k].add_(layers[k].running_mean!.to(ScalarType.Float64).sub(mean[k]).div_(n));   // μ ← μ + (μ_n − μ)/n
                    var[k].add_(layers[k].running_var!.to(ScalarType.Float64).sub(var[k]).div_(n));      // σ² ← σ² + (σ²_n − σ²)/n
                }
            }
            if (n > 0)
                for (int k = 0; k < layers.Length; k++)
                {
                    layers[k].running_mean!.copy_(mean[k]);
                    layers[k].running_var!.copy_(var[k]);
                }
        }
        finally
        {
            for (int k = 0; k < layers.Length; k++) layers[k].momentum = momenta[k];
            model.train(wasTraining);
        }
        if (n == 0) throw new ArgumentException("BatchNormRecalibration: no batches were given.");
        return n;
    }

    /// <summary>
    /// Recomputes the running statistics on the first <paramref name="batchCount"/> batches of size
    /// <paramref name="batchSize"/> of <paramref name="train"/> (dataset order, no augmentation, <paramref name="normalization"/>).
    /// </summary>
    public static int Recompute(nn.Module<Tensor, Tensor> model, ImageDataset train, Normalization? normalization, int batchCount = 10, int batchSize = 128)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (batchCount < 1) throw new ArgumentException($"BatchNormRecalibration: batchCount must be ≥ 1, got {batchCount}.");
        var loader = new Data.DataLoader(train, batchSize, normalization: normalization, prefetch: 0, device: ModuleTree.DeviceOf(model));
        return Recompute(model, loader.Enumerate(0).Take(batchCount).Select(b => b.Images));
    }

    private static BatchNorm[] Layers(nn.Module model) =>
        ModuleTree.SelfAndDescendants(model).Select(m => m.Module).OfType<BatchNorm>()
            .Where(l => l.track_running_stats && l.running_mean is not null && l.running_var is not null).ToArray();
}
