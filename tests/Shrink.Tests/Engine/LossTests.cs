using Shrink.Tensors;
using static Shrink.Tests.Engine.GradCheck;
using F = Shrink.Tensors.Functional;

namespace Shrink.Tests.Engine;

/// <summary>Losses (Ops/Losses.cs): closed-form values computed by hand in double, gradient checks in every reduction, errors.</summary>
public class LossTests
{
    private static void Near(double expected, float actual, double tol = 1e-5) =>
        Assert.True(Math.Abs(expected - actual) <= tol * (1 + Math.Abs(expected)), $"expected {expected}, got {actual}");

    private static double[] LogSoftmax(double[] x, double tau = 1)
    {
        var z = x.Select(v => v / tau).ToArray();
        double max = z.Max(), lse = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
        return z.Select(v => v - lse).ToArray();
    }

    private static readonly string[] Reductions = ["mean", "sum", "none"];

    // ---------------------------------------------------------------- CrossEntropy, hard targets

    [Fact]
    public void CrossEntropyOfUniformLogitsIsLnC()
    {
        var logits = Tensor.Full([4, 7], 0.3f);
        Near(Math.Log(7), F.CrossEntropy(logits, [0, 3, 6, 2]).Item());
        Near(Math.Log(7), F.CrossEntropy(logits, [0, 3, 6, 2], labelSmoothing: 0.2f).Item());   // every class has −log p = ln C
    }

    [Fact]
    public void CrossEntropyHandComputed()
    {
        double[][] x = [[1, 2, 3], [0.5, -1, 0.25]];
        int[] t = [2, 0];
        var logits = Tensor.FromArray(x.SelectMany(r => r.Select(v => (float)v)).ToArray(), 2, 3);
        double[] nll = x.Select((r, i) => -LogSoftmax(r)[t[i]]).ToArray();
        Near(nll.Average(), F.CrossEntropy(logits, t).Item());
        Near(nll.Sum(), F.CrossEntropy(logits, t, reduction: "sum").Item());
        var none = F.CrossEntropy(logits, t, reduction: "none");
        Assert.Equal([2], none.Shape);
        Near(nll[0], none.ToArray()[0]); Near(nll[1], none.ToArray()[1]);

        // Label smoothing as PyTorch: (1 − ε)·NLL + ε·mean_c(−log p_c).
        const double eps = 0.1;
        double[] smooth = x.Select((r, i) => { var lp = LogSoftmax(r); return (1 - eps) * -lp[t[i]] + eps * lp.Average(v => -v); }).ToArray();
        Near(smooth.Average(), F.CrossEntropy(logits, t, labelSmoothing: 0.1f).Item());

        // ignoreIndex: the ignored row contributes nothing and "mean" divides by the rows that remain.
        Near(nll[1], F.CrossEntropy(logits, [-100, 0]).Item());
        Near(nll[1], F.CrossEntropy(logits, [1, 0], ignoreIndex: 1).Item());
        Assert.Equal(0f, F.CrossEntropy(logits, [-100, 0], reduction: "none").ToArray()[0]);
        Assert.True(float.IsNaN(F.CrossEntropy(logits, [-100, -100]).Item()));   // 0/0 as PyTorch
    }

    [Fact]
    public void CrossEntropyMatchesComposite()
    {
        var x = Tensor.Randn([6, 5], new Generator(3));
        int[] t = [0, 4, 2, 2, 1, 3];
        var onehot = Tensor.Zeros(6, 5);
        for (int i = 0; i < 6; i++) onehot.AsSpan()[i * 5 + t[i]] = 1f;
        var smoothed = onehot * 0.8f + 0.2f / 5;
        var composite = (-(smoothed * x.LogSoftmax(-1)).Sum(-1)).Mean();
        Near(composite.Item(), F.CrossEntropy(x, t, labelSmoothing: 0.2f).Item());
        Near(composite.Item(), F.CrossEntropy(x, smoothed).Item());
        Near(composite.Item(), F.CrossEntropy(x, onehot, labelSmoothing: 0.2f).Item());
    }

    [Fact]
    public void CrossEntropyGradAllReductions()
    {
        foreach (var r in Reductions)
        {
            Check($"CrossEntropy {r}", x => F.CrossEntropy(x[0] * 2f, [1, 0, 3], reduction: r), Input([3, 4], 1));
            Check($"CrossEntropy {r} smoothing", x => F.CrossEntropy(x[0] * 2f, [1, 0, 3], labelSmoothing: 0.15f, reduction: r), Input([3, 4], 2));
            Check($"CrossEntropy {r} ignore", x => F.CrossEntropy(x[0] * 2f, [1, -100, 3, 2], labelSmoothing: 0.1f, reduction: r), Input([4, 4], 3));
        }
    }

