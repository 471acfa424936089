using Shrink.Genes;
using TorchSharp;

namespace Shrink.Tests.Genes;

/// <summary>The fixed coefficients a(l, n) = φ_{m(n)}((l − 1)/L) against hand-computed values and closed forms.</summary>
public sealed class LearngeneCoefficientsTests
{
    private const LearngeneBasis Cheb = LearngeneBasis.Chebyshev;
    private const LearngeneIndexing Paper = LearngeneIndexing.Paper;

    [Fact]
    public void PaperWorkedExample_A23_IsT3AtOneTwelfth()
    {
        // Eq. 4: a(2, 3) = 2·(1/12)·T₂(1/12) − T₁(1/12), with T₁(x) = x and T₂(x) = 2x² − 1 written out by hand.
        double x = 1.0 / 12, t1 = x, t2 = 2 * x * x - 1, byHand = 2 * x * t2 - t1;
        Assert.Equal(byHand, LearngeneCoefficients.Coefficient(Cheb, Paper, layer: 2, learngene: 3, depth: 12), 15);
        Assert.Equal(4 * x * x * x - 3 * x, byHand, 15);                                   // T₃(x) = 4x³ − 3x
        Assert.Equal(-0.247685, byHand, 6);                                                // the brief's table: −.248
    }

    [Fact]
    public void ChebyshevRowsMatchTheBriefsTableAtL12()
    {
        // papers/learngene.md §1, columns T1..T6 (3 decimals there).
        var rows = new Dictionary<int, double[]>
        {
            [1] = [0, -1, 0, 1, 0, -1],
            [2] = [.083, -.986, -.248, .945, .405, -.877],
            [7] = [.5, -.5, -1, -.5, .5, 1],
            [12] = [.917, .681, .331, -.074, -.466, -.781],
        };
        var c = LearngeneCoefficients.Matrix(Cheb, Paper, 12, 6);
        foreach (var (l, expected) in rows)
            for (int n = 0; n < 6; n++) Assert.True(Math.Abs(c[l - 1, n] - expected[n]) < 6e-4, $"a({l}, {n + 1}) = {c[l - 1, n]}, table {expected[n]}.");
    }

    [Fact]
    public void ChebyshevEqualsCosineForm()
    {
        for (int m = 0; m <= 12; m++)
            foreach (double x in new[] { 0, 0.1, 1.0 / 3, 0.5, 0.9 })
                Assert.True(Math.Abs(Math.Cos(m * Math.Acos(x)) - LearngeneCoefficients.Evaluate(Cheb, m, x)) < 1e-12, $"T_{m}({x})");
    }

    [Fact]
    public void OtherBasesMatchClosedForms()
    {
        foreach (double x in new[] { 0, 0.25, 0.6, 11.0 / 12 })
        {
            Assert.Equal(1, LearngeneCoefficients.Evaluate(LearngeneBasis.Legendre, 0, x), 14);
            Assert.Equal(x, LearngeneCoefficients.Evaluate(LearngeneBasis.Legendre, 1, x), 14);
            Assert.Equal((3 * x * x - 1) / 2, LearngeneCoefficients.Evaluate(LearngeneBasis.Legendre, 2, x), 14);
            Assert.Equal((5 * x * x * x - 3 * x) / 2, LearngeneCoefficients.Evaluate(LearngeneBasis.Legendre, 3, x), 14);
            Assert.Equal((35 * Math.Pow(x, 4) - 30 * x * x + 3) / 8, LearngeneCoefficients.Evaluate(LearngeneBasis.Legendre, 4, x), 14);
            for (int m = 0; m <= 5; m++) Assert.Equal(Math.Pow(x, m), LearngeneCoefficients.Evaluate(LearngeneBasis.Taylor, m, x), 14);
            Assert.Equal(1, LearngeneCoefficients.Evaluate(LearngeneBasis.Fourier, 0, x), 14);
            Assert.Equal(Math.Sin(Math.PI * x), LearngeneCoefficients.Evaluate(LearngeneBasis.Fourier, 1, x), 14);
            Assert.Equal(Math.Cos(Math.PI * x), LearngeneCoefficients.Evaluate(LearngeneBasis.Fourier, 2, x), 14);
            Assert.Equal(Math.Sin(2 * Math.PI * x), LearngeneCoefficients.Evaluate(LearngeneBasis.Fourier, 3, x), 14);
            Assert.Equal(Math.Cos(2 * Math.PI * x), LearngeneCoefficients.Evaluate(LearngeneBasis.Fourier, 4, x), 14);
        }
        Assert.Equal(1, LearngeneCoefficients.Evaluate(LearngeneBasis.Taylor, 0, 0));   // x⁰ = 1 at x = 0 too
    }

