using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tests.Engine;
using static Shrink.Tests.Models.ModelTestUtil;

namespace Shrink.Tests.Models;

/// <summary>
/// The involution operator against a direct loop of its definition
/// Y[b, g·gc + c, i, j] = Σ_{u,v} H[b, g·K² + u·K + v, i, j] · X[b, g·gc + c, i·s + u − p, j·s + v − p]
/// (values, and gradients both by the loop's own adjoint and by finite differences), plus the module's names and counts.
/// </summary>
public class InvolutionTests
{
    /// <summary>Direct loop of the involution aggregation with double accumulation and zero padding p = (K − 1)/2.</summary>
    private static float[] NaiveInvolution(Tensor xT, Tensor hT, int k, int s, int groups)
    {
        var x = xT.ToArray(); var h = hT.ToArray();
        int b = xT.Shape[0], c = xT.Shape[1], ih = xT.Shape[2], iw = xT.Shape[3], gc = c / groups, p = (k - 1) / 2;
        int oh = hT.Shape[2], ow = hT.Shape[3];
        var y = new float[b * c * oh * ow];
        for (int n = 0; n < b; n++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int g = ch / gc;
                        double acc = 0;
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++)
                            {
                                int r = i * s + u - p, q = j * s + v - p;
                                if (r < 0 || r >= ih || q < 0 || q >= iw) continue;
                                acc += (double)h[((n * groups * k * k + g * k * k + u * k + v) * oh + i) * ow + j] * x[((n * c + ch) * ih + r) * iw + q];
                            }
                        y[((n * c + ch) * oh + i) * ow + j] = (float)acc;
                    }
        return y;
    }

    /// <summary>The loop's adjoint for upstream G: dX[…, i·s+u−p, j·s+v−p] += H·G and dH[b, g·K²+uK+v, i, j] = Σ_c G·X.</summary>
    private static (float[] Dx, float[] Dh) NaiveInvolutionGrad(Tensor xT, Tensor hT, Tensor gT, int k, int s, int groups)
    {
        var x = xT.ToArray(); var h = hT.ToArray(); var gr = gT.ToArray();
        int b = xT.Shape[0], c = xT.Shape[1], ih = xT.Shape[2], iw = xT.Shape[3], gc = c / groups, p = (k - 1) / 2;
        int oh = hT.Shape[2], ow = hT.Shape[3];
        var dx = new double[x.Length]; var dh = new double[h.Length];
        for (int n = 0; n < b; n++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int g = ch / gc;
                        double go = gr[((n * c + ch) * oh + i) * ow + j];
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++)
                            {
                                int r = i * s + u - p, q = j * s + v - p;
                                if (r < 0 || r >= ih || q < 0 || q >= iw) continue;
                                int hi = ((n * groups * k * k + g * k * k + u * k + v) * oh + i) * ow + j, xi = ((n * c + ch) * ih + r) * iw + q;
                                dx[xi] += h[hi] * go;
                                dh[hi] += x[xi] * go;
                            }
                    }
        return (dx.Select(v => (float)v).ToArray(), dh.Select(v => (float)v).ToArray());
    }

    private static void AssertClose(float[] expected, float[] actual, float tol = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"[{i}] expected {expected[i]} got {actual[i]}");
    }

    [Theory]
    [InlineData(3, 1, 5, 5)]
    [InlineData(3, 2, 6, 6)]
    [InlineData(3, 2, 5, 4)]
    [InlineData(5, 1, 4, 6)]
    public void AggregateMatchesDirectLoop(int k, int s, int h, int w)
    {
        const int b = 2, c = 4, groups = 2;
        int oh = (h - 1) / s + 1, ow = (w - 1) / s + 1;
        var x = Images(b, c, h, w, 1);
        var kernel = Images(b, groups * k * k, oh, ow, 2);
        var y = Involution.Aggregate(x, kernel, k, s, groups);
        AssertShape(y, b, c, oh, ow);
        AssertClose(NaiveInvolution(x, kernel, k, s, groups), y.ToArray());
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 2)]
    public void AggregateGradientsMatchLoopAdjoint(int k, int s)
    {
        const int b = 2, c = 6, groups = 3, h = 6, w = 5;
        int oh = (h - 1) / s + 1, ow = (w - 1) / s + 1;
        var x = Images(b, c, h, w, 3).RequiresGrad_();
        var kernel = Images(b, groups * k * k, oh, ow, 4).RequiresGrad_();
        var g = Images(b, c, oh, ow, 5);
        (Involution.Aggregate(x, kernel, k, s, groups) * g).Sum().Backward();
        var (dx, dh) = NaiveInvolutionGrad(x, kernel, g, k, s, groups);
        AssertClose(dx, x.Grad!.ToArray());
        AssertClose(dh, kernel.Grad!.ToArray());
    }

    [Fact]
    public void AggregateGradCheck()
    {
        // Stride 1 and 2, and a non-contiguous (transposed) x.
        GradCheck.Check("Involution.Aggregate s1", t => Involution.Aggregate(t[0], t[1], 3, 1, 2),
            GradCheck.Input([1, 4, 4, 4], 10), GradCheck.Input([1, 18, 4, 4], 11));
        GradCheck.Check("Involution.Aggregate s2", t => Involution.Aggregate(t[0], t[1], 3, 2, 1),
            GradCheck.Input([2, 2, 5, 5], 12), GradCheck.Input([2, 9, 3, 3], 13));
        GradCheck.Check("Involution.Aggregate transposed x", t => Involution.Aggregate(t[0].Transpose(2, 3), t[1], 3, 1, 2),
            GradCheck.Input([1, 4, 5, 4], 14), GradCheck.Input([1, 18, 4, 5], 15));
    }

    [Fact]
    public void ModuleIsAggregateOfGeneratedKernel()
    {
        var inv = new Involution(32, kernelSize: 3, stride: 2, groupChannels: 16, reductionRatio: 4, generator: new Generator(1));
        Assert.Equal(2, inv.Groups);
        var x = Images(2, 32, 6, 6, 6);
        var kernel = inv.GenerateKernel(x);
        AssertShape(kernel, 2, 2 * 9, 3, 3);
        var y = inv.Forward(x);
        AssertShape(y, 2, 32, 3, 3);
        AssertClose(NaiveInvolution(x, kernel, 3, 2, 2), y.ToArray());
    }

    [Fact]
    public void ModuleGradCheckInEvalMode()
    {
        var inv = new Involution(4, kernelSize: 3, stride: 1, groupChannels: 2, reductionRatio: 2, generator: new Generator(2));
        inv.Eval();
        GradCheck.Check("Involution module", t => inv.Forward(t[0]), GradCheck.Input([1, 4, 4, 4], 20));
        // Gradients also reach the kernel-generation weights.
        inv.Train();
        (inv.Forward(Images(2, 4, 4, 4, 21)) * Images(2, 4, 4, 4, 22)).Sum().Backward();
        foreach (var (name, p) in inv.NamedParameters())
            Assert.True(p.Grad is not null && p.Grad.ToArray().Any(v => v != 0), $"{name} received no gradient");
    }

    [Fact]
    public void NamesFollowTheReferenceAndCountsMatch()
    {
        var inv = new Involution(64, kernelSize: 7, stride: 1);      // reference defaults: gc = 16, r = 4
        var sd = inv.StateDict();
        Assert.Equal(["conv1.conv.weight", "conv1.bn.weight", "conv1.bn.bias", "conv1.bn.running_mean", "conv1.bn.running_var"],
            sd.Keys.Where(k => k.StartsWith("conv1.", StringComparison.Ordinal)).Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)));
        AssertShape(sd["conv1.conv.weight"], 16, 64, 1, 1);
        AssertShape(sd["conv2.conv.weight"], 49 * 4, 16, 1, 1);
        AssertShape(sd["conv2.conv.bias"], 49 * 4);
        long expected = 64 * 16 + 2 * 16 + 16 * 196 + 196;
        Assert.Equal(expected, inv.ParameterCount());
        Assert.Equal(expected, Involution.ParameterCountOf(64, 7, 16, 4));
        // MACs at 14×14, stride 1: generation 196·(64·16 + 16·196), aggregation 196·64·49.
        Assert.Equal(196L * (64 * 16 + 16 * 196) + 196L * 64 * 49, Involution.MacsOf(64, 7, 1, 16, 4, 14, 14));
    }

    [Fact]
    public void RejectsBadArgumentsWithShapesInMessage()
    {
        Assert.Contains("multiple of group channels", Assert.Throws<ArgumentException>(() => new Involution(24, 3, 1, 16)).Message);
        Assert.Contains("odd", Assert.Throws<ArgumentException>(() => new Involution(16, 4)).Message);
        var e = Assert.Throws<ArgumentException>(() => Involution.Aggregate(Tensor.Zeros(1, 4, 5, 5), Tensor.Zeros(1, 9, 5, 5), 3, 1, 2));
        Assert.Contains("[1, 9, 5, 5]", e.Message);
        Assert.Contains("[1, 4, 5, 5]", e.Message);
        Assert.Contains("(1, 18, 5, 5)", e.Message);
        var inv = new Involution(16, 3, 2);
        Assert.Contains("[1, 16, 5, 5]", Assert.Throws<ArgumentException>(() => inv.Forward(Tensor.Zeros(1, 16, 5, 5))).Message);
    }
}
