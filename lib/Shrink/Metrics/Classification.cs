using Shrink.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Metrics;

/// <summary>Predictions, per-class accuracy and confusion matrices of a classifier on an image dataset.</summary>
public static class Classification
{
    /// <summary>
    /// Top-1 predictions argmax_c f(x)_c for every image of <paramref name="data"/>, in dataset order, in evaluation mode and
    /// without autograd, with batches on the model's device. Pass the <paramref name="normalization"/> the model was
    /// trained with (a <c>TrainingResult</c> has it).
    /// </summary>
    public static int[] Predict(nn.Module<Tensor, Tensor> model, ImageDataset data, Normalization? normalization, int batchSize = 500)
    {
        var predictions = new int[data?.Count ?? 0];
        Run(model, data!, normalization, batchSize, (batch, logits) =>
        {
            var predicted = logits.argmax(-1).cpu().data<long>().ToArray();      // (B)
            for (int i = 0; i < batch.Size; i++) predictions[batch.Indices[i]] = (int)predicted[i];
        });
        return predictions;
    }

    /// <summary>
    /// Class probabilities softmax(f(x)) for every image of <paramref name="data"/>, in dataset order (row i = image i),
    /// in evaluation mode and without autograd; see <see cref="Predict"/> for <paramref name="normalization"/>.
    /// </summary>
    public static float[][] Probabilities(nn.Module<Tensor, Tensor> model, ImageDataset data, Normalization? normalization, int batchSize = 500)
    {
        var probabilities = new float[data?.Count ?? 0][];
        Run(model, data!, normalization, batchSize, (batch, logits) =>
        {
            var p = logits.softmax(-1).cpu().contiguous();                       // (B, K)
            long k = p.shape[1];
            var values = p.data<float>().ToArray();
            for (int i = 0; i < batch.Size; i++) probabilities[batch.Indices[i]] = values.AsSpan(i * (int)k, (int)k).ToArray();
        });
        return probabilities;
    }

    /// <summary>Runs <paramref name="model"/> in evaluation mode without autograd over <paramref name="data"/> in order, on the model's device, handing each batch and its logits to <paramref name="consume"/>; restores the training flag.</summary>
    private static void Run(nn.Module<Tensor, Tensor> model, ImageDataset data, Normalization? normalization, int batchSize, Action<Batch, Tensor> consume)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            foreach (var batch in new DataLoader(data, batchSize, normalization: normalization, device: device).Enumerate())
                using (batch)
                using (NewDisposeScope())
                    consume(batch, model.forward(batch.Images));                   // (B, K)
        }
        finally { model.train(wasTraining); }
    }

    /// <summary>Confusion matrix M[true, predicted] = number of samples of class <c>true</c> predicted as <c>predicted</c>.</summary>
    /// <exception cref="ArgumentException">The arrays differ in length or hold a class outside [0, <paramref name="numClasses"/>).</exception>
    public static int[,] ConfusionMatrix(IReadOnlyList<int> labels, IReadOnlyList<int> predictions, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predictions);
        if (labels.Count != predictions.Count)
            throw new ArgumentException($"ConfusionMatrix: {labels.Count} labels but {predictions.Count} predictions.");
        var m = new int[numClasses, numClasses];
        for (int i = 0; i < labels.Count; i++)
        {
            int t = labels[i], p = predictions[i];
            if ((uint)t >= (uint)numClasses || (uint)p >= (uint)numClasses)
                throw new ArgumentException($"ConfusionMatrix: sample {i} has label {t} and prediction {p}; classes are 0 … {numClasses - 1}.");
            m[t, p]++;
        }
        return m;
    }

    /// <summary>Fraction of samples whose prediction equals the label.</summary>
    public static double Accuracy(IReadOnlyList<int> labels, IReadOnlyList<int> predictions)
    {
        if (labels.Count != predictions.Count) throw new ArgumentException($"Accuracy: {labels.Count} labels but {predictions.Count} predictions.");
        int correct = 0;
        for (int i = 0; i < labels.Count; i++) correct += labels[i] == predictions[i] ? 1 : 0;
        return labels.Count == 0 ? double.NaN : (double)correct / labels.Count;
    }

    /// <summary>Recall of each class c: M[c, c] / Σ_p M[c, p] (NaN for a class without samples).</summary>
    public static double[] PerClassAccuracy(int[,] confusion)
    {
        int k = confusion.GetLength(0);
        var acc = new double[k];
        for (int c = 0; c < k; c++)
        {
            long total = 0;
            for (int p = 0; p < k; p++) total += confusion[c, p];
            acc[c] = total == 0 ? double.NaN : (double)confusion[c, c] / total;
        }
        return acc;
    }
}
