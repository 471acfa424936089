using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;
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
        var x = Values(xT); var h = Values(hT);
        int b = (int)xT.shape[0], c = (int)xT.shape[1], ih = (int)xT.shape[2], iw = (int)xT.shape[3], gc = c / groups, p = (k - 1) / 2;
        int oh = (int)hT.shape[2], ow = (int)hT.shape[3];
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
        var x = Values(xT); var h = Values(hT); var gr = Values(gT);
        int b = (int)xT.shape[0], c = (int)xT.shape[1], ih = (int)xT.shape[2], iw = (int)xT.shape[3], gc = c / groups, p = (k - 1) / 2;
        int oh = (int)hT.shape[2], ow = (int)hT.shape[3];
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
        AssertClose(NaiveInvolution(x, kernel, k, s, groups), Values(y));
    }

    [Theory]
    [InlineData(3, 1)]
    [InlineData(3, 2)]
    public void AggregateGradientsMatchLoopAdjoint(int k, int s)
    {
        const int b = 2, c = 6, groups = 3, h = 6, w = 5;
        int oh = (h - 1) / s + 1, ow = (w - 1) / s + 1;
        var x = Images(b, c, h, w, 3).requires_grad_();
        var kernel = Images(b, groups * k * k, oh, ow, 4).requires_grad_();
        var g = Images(b, c, oh, ow, 5);
        (Involution.Aggregate(x, kernel, k, s, groups) * g).sum().backward();
        var (dx, dh) = NaiveInvolutionGrad(x, kernel, g, k, s, groups);
        AssertClose(dx, Values(x.grad!));
        AssertClose(dh, Values(kernel.grad!));
    }

    [Fact]
    public void AggregateOnATransposedInputEqualsTheContiguousOne()
    {
        var x = Images(1, 4, 5, 4, 14);
        var kernel = Images(1, 18, 4, 5, 15);
        Assert.Equal(Values(Involution.Aggregate(x.transpose(2, 3).contiguous(), kernel, 3, 1, 2)),
            Values(Involution.Aggregate(x.transpose(2, 3), kernel, 3, 1, 2)));
    }

    [Fact]
    public void ModuleIsAggregateOfGeneratedKernel()
    {
        var inv = new Involution(32, kernelSize: 3, stride: 2, groupChannels: 16, reductionRatio: 4, seed: 1);
        Assert.Equal(2, inv.Groups);
        var x = Images(2, 32, 6, 6, 6);
        var kernel = inv.GenerateKernel(x);
        AssertShape(kernel, 2, 2 * 9, 3, 3);
        var y = inv.forward(x);
        AssertShape(y, 2, 32, 3, 3);
        AssertClose(NaiveInvolution(x, kernel, 3, 2, 2), Values(y));
    }

    [Fact]
    public void GradientsReachTheKernelGenerationWeights()
    {
        var inv = new Involution(4, kernelSize: 3, stride: 1, groupChannels: 2, reductionRatio: 2, seed: 2);
        inv.train();
        (inv.forward(Images(2, 4, 4, 4, 21)) * Images(2, 4, 4, 4, 22)).sum().backward();
        foreach (var (name, p) in inv.named_parameters())
            Assert.True(p.grad is not null && Values(p.grad).Any(v => v != 0), $"{name} received no gradient");
    }

    [Fact]
    public void NamesFollowTheReferenceAndCountsMatch()
    {
        var inv = new Involution(64, kernelSize: 7, stride: 1);      // reference defaults: gc = 16, r = 4
        var sd = inv.state_dict();
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
        var e = Assert.Throws<ArgumentException>(() => Involution.Aggregate(zeros(1, 4, 5, 5), zeros(1, 9, 5, 5), 3, 1, 2));
        Assert.Contains("(1, 9, 5, 5)", e.Message);
        Assert.Contains("(1, 4, 5, 5)", e.Message);
        Assert.Contains("(1, 18, 5, 5)", e.Message);
        var inv = new Involution(16, 3, 2);
        Assert.Contains("(1, 16, 5, 5)", Assert.Throws<ArgumentException>(() => inv.forward(zeros(1, 16, 5, 5))).Message);
    }
}
