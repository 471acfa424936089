using Shrink.Tensors;
using static Shrink.Tests.Engine.GradCheck;
using F = Shrink.Tensors.Functional;

namespace Shrink.Tests.Engine;

/// <summary>
/// Convolution family: Unfold/Fold, Conv2d, pooling and BatchNorm. Values against direct loops written here (double
/// accumulation), finite-difference gradient checks (stride, padding, dilation, groups, non-square kernels, views),
/// PyTorch's running-statistics rule by hand, and messages of bad inputs.
/// </summary>
public class ConvolutionTests
{
    // ---------------------------------------------------------------- references

    /// <summary>Direct 7-loop convolution (b, o, i, j, c, ki, kj) with double accumulation, PyTorch conv2d semantics.</summary>
    private static float[] NaiveConv(Tensor xT, Tensor wT, Tensor? biasT, int sh, int sw, int ph, int pw, int dh, int dw, int groups)
    {
        var x = xT.ToArray(); var w = wT.ToArray(); var bias = biasT?.ToArray();
        int b = xT.Shape[0], c = xT.Shape[1], h = xT.Shape[2], wd = xT.Shape[3];
        int o = wT.Shape[0], cg = wT.Shape[1], kh = wT.Shape[2], kw = wT.Shape[3], og = o / groups;
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        var y = new float[b * o * oh * ow];
        for (int n = 0; n < b; n++)
            for (int oc = 0; oc < o; oc++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double s = bias is null ? 0 : bias[oc];
                        int grp = oc / og;
                        for (int ci = 0; ci < cg; ci++)
                            for (int ki = 0; ki < kh; ki++)
                                for (int kj = 0; kj < kw; kj++)
                                {
                                    int ih = i * sh - ph + ki * dh, iw = j * sw - pw + kj * dw;
                                    if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                    s += (double)w[((oc * cg + ci) * kh + ki) * kw + kj] * x[((n * c + grp * cg + ci) * h + ih) * wd + iw];
                                }
                        y[((n * o + oc) * oh + i) * ow + j] = (float)s;
                    }
        return y;
    }

