using Shrink.Data;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Tests.Models;

/// <summary>Checks shared by the model tests: state-dict round trip, forward + backward, and overfitting a fixed batch.</summary>
internal static class ModelTestUtil
{
    /// <summary>The first <paramref name="count"/> images of the bundled Fashion-MNIST training subset, normalised, with their labels as an int64 tensor.</summary>
    public static (Tensor Images, Tensor Labels) FixedBatch(int count = 64)
    {
        var data = FashionMnist.LoadSubset("train").Take(count);
        return (data.ToTensor(Normalization.FashionMnist), tensor(data.Labels.Select(y => (long)y).ToArray()));
    }

    /// <summary>Int64 class targets.</summary>
    public static Tensor Targets(params long[] labels) => tensor(labels);

    /// <summary>Asserts the shape of <paramref name="t"/>.</summary>
    public static void AssertShape(Tensor t, params long[] shape) => Assert.Equal(shape, t.shape);

    /// <summary>A deterministic input batch with values in [−1, 1).</summary>
    public static Tensor Images(long b, long c, long h, long w, ulong seed) => rand([b, c, h, w], generator: Seed.Generator(seed)) * 2f - 1f;

    /// <summary>The values of a tensor as a flat float array (any device, any layout).</summary>
    public static float[] Values(Tensor t) => t.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>
    /// Loads <paramref name="source"/>'s state dict into <paramref name="target"/> (built from another seed) after a training-mode
    /// forward has moved <paramref name="source"/>'s BatchNorm running statistics; both must then give identical eval outputs.
    /// </summary>
    public static void AssertStateDictRoundTrip(nn.Module<Tensor, Tensor> source, nn.Module<Tensor, Tensor> target, Tensor x)
    {
        source.train();
        using (no_grad()) source.forward(x);
        source.eval(); target.eval();
        float[] expected, before;
        using (no_grad()) { expected = Values(source.forward(x)); before = Values(target.forward(x)); }
        Assert.NotEqual(expected, before);
        Assert.Equal(source.state_dict().Keys, target.state_dict().Keys);
        var (missing, unexpected) = target.LoadStateDictChecked(source.state_dict());
        Assert.Empty(missing); Assert.Empty(unexpected);
        float[] after;
        using (no_grad()) after = Values(target.forward(x));
        Assert.Equal(expected, after);
        source.train(); target.train();
    }

    /// <summary>Cross-entropy forward + backward: every parameter receives a finite, not identically zero, gradient.</summary>
    public static void AssertForwardBackward(nn.Module<Tensor, Tensor> model, Tensor x, Tensor labels)
    {
        model.train();
        model.zero_grad();
        var loss = nn.functional.cross_entropy(model.forward(x), labels);
        Assert.True(float.IsFinite(loss.item<float>()), $"loss {loss.item<float>()}");
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} received no gradient");
            var g = Values(p.grad!);
            Assert.True(g.All(float.IsFinite), $"{name} has a non-finite gradient");
            Assert.True(g.Any(v => v != 0), $"{name} has an all-zero gradient");
        }
        model.zero_grad();
    }

    /// <summary>
    /// Trains <paramref name="model"/> full-batch with AdamW on (x, labels) for at most <paramref name="maxSteps"/> steps, checking
    /// eval-mode train accuracy every 5 steps; returns the accuracy reached and the steps taken.
    /// </summary>
    public static (double Accuracy, int Steps) Overfit(nn.Module<Tensor, Tensor> model, Tensor x, Tensor labels, int maxSteps, double lr)
    {
        var opt = optim.AdamW(model.parameters(), lr: lr, weight_decay: 0);
        double accuracy = 0;
        int step = 0;
        while (step < maxSteps)
        {
            model.train();
            using (NewDisposeScope())
            {
                opt.zero_grad();
                nn.functional.cross_entropy(model.forward(x), labels).backward();
                opt.step();
            }
            step++;
            if (step % 5 == 0 || step == maxSteps)
            {
                accuracy = Accuracy(model, x, labels);
                if (accuracy > 0.9) break;
            }
        }
        model.train();
        return (accuracy, step);
    }

    /// <summary>
    /// Full-batch AdamW on (x, labels) for <paramref name="steps"/> steps; returns the training loss before the first and after
    /// the last step (measured in training mode, i.e. with batch statistics).
    /// </summary>
    public static (float First, float Last) TrainSteps(nn.Module<Tensor, Tensor> model, Tensor x, Tensor labels, int steps, double lr)
    {
        var opt = optim.AdamW(model.parameters(), lr: lr, weight_decay: 0);
        model.train();
        float first = float.NaN;
        for (int step = 0; step < steps; step++)
        {
            using var _ = NewDisposeScope();
            opt.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(x), labels);
            if (step == 0) first = loss.item<float>();
            loss.backward();
            opt.step();
        }
        using (NewDisposeScope())
        using (no_grad())
            return (first, nn.functional.cross_entropy(model.forward(x), labels).item<float>());
    }

    /// <summary>Eval-mode top-1 accuracy.</summary>
    public static double Accuracy(nn.Module<Tensor, Tensor> model, Tensor x, Tensor labels)
    {
        model.eval();
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        return model.forward(x).argmax(-1).eq(labels).to_type(ScalarType.Float64).mean().item<double>();
    }
}