    [Fact] public void CrossEntropyGradTransposed() => Check("CrossEntropy(transposed)", x => F.CrossEntropy(x[0].MT, [2, 0, 1]), Input([3, 3], 1));

    [Fact]
    public void CrossEntropySpatialAndUnbatched()
    {
        // (N, C, d) logits with N·d targets, as PyTorch; "none" keeps (N, d).
        Check("CrossEntropy (N, C, d)", x => F.CrossEntropy(x[0], [0, 2, 1, 1, 0, 2], labelSmoothing: 0.1f, reduction: "none"), Input([2, 3, 3], 1));
        var x = Tensor.Randn([2, 3, 2], new Generator(1));
        int[] t = [0, 2, 1, 1];
        var rows = x.Permute(0, 2, 1).Reshape(4, 3);
        Near(F.CrossEntropy(rows, t).Item(), F.CrossEntropy(x, t).Item());
        Assert.Equal([2, 2], F.CrossEntropy(x, t, reduction: "none").Shape);
        var v = Tensor.FromArray([1f, 2f, 3f], 3);
        Near(-LogSoftmax([1, 2, 3])[1], F.CrossEntropy(v, [1]).Item());
        Assert.Empty(F.CrossEntropy(v, [1], reduction: "none").Shape);
    }

    [Fact]
    public void CrossEntropyErrors()
    {
        var x = Tensor.Zeros(2, 5);
        var e = Assert.Throws<ArgumentException>(() => F.CrossEntropy(x, [1, 7]));
        Assert.Contains("7", e.Message); Assert.Contains("index 1", e.Message); Assert.Contains("5 classes", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => F.CrossEntropy(x, [1, 2, 3]));
        Assert.Contains("[2, 5]", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => F.CrossEntropy(x, [1, 2], reduction: "avg"));
        Assert.Contains("\"mean\"", e3.Message); Assert.Contains("\"sum\"", e3.Message); Assert.Contains("\"none\"", e3.Message);
        Assert.Throws<ArgumentException>(() => F.CrossEntropy(x, Tensor.Zeros(2, 4)));
    }

    // ---------------------------------------------------------------- CrossEntropy, probability targets

    [Fact]
    public void SoftCrossEntropyGrad()
    {
        foreach (var r in Reductions)
        {
            Check($"CrossEntropy soft {r}", x => F.CrossEntropy(x[0] * 2f, x[1].Softmax(-1), reduction: r), Input([3, 4], 1), Input([3, 4], 2));
            Check($"CrossEntropy soft {r} smoothing", x => F.CrossEntropy(x[0] * 2f, x[1].Softmax(-1), labelSmoothing: 0.2f, reduction: r), Input([3, 4], 3), Input([3, 4], 4));
        }
        Check("CrossEntropy soft (N, C, d)", x => F.CrossEntropy(x[0], x[1].Softmax(1), reduction: "none"), Input([2, 3, 2], 5), Input([2, 3, 2], 6));
    }

    [Fact]
    public void SoftCrossEntropyHandComputed()
    {
        double[] x = [0.2, -0.4, 1.1], p = [0.5, 0.3, 0.2];
        var lp = LogSoftmax(x);
        double expected = -p.Zip(lp, (a, b) => a * b).Sum();
        Near(expected, F.CrossEntropy(Tensor.FromArray(x.Select(v => (float)v).ToArray(), 1, 3), Tensor.FromArray(p.Select(v => (float)v).ToArray(), 1, 3)).Item());
    }

    // ---------------------------------------------------------------- NllLoss

    [Fact]
    public void NllLossMatchesCrossEntropy()
    {
        var x = Tensor.Randn([5, 4], new Generator(2));
        int[] t = [3, 0, -100, 1, 1];
        foreach (var r in Reductions)
            Assert.Equal(F.CrossEntropy(x, t, reduction: r).ToArray(), F.NllLoss(x.LogSoftmax(-1), t, reduction: r).ToArray(), (a, b) => Math.Abs(a - b) < 1e-5f);
        Near((0.7 + 2.0) / 2, F.NllLoss(Tensor.FromArray([-0.5f, -0.7f, -2f, -0.1f], 2, 2), [1, 0]).Item());
    }

    [Fact]
    public void NllLossGrad()
    {
        foreach (var r in Reductions)
            Check($"NllLoss {r}", x => F.NllLoss(x[0], [2, -100, 0, 1], reduction: r), Input([4, 3], 1));
        Check("NllLoss ignore 0 (N, C, d)", x => F.NllLoss(x[0], [0, 1, 2, 0], ignoreIndex: 0), Input([2, 3, 2], 2));
    }

    // ---------------------------------------------------------------- KlDiv