    private static void AssertClose(float[] expected, Tensor actual, float tol = 1e-4f, string what = "")
    {
        var a = actual.ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(expected[i] - a[i]) <= tol * (1 + Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]}, got {a[i]}");
    }

    private static Tensor Randn(int[] shape, ulong seed) => Tensor.Randn(shape, new Generator(seed));

    /// <summary>A leaf whose values are a shuffled ladder 0.1·k (k distinct): no two within 0.1, so max pooling's argmax is stable under ±1e−2 steps.</summary>
    private static Tensor Distinct(int[] shape, ulong seed)
    {
        int n = ShapeUtil.Numel(shape);
        var perm = new Generator(seed).Permutation(n);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (perm[i] - n / 2) * 0.1f;
        return Tensor.FromArray(v, shape).RequiresGrad_();
    }

    // ---------------------------------------------------------------- Conv2d values

    [Theory]
    [InlineData(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, true)]     // 3×3, same padding, bias
    [InlineData(2, 3, 7, 7, 4, 3, 3, 2, 2, 0, 0, 1, 1, 1, false)]    // stride 2
    [InlineData(1, 2, 9, 8, 3, 3, 3, 1, 1, 2, 2, 2, 2, 1, true)]     // dilation 2
    [InlineData(2, 4, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, true)]     // groups 2
    [InlineData(2, 4, 6, 5, 8, 3, 3, 2, 2, 1, 1, 1, 1, 4, true)]     // depthwise (groups = C), channel multiplier 2
    [InlineData(2, 3, 7, 8, 5, 2, 3, 2, 1, 1, 0, 1, 2, 1, true)]     // non-square kernel, stride, padding, dilation
    [InlineData(2, 3, 8, 8, 6, 4, 4, 4, 4, 0, 0, 1, 1, 1, true)]     // patchify (stride = kernel)
    [InlineData(2, 2, 10, 9, 5, 4, 4, 4, 4, 0, 0, 1, 1, 1, true)]    // patchify with uncovered border
    [InlineData(2, 4, 8, 8, 4, 2, 2, 2, 2, 0, 0, 1, 1, 2, false)]    // patchify with groups
    [InlineData(2, 5, 4, 6, 3, 1, 1, 1, 1, 0, 0, 1, 1, 1, true)]     // pointwise 1×1
    [InlineData(2, 4, 5, 6, 6, 1, 1, 2, 2, 0, 0, 1, 1, 2, true)]     // 1×1 stride 2, groups
    [InlineData(2, 3, 6, 7, 4, 3, 1, 1, 1, 1, 0, 1, 1, 1, true)]     // 3×1, same padding (shifted-plane im2col)
    [InlineData(2, 3, 6, 7, 4, 5, 3, 1, 1, 2, 1, 1, 1, 1, false)]    // 5×3, same padding
    [InlineData(1, 2, 3, 3, 2, 5, 5, 1, 1, 2, 2, 1, 1, 1, true)]     // kernel larger than the image, same padding
    [InlineData(8, 8, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, true)]  // several images per GEMM
    [InlineData(10, 32, 12, 12, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, true)] // two chunks of five images, one per core
    [InlineData(3, 4, 28, 28, 5, 1, 1, 1, 1, 0, 0, 1, 1, 1, true)]   // 1×1 reading the image in place
    [InlineData(3, 2, 28, 28, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, false)]  // GEMM writing the output in place
    public void Conv2dMatchesDirectLoops(int b, int c, int h, int w, int o, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups, bool withBias)
    {
        var x = Randn([b, c, h, w], 1);
        var wt = Randn([o, c / groups, kh, kw], 2);
        var bias = withBias ? Randn([o], 3) : null;
        var y = F.Conv2d(x, wt, bias, (sh, sw), (ph, pw), (dh, dw), groups);
        int oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        Assert.Equal(new[] { b, o, oh, ow }, y.Shape);
        AssertClose(NaiveConv(x, wt, bias, sh, sw, ph, pw, dh, dw, groups), y, 1e-4f, "Conv2d");
    }

    [Fact]
    public void Conv2dIntOverloadAndUnbatchedInput()
    {
        var x = Randn([3, 6, 6], 1);
        var wt = Randn([2, 3, 3, 3], 2);
        var y = F.Conv2d(x, wt, null, stride: 2, padding: 1);
        Assert.Equal(new[] { 2, 3, 3 }, y.Shape);
        AssertClose(NaiveConv(x.Reshape(1, 3, 6, 6), wt, null, 2, 2, 1, 1, 1, 1, 1), y);
    }

    [Fact]
    public void Conv2dNonContiguousInputMatches()
    {
        var xNhwc = Randn([2, 5, 6, 3], 1);
        var x = xNhwc.Permute(0, 3, 1, 2);                                       // (B, C, H, W) view of NHWC storage
        Assert.False(x.IsContiguous);
        var wt = Randn([4, 3, 3, 3], 2);
        AssertClose(NaiveConv(x.Contiguous(), wt, null, 1, 1, 1, 1, 1, 1, 1), F.Conv2d(x, wt, null, padding: 1));
    }

    [Theory]
    [InlineData(9, 16, 20, 20, 3, 2, 1, 1, 1, 1, 1, 2)]    // non-square, dilated; two chunks of several images
    [InlineData(30, 16, 24, 24, 3, 3, 2, 2, 1, 1, 1, 1)]   // stride 2; three chunks of ten images
    [InlineData(3, 4, 10, 9, 3, 2, 2, 1, 1, 1, 1, 2)]      // one small chunk
    [InlineData(3, 2, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1)]     // one image per chunk: GEMM in place on the output
    [InlineData(3, 4, 28, 28, 1, 1, 1, 1, 0, 0, 1, 1)]     // 1×1 with one image per chunk: the image is its own column matrix
    public void UnfoldThenMatMulEqualsConv2d(int b, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw)
    {
        // Values and gradients of Conv2d against Unfold → MatMul → + bias, each differentiated by autograd.
        var x = GradCheck.Input([b, c, h, w], 1);
        var wt = GradCheck.Input([5, c, kh, kw], 2);
        var bias = GradCheck.Input([5], 3);
        var y = F.Conv2d(x, wt, bias, (sh, sw), (ph, pw), (dh, dw));
        var cols = F.Unfold(x, (kh, kw), dilation: (dh, dw), padding: (ph, pw), stride: (sh, sw));   // (B, C·kh·kw, L)
        var y2 = (wt.Reshape(5, -1).MatMul(cols) + bias.Reshape(5, 1)).Reshape(y.Shape.ToArray());
        AssertClose(y2.ToArray(), y, 1e-4f, "values");

        var gw = Randn([.. y.Shape], 9);
        (y * gw).Sum().Backward();
        var (dx, dwt, db) = (x.Grad!.ToArray(), wt.Grad!.ToArray(), bias.Grad!.ToArray());
        x.Grad = null; wt.Grad = null; bias.Grad = null;
        (y2 * gw).Sum().Backward();
        AssertClose(x.Grad!.ToArray(), Tensor.FromArray(dx, dx.Length), 1e-4f, "dx");
        AssertClose(wt.Grad!.ToArray(), Tensor.FromArray(dwt, dwt.Length), 2e-4f, "dW");
        AssertClose(bias.Grad!.ToArray(), Tensor.FromArray(db, db.Length), 1e-4f, "db");
    }

    // ---------------------------------------------------------------- Conv2d gradients

    [Fact] public void GradConv2dPaddingBias() => Check("Conv2d pad 1", t => F.Conv2d(t[0], t[1], t[2], padding: 1), Input([2, 2, 4, 5], 1), Input([3, 2, 3, 3], 2), Input([3], 3));
    [Fact] public void GradConv2dStride2() => Check("Conv2d stride 2", t => F.Conv2d(t[0], t[1], null, stride: 2, padding: 1), Input([2, 2, 5, 5], 1), Input([3, 2, 3, 3], 2));
    [Fact] public void GradConv2dDilation() => Check("Conv2d dilation 2", t => F.Conv2d(t[0], t[1], t[2], padding: 2, dilation: 2), Input([1, 2, 5, 6], 1), Input([2, 2, 3, 3], 2), Input([2], 3));
    [Fact] public void GradConv2dGroups() => Check("Conv2d groups 2", t => F.Conv2d(t[0], t[1], t[2], padding: 1, groups: 2), Input([2, 4, 4, 4], 1), Input([4, 2, 3, 3], 2), Input([4], 3));
    [Fact] public void GradConv2dDepthwise() => Check("Conv2d depthwise", t => F.Conv2d(t[0], t[1], null, stride: 2, padding: 1, groups: 3), Input([2, 3, 5, 5], 1), Input([6, 1, 3, 3], 2));
    [Fact] public void GradConv2dNonSquare() => Check("Conv2d 2×3", t => F.Conv2d(t[0], t[1], t[2], (2, 1), (1, 0), (1, 2)), Input([2, 2, 5, 7], 1), Input([3, 2, 2, 3], 2), Input([3], 3));
    [Fact] public void GradConv2dPatchify() => Check("Conv2d patchify", t => F.Conv2d(t[0], t[1], t[2], stride: 3), Input([2, 2, 7, 6], 1), Input([4, 2, 3, 3], 2), Input([4], 3));
    [Fact] public void GradConv2dPointwise() => Check("Conv2d 1×1", t => F.Conv2d(t[0], t[1], t[2]), Input([2, 3, 3, 4], 1), Input([4, 3, 1, 1], 2), Input([4], 3));
    [Fact] public void GradConv2dSamePaddingNonSquare() => Check("Conv2d 3×1 and 5×3 same", t => F.Conv2d(F.Conv2d(t[0], t[1], null, (1, 1), (1, 0)), t[2], null, (1, 1), (2, 1)), Input([2, 2, 4, 3], 1), Input([2, 2, 3, 1], 2), Input([2, 2, 5, 3], 3));
    [Fact] public void GradConv2dKernelLargerThanImage() => Check("Conv2d 5×5 on 3×3", t => F.Conv2d(t[0], t[1], null, padding: 2), Input([1, 2, 3, 3], 1), Input([2, 2, 5, 5], 2));
    [Fact] public void GradConv2dPermutedViews() => Check("Conv2d permuted views", t => F.Conv2d(t[0].Permute(0, 3, 1, 2), t[1].Permute(3, 0, 1, 2), null, padding: 1), Input([2, 4, 5, 3], 1), Input([3, 3, 3, 2], 2));

    // ---------------------------------------------------------------- Unfold / Fold

    [Fact]
    public void UnfoldHandMade()
    {
        // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], 2×2 windows, stride 1: rows are the (ki, kj) taps, columns the 4 windows.
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        var y = F.Unfold(x, 2);
        Assert.Equal(new[] { 1, 4, 4 }, y.Shape);
        Assert.Equal(new float[] { 1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9 }, y.ToArray());
        // Padding 1, stride 2: windows at (−1, −1), (−1, 1), (1, −1), (1, 1).
        var yp = F.Unfold(x, 2, padding: 1, stride: 2);
        Assert.Equal(new float[] { 0, 0, 0, 5, 0, 0, 4, 6, 0, 2, 0, 8, 1, 3, 7, 9 }, yp.ToArray());
    }

    [Fact]
    public void FoldSumsOverlaps()
    {
        // Fold(Unfold(x)) multiplies each pixel by the number of windows covering it.
        var x = Tensor.Ones(1, 1, 3, 3);
        var counts = F.Fold(F.Unfold(x, 2), 3, 3, 2);
        Assert.Equal(new float[] { 1, 2, 1, 2, 4, 2, 1, 2, 1 }, counts.ToArray());
        // Non-overlapping windows: Fold inverts Unfold.
        var z = Randn([2, 3, 6, 4], 5);
        AssertClose(z.ToArray(), F.Fold(F.Unfold(z, 2, stride: 2), 6, 4, 2, stride: 2), 0f);
    }

    [Fact] public void GradUnfold() => Check("Unfold", t => F.Unfold(t[0], (2, 3), (2, 1), (1, 1), (2, 1)), Input([2, 2, 5, 5], 1));
    [Fact] public void GradUnfoldPermuted() => Check("Unfold permuted", t => F.Unfold(t[0].Permute(0, 3, 1, 2), 3, padding: 1), Input([1, 4, 4, 2], 1));
    [Fact] public void GradFold() => Check("Fold", t => F.Fold(t[0], 5, 4, 3, dilation: 1, padding: 1, stride: 2), Input([2, 18, 6], 1));

    // ---------------------------------------------------------------- pooling

    [Fact]
    public void MaxPoolHandMade()
    {
        var x = Tensor.FromArray([1, 5, 2, 0, 3, 4, 8, 7, -1, 6, 9, 2, 0, 0, 3, 10], 1, 1, 4, 4);
        Assert.Equal(new float[] { 5, 8, 6, 10 }, F.MaxPool2d(x, 2).ToArray());
        // Padding 1 (−∞), kernel 3, stride 2: windows centred on (0,0), (0,2), (2,0), (2,2).
        Assert.Equal(new float[] { 5, 8, 6, 10 }, F.MaxPool2d(x, 3, 2, 1).ToArray());
        // Overlapping stride 1, kernel 3: 2×2 output.
        Assert.Equal(new float[] { 9, 9, 9, 10 }, F.MaxPool2d(x, 3, 1).ToArray());
        // Gradient goes to the argmax; shared argmax accumulates.
        var xl = x.Detach().RequiresGrad_();
        F.MaxPool2d(xl, 3, 1).Sum().Backward();
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1 }, xl.Grad!.ToArray());
    }

    [Fact]
    public void MaxPoolTiesGoToFirst()
    {
        var x = Tensor.FromArray([2, 2, 2, 2], 1, 1, 2, 2).RequiresGrad_();
        F.MaxPool2d(x, 2).Sum().Backward();
        Assert.Equal(new float[] { 1, 0, 0, 0 }, x.Grad!.ToArray());
    }

    [Fact]
    public void MaxPoolNaNWinsAsInPyTorch()
    {
        var x = Tensor.FromArray([1, float.NaN, 3, 2, 5, 6, float.NegativeInfinity, 4], 1, 1, 2, 4);
        var y = F.MaxPool2d(x, 2).ToArray();
        Assert.True(float.IsNaN(y[0]));
        Assert.Equal(4f, y[1]);
        Assert.True(float.IsNaN(F.MaxPool2d(x, (2, 3), (1, 1)).ToArray()[0]));
    }

    [Fact]
    public void AvgPoolHandMade()
    {
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 1, 1, 4, 4);
        Assert.Equal(new float[] { 3.5f, 5.5f, 11.5f, 13.5f }, F.AvgPool2d(x, 2).ToArray());
        // Kernel 3, stride 2, padding 1: the window at (0, 0) covers rows/cols −1..1.
        var inc = F.AvgPool2d(x, 3, 2, 1).ToArray();
        var exc = F.AvgPool2d(x, 3, 2, 1, countIncludePad: false).ToArray();
        Assert.Equal((1 + 2 + 5 + 6) / 9f, inc[0], 5);
        Assert.Equal((1 + 2 + 5 + 6) / 4f, exc[0], 5);
        Assert.Equal((6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16) / 9f, inc[3], 5);
        Assert.Equal((2 + 3 + 4 + 6 + 7 + 8) / 9f, inc[1], 5);
        Assert.Equal((2 + 3 + 4 + 6 + 7 + 8) / 6f, exc[1], 5);
    }

    [Fact]
    public void AdaptiveAvgPoolBins()
    {
        // H = 5 → 3 bins: [0, 2), [1, 4), [3, 5); W = 4 → 2 bins: [0, 2), [2, 4).
        var v = Enumerable.Range(0, 20).Select(i => (float)i).ToArray();
        var x = Tensor.FromArray(v, 1, 1, 5, 4);
        var y = F.AdaptiveAvgPool2d(x, 3, 2).ToArray();
        float Mean(int r0, int r1, int c0, int c1)
        {
            double s = 0; int n = 0;
            for (int r = r0; r < r1; r++) for (int c = c0; c < c1; c++) { s += v[r * 4 + c]; n++; }
            return (float)(s / n);
        }
        Assert.Equal(new[] { Mean(0, 2, 0, 2), Mean(0, 2, 2, 4), Mean(1, 4, 0, 2), Mean(1, 4, 2, 4), Mean(3, 5, 0, 2), Mean(3, 5, 2, 4) }, y);
        // 1×1 output and the global pool are the plane mean.
        Assert.Equal(9.5f, F.AdaptiveAvgPool2d(x, 1, 1).Item(), 5);
        Assert.Equal(9.5f, F.GlobalAvgPool2d(x).Item(), 5);
    }

    [Fact] public void GradMaxPool2x2() => Check("MaxPool2d 2×2", t => F.MaxPool2d(t[0], 2), Distinct([2, 3, 5, 7], 3));
    [Fact] public void GradMaxPool() => Check("MaxPool2d", t => F.MaxPool2d(t[0], 3, 2, 1), Distinct([2, 2, 5, 6], 1));
    [Fact] public void GradMaxPoolPermuted() => Check("MaxPool2d permuted", t => F.MaxPool2d(t[0].Permute(0, 3, 1, 2), (2, 3), (2, 1)), Distinct([1, 4, 6, 2], 2));
    [Fact] public void GradAvgPool() => Check("AvgPool2d", t => F.AvgPool2d(t[0], 3, 2, 1), Input([2, 2, 5, 6], 1));
    [Fact] public void GradAvgPoolExcludePad() => Check("AvgPool2d exclude pad", t => F.AvgPool2d(t[0], (3, 2), (1, 2), (1, 1), countIncludePad: false), Input([1, 2, 4, 5], 1));
    [Fact] public void GradAdaptiveAvgPool() => Check("AdaptiveAvgPool2d", t => F.AdaptiveAvgPool2d(t[0].Transpose(2, 3), 3, 2), Input([2, 2, 4, 5], 1));
    [Fact] public void GradGlobalAvgPool() => Check("GlobalAvgPool2d", t => F.GlobalAvgPool2d(t[0]), Input([2, 3, 3, 2], 1));

    // ---------------------------------------------------------------- BatchNorm

    [Fact]
    public void BatchNormRunningStatsTwoSteps()
    {
        var rm = Tensor.Zeros(2); var rv = Tensor.Ones(2);
        // Channel 0 sees 1, 2, 3, 6 then 0, 0, 4, 4; channel 1 sees −1, 1, 1, −1 then 2, 2, 2, 2 (B = 2, spatial 2).
        var x1 = Tensor.FromArray([1, 2, -1, 1, 3, 6, 1, -1], 2, 2, 2);
        var x2 = Tensor.FromArray([0, 0, 2, 2, 4, 4, 2, 2], 2, 2, 2);
        F.BatchNorm(x1, rm, rv, null, null, training: true, momentum: 0.1f);
        // mean0 = 3, unbiased var0 = (4 + 1 + 0 + 9)/3; mean1 = 0, var1 = 4/3.
        Assert.Equal(0.1f * 3, rm[0], 6); Assert.Equal(0f, rm[1], 6);
        Assert.Equal(0.9f + 0.1f * 14f / 3, rv[0], 5); Assert.Equal(0.9f + 0.1f * 4f / 3, rv[1], 5);
        F.BatchNorm(x2, rm, rv, null, null, training: true, momentum: 0.1f);
        // mean0 = 2, var0 = 16/3; mean1 = 2, var1 = 0.
        Assert.Equal(0.9f * 0.3f + 0.1f * 2, rm[0], 5); Assert.Equal(0.1f * 2, rm[1], 5);
        Assert.Equal(0.9f * (0.9f + 0.1f * 14f / 3) + 0.1f * 16f / 3, rv[0], 5);
        Assert.Equal(0.9f * (0.9f + 0.1f * 4f / 3), rv[1], 5);
    }

    [Fact]
    public void BatchNormEvalUsesRunningStats()
    {
        var rm = Tensor.FromArray([1f, -2f], 2); var rv = Tensor.FromArray([4f, 0.25f], 2);
        var w = Tensor.FromArray([2f, 3f], 2); var b = Tensor.FromArray([0.5f, -1f], 2);
        var x = Randn([3, 2, 2, 2], 4);
        var y = F.BatchNorm(x, rm, rv, w, b, training: false, eps: 1e-5f).ToArray();
        var xv = x.ToArray();
        for (int i = 0; i < xv.Length; i++)
        {
            int c = i / 4 % 2;
            float expect = (xv[i] - rm[c]) / MathF.Sqrt(rv[c] + 1e-5f) * w[c] + b[c];
            Assert.Equal(expect, y[i], 4);
        }
        Assert.Equal(new float[] { 1f, -2f }, rm.ToArray());                    // evaluation leaves the buffers alone
        Assert.Equal(new float[] { 4f, 0.25f }, rv.ToArray());
    }

    [Fact]
    public void BatchNormTrainingNormalisesEachChannel()
    {
        var x = (Randn([16, 3, 5, 5], 6) * 3f + 2f);
        var y = F.BatchNorm(x, null, null, null, null, training: true);
        var mean = y.Mean([0, 2, 3]).ToArray();
        var variance = y.Var([0, 2, 3], correction: 0).ToArray();
        foreach (var m in mean) Assert.True(Math.Abs(m) < 1e-5, $"mean {m}");
        foreach (var v in variance) Assert.True(Math.Abs(v - 1) < 1e-4, $"var {v}");
        // (B, C) input too.
        var y2 = F.BatchNorm(Randn([32, 4], 7) * 2f, null, null, null, null, training: true);
        foreach (var m in y2.Mean(0).ToArray()) Assert.True(Math.Abs(m) < 1e-5, $"mean {m}");
    }

    [Fact] public void GradBatchNorm4d() => Check("BatchNorm (B,C,H,W)", t => F.BatchNorm(t[0], null, null, t[1], t[2], training: true), Input([3, 2, 3, 2], 1), Input([2], 2), Input([2], 3));
    [Fact] public void GradBatchNorm2d() => Check("BatchNorm (B,C)", t => F.BatchNorm(t[0], null, null, t[1], t[2], training: true), Input([6, 3], 1), Input([3], 2), Input([3], 3));
    [Fact] public void GradBatchNormPermuted() => Check("BatchNorm permuted", t => F.BatchNorm(t[0].Permute(0, 3, 1, 2), null, null, t[1], null, training: true), Input([3, 2, 3, 2], 1), Input([2], 2));
    [Fact]
    public void GradBatchNormEval()
    {
        var rm = Tensor.FromArray([0.3f, -0.2f], 2); var rv = Tensor.FromArray([1.5f, 0.5f], 2);
        Check("BatchNorm eval", t => F.BatchNorm(t[0], rm, rv, t[1], t[2], training: false), Input([2, 2, 3], 1), Input([2], 2), Input([2], 3));
    }

    // ---------------------------------------------------------------- bad inputs

    [Fact]
    public void BadInputsNameTheShapes()
    {
        var x = Tensor.Zeros(2, 3, 5, 5);
        var e1 = Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros(4, 2, 3, 3), null));
        Assert.Contains("[2, 3, 5, 5]", e1.Message); Assert.Contains("[4, 2, 3, 3]", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros(4, 1, 3, 3), null, groups: 2));
        Assert.Contains("groups 2", e2.Message); Assert.Contains("[2, 3, 5, 5]", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros(4, 3, 7, 7), null, padding: 0));
        Assert.Contains("[4, 3, 7, 7]", e3.Message); Assert.Contains("padding (0, 0)", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => F.Conv2d(x, Tensor.Zeros(4, 3, 3, 3), Tensor.Zeros(3)));
        Assert.Contains("bias [3]", e4.Message);
        var e5 = Assert.Throws<ArgumentException>(() => F.Unfold(Tensor.Zeros(2, 3, 5), 2));
        Assert.Contains("[2, 3, 5]", e5.Message);
        var e6 = Assert.Throws<ArgumentException>(() => F.Fold(Tensor.Zeros(1, 8, 5), 4, 4, 2));
        Assert.Contains("[1, 8, 5]", e6.Message);
        var e7 = Assert.Throws<ArgumentException>(() => F.MaxPool2d(x, 3, 1, 2));
        Assert.Contains("[2, 3, 5, 5]", e7.Message);
        var e8 = Assert.Throws<ArgumentException>(() => F.BatchNorm(x, null, null, Tensor.Ones(4), null, training: true));
        Assert.Contains("[2, 3, 5, 5]", e8.Message); Assert.Contains("weight [4]", e8.Message);
        var e9 = Assert.Throws<ArgumentException>(() => F.BatchNorm(x, null, null, null, null, training: false));
        Assert.Contains("[2, 3, 5, 5]", e9.Message);
        var e10 = Assert.Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(1, 3), null, null, null, null, training: true));
        Assert.Contains("[1, 3]", e10.Message);
    }
}
