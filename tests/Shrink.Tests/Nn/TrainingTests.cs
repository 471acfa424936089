using Shrink.Tensors;
using Shrink.Tensors.Nn;
using Shrink.Tensors.Optim;

namespace Shrink.Tests.Nn;

public class TrainingTests
{
    /// <summary>XOR-like quadrants in 2-D (class = sign(x₀·x₁)), points at least 0.1 from the axes.</summary>
    private static (Tensor X, Tensor OneHot, int[] Labels) Problem(int n, ulong seed)
    {
        var g = new Generator(seed);
        var x = new float[n * 2];
        var onehot = new float[n * 2];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            float a, b;
            do { a = g.NextFloat() * 2 - 1; b = g.NextFloat() * 2 - 1; } while (MathF.Abs(a) < 0.1f || MathF.Abs(b) < 0.1f);
            x[2 * i] = a; x[2 * i + 1] = b;
            labels[i] = a * b > 0 ? 1 : 0;
            onehot[2 * i + labels[i]] = 1;
        }
        return (Tensor.FromArray(x, n, 2), Tensor.FromArray(onehot, n, 2), labels);
    }

    [Fact]
    public void MlpLearnsXorWithAdamW()
    {
        const int n = 160;
        var (x, onehot, labels) = Problem(n, 1);
        var g = new Generator(7);
        var model = new Sequential(new Linear(2, 32, generator: g), new Gelu(), new Linear(32, 2, generator: g));
        var opt = new AdamW(model.Parameters(), lr: 1e-2, weightDecay: 1e-4);
        var schedule = new CosineWithWarmup(1e-2, 20, 250, minLr: 1e-3);
        float loss = float.NaN;
        for (int step = 0; step < 250; step++)
        {
            using var scope = TensorScope.Begin();
            schedule.Apply(opt, step);
            opt.ZeroGrad();
            var logits = model.Forward(x);
            var l = (logits.LogSoftmax(-1) * onehot).Sum() * (-1f / n);
            l.Backward();
            GradClip.ClipGradNorm(model.Parameters(), 5.0);
            opt.Step();
            loss = l.Item();
        }
        model.Eval();
        int[] predicted;
        using (Tensor.NoGrad()) predicted = model.Forward(x).ArgMax(-1);
        double accuracy = predicted.Zip(labels).Count(p => p.First == p.Second) / (double)n;
        Assert.True(accuracy > 0.95, $"train accuracy {accuracy:P1}, final loss {loss}");
    }
}
