using Shrink.Distillation;
using Shrink.Tensors;
using static Shrink.Tests.Engine.GradCheck;

namespace Shrink.Tests.Distillation;

/// <summary>Logit losses: each equals its closed form computed by hand in double, and passes a finite-difference gradient check.</summary>
public class DistillationLossTests
{
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

    internal static Tensor T(double[][] rows) => Tensor.FromArray(rows.SelectMany(r => r.Select(v => (float)v)).ToArray(), rows.Length, rows[0].Length);

    private static readonly double[][] S = [[1.0, -0.5, 2.0, 0.25], [0.3, 0.1, -1.2, 0.8], [-0.7, 1.5, 0.0, 0.4]];
    private static readonly double[][] D = [[0.2, 0.9, -0.3, 1.1], [1.4, -0.6, 0.5, 0.0], [0.1, 0.2, 0.3, -0.9]];
    private static readonly double[][] Tch = [[2.0, 0.5, 1.0, -1.0], [-0.2, 1.7, 0.3, 0.9], [0.6, -0.4, 2.2, 0.1]];
    private static readonly double[][] Tch2 = [[0.0, 1.0, -1.0, 0.5], [1.0, 1.0, 0.2, -0.3], [-1.5, 0.4, 0.8, 1.6]];
    private static readonly int[] Y = [2, 3, 1];

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
        double ce = Enumerable.Range(0, 3).Average(b => Ce(S[b], Y[b]));
        double expected = (1 - alpha) * ce + alpha * SoftKlByHand(S, Tch, tau, deit: false);
        Near(expected, DistillationLoss.Hinton(T(S), T(Tch), Y, alpha, tau).Item());
        double deit = (1 - alpha) * ce + alpha * SoftKlByHand(S, Tch, tau, deit: true);
        Near(deit, DistillationLoss.Hinton(T(S), T(Tch), Y, alpha, tau, KdNormalization.DeiTSumOverNumel).Item());
        // the DeiT normalisation is the batch-mean term divided by C
        Near(SoftKlByHand(S, Tch, tau, false) / 4, DistillationLoss.SoftKl(T(S), DistillationLoss.Targets(T(Tch), tau), tau, KdNormalization.DeiTSumOverNumel).Item());
    }

    [Fact]
    public void DeiTSoftAndHardEqualTheirClosedForms()
    {
        double alpha = 0.3, tau = 2.5;
        double ceCls = Enumerable.Range(0, 3).Average(b => Ce(S[b], Y[b]));
        double soft = (1 - alpha) * ceCls + alpha * SoftKlByHand(D, Tch, tau, false);
        Near(soft, DistillationLoss.DeiTSoft(T(S), T(D), T(Tch), Y, alpha, tau).Item());
        double softDeiT = (1 - alpha) * ceCls + alpha * SoftKlByHand(D, Tch, tau, true);
        Near(softDeiT, DistillationLoss.DeiTSoft(T(S), T(D), T(Tch), Y, alpha, tau, KdNormalization.DeiTSumOverNumel).Item());

        int[] teacherArgmax = Tch.Select(r => Array.IndexOf(r, r.Max())).ToArray();   // [0, 1, 2]
        double hard = 0.5 * ceCls + 0.5 * Enumerable.Range(0, 3).Average(b => Ce(D[b], teacherArgmax[b]));
        Near(hard, DistillationLoss.DeiTHard(T(S), T(D), T(Tch), Y).Item());
        Near(hard, DistillationLoss.DeiTHard(T(S), T(D), DistillationLoss.Targets(T(Tch), 3.0), Y).Item());   // probabilities work too
        double hard8 = 0.2 * ceCls + 0.8 * Enumerable.Range(0, 3).Average(b => Ce(D[b], teacherArgmax[b]));
        Near(hard8, DistillationLoss.DeiTHard(T(S), T(D), T(Tch), Y, alpha: 0.8).Item());
    }

    [Fact]
    public void CoAdviseMixtureAndSoftTargetEqualTheirClosedForms()
    {
        double tau = 1.5;
        double ceCls = Enumerable.Range(0, 3).Average(b => Ce(S[b], Y[b]));
        var targets = new[] { DistillationLoss.Targets(T(Tch), tau), DistillationLoss.Targets(T(Tch2), tau) };
        double unweighted = ceCls + SoftKlByHand(D, Tch, tau, false) + SoftKlByHand(S, Tch2, tau, false);
        Near(unweighted, DistillationLoss.CoAdvise(T(S), [T(D), T(S)], targets, Y, tau).Item());
        double weighted = ceCls + 0.25 * SoftKlByHand(D, Tch, tau, false) + 2.0 * SoftKlByHand(S, Tch2, tau, false);
        Near(weighted, DistillationLoss.CoAdvise(T(S), [T(D), T(S)], targets, Y, tau, [0.25, 2.0]).Item());

        // mixture Σ w̃_m softmax(z_m/τ), weights normalised: [1, 3] → [¼, ¾]
        var mix = TeacherMixture.Targets(targets, [1.0, 3.0]).ToArray();
        for (int b = 0; b < 3; b++)
        {
            var p1 = Softmax(Tch[b], tau); var p2 = Softmax(Tch2[b], tau);
            for (int c = 0; c < 4; c++) Near(0.25 * p1[c] + 0.75 * p2[c], mix[b * 4 + c]);
        }
        var uniform = TeacherMixture.Targets(targets).ToArray();
        Near(0.5 * (Softmax(Tch[1], tau)[2] + Softmax(Tch2[1], tau)[2]), uniform[6]);

        // TinyViT soft-target CE = −mean_b Σ_c t log softmax(s)
        var mixT = TeacherMixture.Targets(targets, [1.0, 3.0]);
        double sce = 0;
        for (int b = 0; b < 3; b++) { var q = Softmax(S[b]); for (int c = 0; c < 4; c++) sce -= mix[b * 4 + c] * Math.Log(q[c]); }
        Near(sce / 3, DistillationLoss.SoftTargetCrossEntropy(T(S), mixT).Item());
    }

    [Fact]
    public void GradientChecks()
    {
        var teacher = T(Tch);
        var targets = new[] { DistillationLoss.Targets(T(Tch), 2.0), DistillationLoss.Targets(T(Tch2), 2.0) };
        Check("Hinton", x => DistillationLoss.Hinton(x[0], teacher, Y, 0.7, 2.0), Input([3, 4], 1));
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
    }
}
