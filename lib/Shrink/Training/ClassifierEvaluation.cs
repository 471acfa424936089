using Shrink.Data;
using static TorchSharp.torch;

namespace Shrink.Training;

/// <summary>Mean cross-entropy and top-1 accuracy of a classifier over a loader (what <see cref="Trainer.Evaluate"/> and the evaluation callback compute).</summary>
internal static class ClassifierEvaluation
{
    /// <summary>
    /// L = (1/N) Σ_i −log softmax(z_i)[y_i] and the fraction of arg-max hits, in evaluation mode under no_grad (the
    /// model's mode is restored after). Per-batch sums are accumulated in double on the host.
    /// </summary>
    public static EvalResult Measure(nn.Module<Tensor, Tensor> model, DataLoader loader)
    {
        bool wasTraining = model.training;
        model.eval();
        double lossSum = 0;
        long correct = 0;
        int n = 0;
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in loader.Enumerate(0))
            {
                using var owned = batch;
                using var scope = NewDisposeScope();
                var logits = model.forward(batch.Images);                                          // (B, K)
                CheckLogits(logits, batch, "test");
                lossSum += nn.functional.cross_entropy(logits, batch.Targets, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64).item<double>();
                correct += CountCorrect(logits, batch);
                n += batch.Size;
            }
        }
        finally { model.train(wasTraining); }
        return new EvalResult(n == 0 ? double.NaN : lossSum / n, n == 0 ? double.NaN : (double)correct / n, n);
    }

    /// <summary>Number of rows of the (B, K) logits whose arg-max is the label.</summary>
    public static long CountCorrect(Tensor logits, Batch batch)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return logits.argmax(1).eq(batch.Targets).sum().item<long>();                               // (B) → ()
    }

    /// <summary>Checks that <paramref name="logits"/> is (B, K) for the batch and every label is a class index below K.</summary>
    public static void CheckLogits(Tensor logits, Batch batch, string which)
    {
        if (logits.dim() != 2 || logits.size(0) != batch.Size)
            throw new ArgumentException($"Trainer: the model must return logits (B, K) with B = {batch.Size}, got ({string.Join(", ", logits.shape)}).");
        long k = logits.size(1);
        for (int i = 0; i < batch.Size; i++)
            if ((uint)batch.Labels[i] >= (ulong)k)
                throw new ArgumentException($"Trainer: label {batch.Labels[i]} of {which} sample {batch.Indices[i]} is outside the model's {k} classes.");
    }
}