    [Fact]
    public void TlegIndexingShiftsByOne()
    {
        // TLEG: θ_l = θ_A + x·θ_B — A₁ has coefficient 1, A₂ has x = (l − 1)/L.
        var c = LearngeneCoefficients.Matrix(Cheb, LearngeneIndexing.Tleg, 6, 3);
        for (int l = 1; l <= 6; l++)
        {
            double x = (l - 1) / 6.0;
            Assert.Equal(1, c[l - 1, 0]);
            Assert.Equal(x, c[l - 1, 1], 15);
            Assert.Equal(2 * x * x - 1, c[l - 1, 2], 15);
            Assert.Equal(LearngeneCoefficients.Coefficient(Cheb, Paper, l, 2, 6), c[l - 1, 2]);
        }
    }

    [Fact]
    public void PaperIndexingFirstLayerOfOneLearngeneIsZero()
    {
        Assert.Equal(0, LearngeneCoefficients.Coefficient(Cheb, Paper, 1, 1, 12));
        Assert.Equal(0, LearngeneCoefficients.Position(1, 12));
        Assert.Equal(11.0 / 12, LearngeneCoefficients.Position(12, 12));
    }

    [Fact]
    public void RecomposedDepthSamplesTheSameCurve()
    {
        // L' = 4 samples x = 0, ¼, ½, ¾: the L = 12 rows of layers 1, 4, 7 and 10.
        foreach (var basis in Enum.GetValues<LearngeneBasis>())
        {
            var c12 = LearngeneCoefficients.Matrix(basis, Paper, 12, 6);
            var c4 = LearngeneCoefficients.Matrix(basis, Paper, 4, 6);
            int[] rows = [0, 3, 6, 9];
            for (int l = 0; l < 4; l++)
                for (int n = 0; n < 6; n++) Assert.Equal(c12[rows[l], n], c4[l, n], 12);
        }
    }

    [Fact]
    public void TensorMatchesMatrix()
    {
        var m = LearngeneCoefficients.Matrix(LearngeneBasis.Legendre, Paper, 5, 3);
        var t = LearngeneCoefficients.AsTensor(LearngeneBasis.Legendre, Paper, 5, 3);
        Assert.Equal([5L, 3L], t.shape);
        Assert.False(t.requires_grad);
        Assert.Equal(torch.ScalarType.Float32, t.dtype);
        Assert.Equal(DeviceType.CPU, t.device_type);
        for (int l = 0; l < 5; l++)
            for (int n = 0; n < 3; n++) Assert.Equal((float)m[l, n], t[l, n].item<float>());
        var d = LearngeneCoefficients.AsTensor(LearngeneBasis.Legendre, Paper, 5, 3, torch.CPU, torch.ScalarType.Float64);
        Assert.Equal(torch.ScalarType.Float64, d.dtype);
        for (int l = 0; l < 5; l++)
            for (int n = 0; n < 3; n++) Assert.Equal(m[l, n], d[l, n].item<double>());
        Assert.StartsWith("l=1: 0, -0.5, 0 | l=2: 0.2", LearngeneCoefficients.Describe(LearngeneBasis.Legendre, Paper, 5, 3));
    }

    [Fact]
    public void BadArgumentsSayWhatIsWrong()
    {
        Assert.Contains("1-based", Assert.Throws<ArgumentOutOfRangeException>(() => LearngeneCoefficients.Position(0, 4)).Message);
        Assert.Contains("outside 1 … 4", Assert.Throws<ArgumentOutOfRangeException>(() => LearngeneCoefficients.Position(5, 4)).Message);
        Assert.Contains("depth L must be ≥ 1", Assert.Throws<ArgumentOutOfRangeException>(() => LearngeneCoefficients.Matrix(Cheb, Paper, 0, 2)).Message);
        Assert.Contains("at least one learngene", Assert.Throws<ArgumentOutOfRangeException>(() => LearngeneCoefficients.Matrix(Cheb, Paper, 3, 0)).Message);
        Assert.Contains("numbered from 1", Assert.Throws<ArgumentOutOfRangeException>(() => LearngeneCoefficients.Order(Paper, 0)).Message);
        Assert.Contains("≥ 0", Assert.Throws<ArgumentOutOfRangeException>(() => LearngeneCoefficients.Evaluate(Cheb, -1, 0.5)).Message);
    }
}
