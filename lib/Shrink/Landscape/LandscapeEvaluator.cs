using Shrink.Data;
using Shrink.Training;
using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// The metric every landscape measurement evaluates: mean cross-entropy and top-1 accuracy of a model on a fixed set of
/// images (the first <c>maxSamples</c> of a dataset, no augmentation, normalised), in evaluation mode under no-grad
/// (<see cref="Trainer.Evaluate"/>), on the model's device. Use the training set for loss-landscape geometry (the loss that training minimises)
/// and the test set for generalisation.
/// </summary>
public sealed class LandscapeEvaluator
{
    /// <summary>Evaluates on the first <paramref name="maxSamples"/> images of <paramref name="data"/> (all when 0) with <paramref name="normalization"/>.</summary>
    public LandscapeEvaluator(ImageDataset data, Normalization? normalization, int maxSamples = 0, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (maxSamples < 0) throw new ArgumentException($"LandscapeEvaluator: maxSamples must be ≥ 0 (0 = all), got {maxSamples}.");
        if (batchSize < 1) throw new ArgumentException($"LandscapeEvaluator: batchSize must be ≥ 1, got {batchSize}.");
        Data = maxSamples > 0 && maxSamples < data.Count ? data.Take(maxSamples) : data;
        Normalization = normalization;
        BatchSize = batchSize;
    }

    /// <summary>The images evaluated.</summary>
    public ImageDataset Data { get; }

    /// <summary>The input normalisation (that of training: <see cref="TrainingResult.Normalization"/>).</summary>
    public Normalization? Normalization { get; }

    /// <summary>Evaluation batch size.</summary>
    public int BatchSize { get; }

    /// <summary>Loss and accuracy of <paramref name="model"/> at its current parameters.</summary>
    public EvalResult Evaluate(nn.Module<Tensor, Tensor> model) => Trainer.Evaluate(model, Data, Normalization, BatchSize);
}