    [Fact]
    public void KlDivOfEqualDistributionsIsZero()
    {
        var logits = Tensor.Randn([4, 6], new Generator(5));
        Assert.True(Math.Abs(F.KlDiv(logits.LogSoftmax(-1), logits.Softmax(-1)).Item()) < 1e-6f);
        Assert.True(Math.Abs(F.KlDiv(logits.LogSoftmax(-1), logits.LogSoftmax(-1), logTarget: true).Item()) < 1e-6f);
    }

    [Fact]
    public void KnowledgeDistillationTermHandComputed()
    {
        // τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) reduced by batchmean, computed by hand in double.
        double[][] s = [[1, 2, 0.5], [0.1, -1, 2]], t = [[2, 1, 0], [0, 0, 1]];
        const double tau = 2;
        double total = 0;
        for (int i = 0; i < 2; i++)
        {
            var lq = LogSoftmax(s[i], tau); var lp = LogSoftmax(t[i], tau);
            for (int c = 0; c < 3; c++) total += Math.Exp(lp[c]) * (lp[c] - lq[c]);
        }
        double expected = tau * tau * total / 2;
        var st = Tensor.FromArray(s.SelectMany(r => r.Select(v => (float)v)).ToArray(), 2, 3);
        var tt = Tensor.FromArray(t.SelectMany(r => r.Select(v => (float)v)).ToArray(), 2, 3);
        var kd = F.KlDiv((st / (float)tau).LogSoftmax(-1), (tt / (float)tau).Softmax(-1)) * (float)(tau * tau);
        Near(expected, kd.Item());
        Near(expected / 3, (F.KlDiv((st / 2f).LogSoftmax(-1), (tt / 2f).Softmax(-1), "mean") * 4f).Item());   // mean divides by B·C
        Near(expected * 2, (F.KlDiv((st / 2f).LogSoftmax(-1), (tt / 2f).Softmax(-1), "sum") * 4f).Item());
        Near(expected, (F.KlDiv((st / 2f).LogSoftmax(-1), (tt / 2f).LogSoftmax(-1), logTarget: true) * 4f).Item());
    }

    [Fact]
    public void KlDivZeroTargetsAndReductions()
    {
        var input = Tensor.FromArray([-1f, -2f, -0.5f, -3f], 2, 2);
        var target = Tensor.FromArray([0f, 1f, 0.5f, 0.5f], 2, 2);
        var none = F.KlDiv(input, target, "none").ToArray();
        Assert.Equal(0f, none[0]);                                       // 0·log 0 = 0
        Near(1 * (0 - -2.0), none[1]);
        Near(0.5 * (Math.Log(0.5) + 0.5), none[2]);
        Near(0.5 * (Math.Log(0.5) + 3), none[3]);
        Near(none.Sum() / 2, F.KlDiv(input, target).Item());
        Near(none.Sum() / 4, F.KlDiv(input, target, "mean").Item());
        Near(none.Sum(), F.KlDiv(input, target, "sum").Item());
        var e = Assert.Throws<ArgumentException>(() => F.KlDiv(input, target, "avg"));
        Assert.Contains("\"batchmean\"", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => F.KlDiv(input, Tensor.Zeros(2, 3)));
        Assert.Contains("[2, 2]", e2.Message); Assert.Contains("[2, 3]", e2.Message);
    }

    [Fact]
    public void KlDivGrad()
    {
        foreach (var r in new[] { "batchmean", "mean", "sum", "none" })
        {
            Check($"KlDiv {r}", x => F.KlDiv(x[0].LogSoftmax(-1), x[1].Softmax(-1), r), Input([3, 4], 1), Input([3, 4], 2));
            Check($"KlDiv {r} logTarget", x => F.KlDiv(x[0].LogSoftmax(-1), x[1].LogSoftmax(-1), r, logTarget: true), Input([3, 4], 3), Input([3, 4], 4));
        }
        Check("KlDiv transposed", x => F.KlDiv(x[0].MT.LogSoftmax(-1), x[1].Softmax(-1) * 0.5f), Input([4, 3], 5), Input([3, 4], 6));
    }

    // ---------------------------------------------------------------- Mse

    [Fact]
    public void MseValuesAndGrad()
    {
        var a = Tensor.FromArray([1f, 2f, 3f], 3); var b = Tensor.FromArray([1.5f, 0f, 3f], 3);
        Near((0.25 + 4) / 3, F.Mse(a, b).Item());
        Near(4.25, F.Mse(a, b, "sum").Item());
        Assert.Equal([0.25f, 4f, 0f], F.Mse(a, b, "none").ToArray());
        foreach (var r in Reductions) Check($"Mse {r}", x => F.Mse(x[0], x[1].MT, r), Input([2, 3], 1), Input([3, 2], 2));
        Assert.Throws<ArgumentException>(() => F.Mse(a, Tensor.Zeros(4)));
        Assert.Throws<ArgumentException>(() => F.Mse(a, b, "batchmean"));
    }
}
