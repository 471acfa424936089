using Shrink.Distillation;
using Shrink.Torch;
using static Shrink.Tests.Distillation.DistillationGradCheck;
using static TorchSharp.torch;

namespace Shrink.Tests.Distillation;

/// <summary>Logit losses: each equals its closed form computed by hand in double, and passes a finite-difference gradient check.</summary>
public class DistillationLossTests
{
    public DistillationLossTests() => TorchNative.EnsureLoaded();

    internal static void Near(double expected, float actual, double tol = 2e-5) =>
        Assert.True(Math.Abs(expected - actual) <= tol * (1 + Math.Abs(expected)), $"expected {expected}, got {actual}");

    internal static double[] Softmax(double[] z, double tau = 1)
    {
        var s = z.Select(v => v / tau).ToArray();
        double max = s.Max(), sum = s.Sum(v => Math.Exp(v - max));
        return s.Select(v => Math.Exp(v - max) / sum).ToArray();
    }

    internal static double Kl(double[] p, double[] q) => p.Select((pi, i) => pi == 0 ? 0 : pi * (Math.Log(pi) - Math.Log(q[i]))).Sum();

    internal static double Ce(double[] z, int y) => -Math.Log(Softmax(z)[y]);

    internal static Tensor T(double[][] rows, ScalarType dtype = ScalarType.Float32) =>
        tensor(rows.SelectMany(r => r).ToArray(), rows.Length, rows[0].Length).to(dtype);

