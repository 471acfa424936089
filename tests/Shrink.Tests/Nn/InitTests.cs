using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Tests.Nn;

public class InitTests
{
    private static (double Mean, double Std) Stats(Tensor t)
    {
        var v = t.ToArray();
        double mean = v.Average(x => (double)x);
        double var = v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1);
        return (mean, Math.Sqrt(var));
    }

    private static void AssertBounds(float[] v, double lo, double hi)
    {
        Assert.InRange(v.Min(), lo, hi);
        Assert.InRange(v.Max(), lo, hi);
    }

    [Fact]
    public void UniformAndNormalStatistics()
    {
        var u = Init.Uniform_(Tensor.Empty(200, 500), -1, 3, new Generator(1));
        var (um, us) = Stats(u);
        Assert.InRange(um, 0.99, 1.01);
        Assert.InRange(us, 4 / Math.Sqrt(12) * 0.99, 4 / Math.Sqrt(12) * 1.01);
        AssertBounds(u.ToArray(), -1f, 3f);

        var n = Init.Normal_(Tensor.Empty(100_000), 1, 2, new Generator(2));
        var (nm, ns) = Stats(n);
        Assert.InRange(nm, 0.98, 1.02);
        Assert.InRange(ns, 1.98, 2.02);

        Assert.All(Init.Constant_(Tensor.Empty(3), 0.5).ToArray(), x => Assert.Equal(0.5f, x));
        Assert.All(Init.Zeros_(Tensor.Empty(3)).ToArray(), x => Assert.Equal(0f, x));
        Assert.All(Init.Ones_(Tensor.Empty(3)).ToArray(), x => Assert.Equal(1f, x));
    }

    [Fact]
    public void TruncatedNormalStaysInBoundsWithTheTruncatedMoments()
    {
        // Standard normal truncated to [−2, 2]: mean 0, variance 1 − 2·2φ(2)/(Φ(2) − Φ(−2)).
        var t = Init.TruncNormal_(Tensor.Empty(100_000), generator: new Generator(3));
        AssertBounds(t.ToArray(), -2f, 2f);
        double phi2 = Math.Exp(-2) / Math.Sqrt(2 * Math.PI);
        double z = Init.NormalCdf(2) - Init.NormalCdf(-2);
        var (m, s) = Stats(t);
        Assert.InRange(m, -0.01, 0.01);
        Assert.InRange(s, Math.Sqrt(1 - 4 * phi2 / z) - 0.01, Math.Sqrt(1 - 4 * phi2 / z) + 0.01);

        // Asymmetric bounds with μ = 1, σ = 2 on [0, 2]: mean μ + σ(φ(α) − φ(β))/Z with α = −½, β = ½ → μ.
        var a = Init.TruncNormal_(Tensor.Empty(50_000), mean: 1, std: 2, a: 0, b: 2, generator: new Generator(4));
        AssertBounds(a.ToArray(), 0f, 2f);
        Assert.InRange(Stats(a).Mean, 0.98, 1.02);
        // One-sided: N(0, 1) on [1, 3]: mean (φ(1) − φ(3)) / (Φ(3) − Φ(1)).
        var o = Init.TruncNormal_(Tensor.Empty(50_000), a: 1, b: 3, generator: new Generator(5));
        double phi(double x) => Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);
        double expected = (phi(1) - phi(3)) / (Init.NormalCdf(3) - Init.NormalCdf(1));
        Assert.InRange(Stats(o).Mean, expected - 0.01, expected + 0.01);

        // timm's ViT init: std 0.02, bounds ±2 (≈ untruncated).
        var vit = Init.TruncNormal_(Tensor.Empty(100_000), std: 0.02, generator: new Generator(6));
        Assert.InRange(Stats(vit).Std, 0.0198, 0.0202);
    }

    [Fact]
    public void NormalCdfAndInverseAreAccurate()
    {
        Assert.Equal(0.8427007929497149, Init.Erf(1), 1e-14);
        Assert.Equal(-0.9953222650189527, Init.Erf(-2), 1e-14);
        Assert.Equal(0.022750131948179209, Init.NormalCdf(-2), 1e-14);
        foreach (var p in new[] { 0.001, 0.02, 0.1, 0.3, 0.5, 0.77, 0.97, 0.999 })
            Assert.InRange(Init.NormalCdf(Init.InverseNormalCdf(p)) / p, 1 - 1e-12, 1 + 1e-12);
        Assert.InRange(Init.NormalCdf(Init.InverseNormalCdf(1e-7)) / 1e-7, 1 - 1e-7, 1 + 1e-7);
    }

    [Fact]
    public void FansAndGains()
    {
        Assert.Equal((3, 5), Init.CalculateFanInAndFanOut(Tensor.Empty(5, 3)));
        Assert.Equal((3 * 4 * 4, 8 * 4 * 4), Init.CalculateFanInAndFanOut(Tensor.Empty(8, 3, 4, 4)));
        Assert.Contains("[5]", Assert.Throws<ArgumentException>(() => Init.CalculateFanInAndFanOut(Tensor.Empty(5))).Message);
        Assert.Equal(1.0, Init.CalculateGain("linear"));
        Assert.Equal(1.0, Init.CalculateGain("conv2d"));
        Assert.Equal(5.0 / 3, Init.CalculateGain("tanh"));
        Assert.Equal(Math.Sqrt(2), Init.CalculateGain("relu"));
        Assert.Equal(Math.Sqrt(2 / (1 + 0.01 * 0.01)), Init.CalculateGain("leaky_relu"));
        Assert.Equal(Math.Sqrt(2), Init.CalculateGain("leaky_relu", 0));
        Assert.Equal(Math.Sqrt(1.0 / 3), Init.CalculateGain("leaky_relu", Math.Sqrt(5)), 15);
        Assert.Equal(0.75, Init.CalculateGain("selu"));
        Assert.Throws<ArgumentException>(() => Init.CalculateGain("swish"));
    }

    [Fact]
    public void KaimingAndXavierScales()
    {
        // Kaiming uniform, a = 0, leaky_relu → gain √2, bound = gain·√(3/fan_in); conv weight fan_in = C_in·kh·kw.
        var w = Init.KaimingUniform_(Tensor.Empty(64, 16, 3, 3), generator: new Generator(7));
        double bound = Math.Sqrt(2) * Math.Sqrt(3.0 / (16 * 9));
        var v = w.ToArray();
        AssertBounds(v, -bound, bound);
        Assert.InRange(v.Max(), 0.99 * bound, bound);
        Assert.InRange(Stats(w).Std, bound / Math.Sqrt(3) * 0.97, bound / Math.Sqrt(3) * 1.03);

        var fanOut = Init.KaimingNormal_(Tensor.Empty(400, 100), mode: "fan_out", nonlinearity: "relu", generator: new Generator(8));
        Assert.InRange(Stats(fanOut).Std, Math.Sqrt(2.0 / 400) * 0.98, Math.Sqrt(2.0 / 400) * 1.02);
        Assert.Throws<ArgumentException>(() => Init.KaimingNormal_(Tensor.Empty(4, 4), mode: "fan_avg"));

        var xu = Init.XavierUniform_(Tensor.Empty(300, 200), gain: 2, generator: new Generator(9));
        double xb = 2 * Math.Sqrt(6.0 / 500);
        AssertBounds(xu.ToArray(), -xb, xb);
        Assert.InRange(Stats(xu).Std, xb / Math.Sqrt(3) * 0.98, xb / Math.Sqrt(3) * 1.02);
        var xn = Init.XavierNormal_(Tensor.Empty(300, 200), generator: new Generator(10));
        Assert.InRange(Stats(xn).Std, Math.Sqrt(2.0 / 500) * 0.98, Math.Sqrt(2.0 / 500) * 1.02);
    }

    [Fact]
    public void SameSeedSameWeightsAndViewsAreFilled()
    {
        var a = Init.TruncNormal_(Tensor.Empty(10, 10), std: 0.02, generator: new Generator(11)).ToArray();
        var b = Init.TruncNormal_(Tensor.Empty(10, 10), std: 0.02, generator: new Generator(11)).ToArray();
        Assert.Equal(a, b);
        var m = Tensor.Zeros(4, 6);
        Init.Ones_(m.MT);
        Init.Uniform_(m.Narrow(1, 0, 2), 5, 6, new Generator(1));
        var v = m.ToArray();
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 6; c++)
                Assert.InRange(v[r * 6 + c], c < 2 ? 5f : 1f, c < 2 ? 6f : 1f);
    }
}
