using Shrink.Data;
using Shrink.Tensors;
using Shrink.Tensors.Nn;
using Shrink.Tensors.Optim;
using F = Shrink.Tensors.Functional;

namespace Shrink.Tests.Models;

/// <summary>Checks shared by the model tests: state-dict round trip, forward + backward, and overfitting a fixed batch.</summary>
internal static class ModelTestUtil
{
    /// <summary>The first 64 images of the bundled Fashion-MNIST training subset, normalised, with their labels.</summary>
    public static (Tensor Images, int[] Labels) FixedBatch(int count = 64)
    {
        var data = FashionMnist.LoadSubset("train").Take(count);
        using var _ = TensorScope.Suspend();
        return (data.ToTensor(Normalization.FashionMnist), [.. data.Labels]);
    }

    /// <summary>Asserts the shape of <paramref name="t"/>.</summary>
    public static void AssertShape(Tensor t, params int[] shape) => Assert.Equal(shape, t.Shape);

    /// <summary>A deterministic input batch with values in [−1, 1).</summary>
    public static Tensor Images(int b, int c, int h, int w, ulong seed) => Tensor.Rand([b, c, h, w], new Generator(seed)) * 2f - 1f;

    /// <summary>
    /// Loads <paramref name="source"/>'s state dict into <paramref name="target"/> (built from another seed) after a training-mode
    /// forward has moved <paramref name="source"/>'s BatchNorm running statistics; both must then give identical eval outputs.
    /// </summary>
    public static void AssertStateDictRoundTrip(Module<Tensor, Tensor> source, Module<Tensor, Tensor> target, Tensor x)
    {
        source.Train();
        using (Tensor.NoGrad()) source.Forward(x);
        source.Eval(); target.Eval();
        float[] expected, before;
        using (Tensor.NoGrad()) { expected = source.Forward(x).ToArray(); before = target.Forward(x).ToArray(); }
        Assert.NotEqual(expected, before);
        var state = source.StateDict(clone: true);
        Assert.Equal(source.StateDict().Keys, target.StateDict().Keys);
        var (missing, unexpected) = target.LoadStateDict(state);
        Assert.Empty(missing); Assert.Empty(unexpected);
        float[] after;
        using (Tensor.NoGrad()) after = target.Forward(x).ToArray();
        Assert.Equal(expected, after);
        source.Train(); target.Train();
    }

    /// <summary>Cross-entropy forward + backward: every parameter receives a finite, not identically zero, gradient.</summary>
    public static void AssertForwardBackward(Module<Tensor, Tensor> model, Tensor x, int[] labels)
    {
        model.Train();
        model.ZeroGrad(setToNone: true);
        var loss = F.CrossEntropy(model.Forward(x), labels);
        Assert.True(float.IsFinite(loss.Item()), $"loss {loss.Item()}");
        loss.Backward();
        foreach (var (name, p) in model.NamedParameters())
        {
            Assert.True(p.Grad is not null, $"{name} received no gradient");
            var g = p.Grad!.ToArray();
            Assert.True(g.All(float.IsFinite), $"{name} has a non-finite gradient");
            Assert.True(g.Any(v => v != 0), $"{name} has an all-zero gradient");
        }
        model.ZeroGrad(setToNone: true);
    }

    /// <summary>
    /// Trains <paramref name="model"/> full-batch with AdamW on (x, labels) for at most <paramref name="maxSteps"/> steps, checking
    /// eval-mode train accuracy every 5 steps; returns the accuracy reached and the steps taken.
    /// </summary>
    public static (double Accuracy, int Steps) Overfit(Module<Tensor, Tensor> model, Tensor x, int[] labels, int maxSteps, double lr)
    {
        var opt = new AdamW(model.Parameters(), lr: lr, weightDecay: 0);
        double accuracy = 0;
        int step = 0;
        while (step < maxSteps)
        {
            model.Train();
            using (TensorScope.Begin())
            {
                opt.ZeroGrad();
                F.CrossEntropy(model.Forward(x), labels).Backward();
                opt.Step();
            }
            step++;
            if (step % 5 == 0 || step == maxSteps)
            {
                accuracy = Accuracy(model, x, labels);
                if (accuracy > 0.9) break;
            }
        }
        model.Train();
        return (accuracy, step);
    }

    /// <summary>
    /// Full-batch AdamW on (x, labels) for <paramref name="steps"/> steps; returns the training loss before the first and after
    /// the last step (measured in training mode, i.e. with batch statistics).
    /// </summary>
    public static (float First, float Last) TrainSteps(Module<Tensor, Tensor> model, Tensor x, int[] labels, int steps, double lr)
    {
        var opt = new AdamW(model.Parameters(), lr: lr, weightDecay: 0);
        model.Train();
        float first = float.NaN;
        for (int step = 0; step < steps; step++)
        {
            using var _ = TensorScope.Begin();
            opt.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), labels);
            if (step == 0) first = loss.Item();
            loss.Backward();
            opt.Step();
        }
        float last;
        using (TensorScope.Begin())
        using (Tensor.NoGrad())
            last = F.CrossEntropy(model.Forward(x), labels).Item();
        return (first, last);
    }

    /// <summary>Eval-mode top-1 accuracy.</summary>
    public static double Accuracy(Module<Tensor, Tensor> model, Tensor x, int[] labels)
    {
        model.Eval();
        int[] predicted;
        using (TensorScope.Begin())
        using (Tensor.NoGrad())
            predicted = model.Forward(x).ArgMax(-1);
        return predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
    }
}