    internal static float[] Values(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    internal static float Item(Tensor t) => t.item<float>();

    private static readonly double[][] S = [[1.0, -0.5, 2.0, 0.25], [0.3, 0.1, -1.2, 0.8], [-0.7, 1.5, 0.0, 0.4]];
    private static readonly double[][] D = [[0.2, 0.9, -0.3, 1.1], [1.4, -0.6, 0.5, 0.0], [0.1, 0.2, 0.3, -0.9]];
    private static readonly double[][] Tch = [[2.0, 0.5, 1.0, -1.0], [-0.2, 1.7, 0.3, 0.9], [0.6, -0.4, 2.2, 0.1]];
    private static readonly double[][] Tch2 = [[0.0, 1.0, -1.0, 0.5], [1.0, 1.0, 0.2, -0.3], [-1.5, 0.4, 0.8, 1.6]];
    private static readonly int[] YInts = [2, 3, 1];
    private static Tensor Y => tensor(YInts.Select(v => (long)v).ToArray());

    private static double SoftKlByHand(double[][] s, double[][] t, double tau, bool deit)
    {
        double sum = 0;
        for (int b = 0; b < s.Length; b++) sum += Kl(Softmax(t[b], tau), Softmax(s[b], tau));
        return tau * tau * sum / (deit ? s.Length * s[0].Length : s.Length);
    }

    [Theory]
    [InlineData(0.5, 1.0)]
    [InlineData(0.9, 4.0)]
    [InlineData(0.0, 2.0)]
    [InlineData(1.0, 3.0)]
    public void HintonEqualsItsClosedForm(double alpha, double tau)
    {
        double ce = Enumerable.Range(0, 3).Average(b => Ce(S[b], YInts[b]));
        double expected = (1 - alpha) * ce + alpha * SoftKlByHand(S, Tch, tau, deit: false);
        Near(expected, Item(DistillationLoss.Hinton(T(S), T(Tch), Y, alpha, tau)));
        double deit = (1 - alpha) * ce + alpha * SoftKlByHand(S, Tch, tau, deit: true);
        Near(deit, Item(DistillationLoss.Hinton(T(S), T(Tch), Y, alpha, tau, KdNormalization.DeiTSumOverNumel)));
        // the DeiT normalisation is the batch-mean term divided by C
        Near(SoftKlByHand(S, Tch, tau, false) / 4, Item(DistillationLoss.SoftKl(T(S), DistillationLoss.Targets(T(Tch), tau), tau, KdNormalization.DeiTSumOverNumel)));
    }

    [Fact]
    public void BatchMeanIsPyTorchsKlDivBatchmeanAndLabelSmoothingIsPyTorchs()
    {
        // F.kl_div(log_softmax(s/τ), softmax(t/τ), reduction='batchmean') * τ² is SoftKl; the log-target form (DeiT's) agrees
        double tau = 2.0;
        var logQ = (T(S) / tau).log_softmax(-1);
        var logP = (T(Tch) / tau).log_softmax(-1);
        var deitForm = nn.functional.kl_div(logQ, logP, log_target: true, reduction: nn.Reduction.Sum) * (tau * tau / 3);
        Near(Item(deitForm), Item(DistillationLoss.SoftKl(T(S), DistillationLoss.Targets(T(Tch), tau), tau)), 1e-6);
        // label smoothing ε: q = (1 − ε)·onehot + ε/C
        double eps = 0.1, smoothed = 0;
        for (int b = 0; b < 3; b++)
        {
            var logp = Softmax(S[b]).Select(v => Math.Log(v)).ToArray();
            for (int c = 0; c < 4; c++) smoothed -= ((c == YInts[b] ? 1 - eps : 0) + eps / 4) * logp[c];
        }
        Near(0.5 * smoothed / 3 + 0.5 * SoftKlByHand(S, Tch, 1, false), Item(DistillationLoss.Hinton(T(S), T(Tch), Y, 0.5, 1.0, labelSmoothing: eps)));
    }

    [Fact]
    public void DeiTSoftAndHardEqualTheirClosedForms()
    {
        double alpha = 0.3, tau = 2.5;
        double ceCls = Enumerable.Range(0, 3).Average(b => Ce(S[b], YInts[b]));
        double soft = (1 - alpha) * ceCls + alpha * SoftKlByHand(D, Tch, tau, false);
        Near(soft, Item(DistillationLoss.DeiTSoft(T(S), T(D), T(Tch), Y, alpha, tau)));
        double softDeiT = (1 - alpha) * ceCls + alpha * SoftKlByHand(D, Tch, tau, true);
        Near(softDeiT, Item(DistillationLoss.DeiTSoft(T(S), T(D), T(Tch), Y, alpha, tau, KdNormalization.DeiTSumOverNumel)));

        int[] teacherArgmax = Tch.Select(r => Array.IndexOf(r, r.Max())).ToArray();   // [0, 1, 2]
        double hard = 0.5 * ceCls + 0.5 * Enumerable.Range(0, 3).Average(b => Ce(D[b], teacherArgmax[b]));
        Near(hard, Item(DistillationLoss.DeiTHard(T(S), T(D), T(Tch), Y)));
        Near(hard, Item(DistillationLoss.DeiTHard(T(S), T(D), DistillationLoss.Targets(T(Tch), 3.0), Y)));   // probabilities work too
        double hard8 = 0.2 * ceCls + 0.8 * Enumerable.Range(0, 3).Average(b => Ce(D[b], teacherArgmax[b]));
        Near(hard8, Item(DistillationLoss.DeiTHard(T(S), T(D), T(Tch), Y, alpha: 0.8)));
    }

    [Fact]
    public void CoAdviseMixtureAndSoftTargetEqualTheirClosedForms()
    {
        double tau = 1.5;
        double ceCls = Enumerable.Range(0, 3).Average(b => Ce(S[b], YInts[b]));
        var targets = new[] { DistillationLoss.Targets(T(Tch), tau), DistillationLoss.Targets(T(Tch2), tau) };
        double unweighted = ceCls + SoftKlByHand(D, Tch, tau, false) + SoftKlByHand(S, Tch2, tau, false);
        Near(unweighted, Item(DistillationLoss.CoAdvise(T(S), [T(D), T(S)], targets, Y, tau)));
        double weighted = ceCls + 0.25 * SoftKlByHand(D, Tch, tau, false) + 2.0 * SoftKlByHand(S, Tch2, tau, false);
        Near(weighted, Item(DistillationLoss.CoAdvise(T(S), [T(D), T(S)], targets, Y, tau, [0.25, 2.0])));

        // mixture Σ w̃_m softmax(z_m/τ), weights normalised: [1, 3] → [¼, ¾]
        var mix = Values(TeacherMixture.Targets(targets, [1.0, 3.0]));
        for (int b = 0; b < 3; b++)
        {
            var p1 = Softmax(Tch[b], tau); var p2 = Softmax(Tch2[b], tau);
            for (int c = 0; c < 4; c++) Near(0.25 * p1[c] + 0.75 * p2[c], mix[b * 4 + c]);
        }
        var uniform = Values(TeacherMixture.Targets(targets));
        Near(0.5 * (Softmax(Tch[1], tau)[2] + Softmax(Tch2[1], tau)[2]), uniform[6]);

        // TinyViT soft-target CE = −mean_b Σ_c t log softmax(s)
        var mixT = TeacherMixture.Targets(targets, [1.0, 3.0]);
        double sce = 0;
        for (int b = 0; b < 3; b++) { var q = Softmax(S[b]); for (int c = 0; c < 4; c++) sce -= mix[b * 4 + c] * Math.Log(q[c]); }
        Near(sce / 3, Item(DistillationLoss.SoftTargetCrossEntropy(T(S), mixT)));
    }

    [Fact]
    public void GradientChecks()
    {
        var f64 = ScalarType.Float64;
        var teacher = T(Tch, f64);
        var targets = new[] { DistillationLoss.Targets(T(Tch, f64), 2.0), DistillationLoss.Targets(T(Tch2, f64), 2.0) };
        Check("Hinton", x => DistillationLoss.Hinton(x[0], teacher, Y, 0.7, 2.0, labelSmoothing: 0.1), Input([3, 4], 1));
        Check("Hinton DeiT norm", x => DistillationLoss.Hinton(x[0], teacher, Y, 0.7, 4.0, KdNormalization.DeiTSumOverNumel), Input([3, 4], 2));
        Check("DeiTSoft", x => DistillationLoss.DeiTSoft(x[0], x[1], teacher, Y, 0.4, 3.0), Input([3, 4], 3), Input([3, 4], 4));
        Check("DeiTHard", x => DistillationLoss.DeiTHard(x[0], x[1], teacher, Y, 0.5), Input([3, 4], 5), Input([3, 4], 6));
        Check("CoAdvise", x => DistillationLoss.CoAdvise(x[0], [x[1], x[2]], targets, Y, 2.0, [0.5, 1.5]), Input([3, 4], 7), Input([3, 4], 8), Input([3, 4], 9));
        Check("SoftTarget", x => DistillationLoss.SoftTargetCrossEntropy(x[0], targets[0]), Input([3, 4], 10));
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DistillationLoss.Hinton(T(S), T(Tch), Y, 1.5, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DistillationLoss.Hinton(T(S), T(Tch), Y, 0.5, 0.0));
        var e = Assert.Throws<ArgumentException>(() => DistillationLoss.CoAdvise(T(S), [T(D)], [T(Tch), T(Tch2)], Y, 1.0));
        Assert.Contains("1 distillation heads but 2 teachers", e.Message);
        Assert.Throws<ArgumentException>(() => TeacherMixture.Targets([T(Tch)], [0.0]));
        e = Assert.Throws<ArgumentException>(() => DistillationLoss.Hinton(T(S), T(Tch).narrow(1, 0, 3), Y, 0.5, 1.0));
        Assert.Contains("(3, 4) and (3, 3)", e.Message);
        e = Assert.Throws<ArgumentException>(() => DistillationLoss.Hinton(T(S), T(Tch), tensor(new long[] { 1, 2 }), 0.5, 1.0));
        Assert.Contains("labels (B)", e.Message);
        e = Assert.Throws<ArgumentException>(() => DistillationLoss.Hinton(T(S), T(Tch), Y.to(ScalarType.Int32), 0.5, 1.0));
        Assert.Contains("int64", e.Message);
    }
}
