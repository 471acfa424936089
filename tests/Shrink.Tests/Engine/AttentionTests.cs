using Shrink.Tensors;
using static Shrink.Tests.Engine.GradCheck;
using F = Shrink.Tensors.Functional;

namespace Shrink.Tests.Engine;

/// <summary>Fused scaled dot-product attention (Ops/Attention.cs) against the unfused composite and finite differences.</summary>
public class AttentionTests
{
    private static void Close(float[] expected, float[] actual, float tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    /// <summary>softmax(q·kᵀ·scale + mask)·v with ordinary tensor ops.</summary>
    private static (Tensor O, Tensor P) Composite(Tensor q, Tensor k, Tensor v, Tensor? mask, float scale)
    {
        var s = q.MatMul(k.MT) * scale;
        if (mask is not null) s = s + mask;
        var p = s.Softmax(-1);
        return (p.MatMul(v), p);
    }

    /// <summary>Runs fused and composite on the same inputs with the same upstream gradients (for O and for P) and compares values and input gradients.</summary>
    private static void CompareWithComposite(int[] qShape, int nk, int dv, Tensor? mask, float tol, bool useWeights)
    {
        int[] lead = qShape[..^2];
        var q = Tensor.Randn(qShape, new Generator(1)).RequiresGrad_();
        var k = Tensor.Randn([.. lead, nk, qShape[^1]], new Generator(2)).RequiresGrad_();
        var v = Tensor.Randn([.. lead, nk, dv], new Generator(3)).RequiresGrad_();
        var gO = Tensor.Randn([.. lead, qShape[^2], dv], new Generator(4));
        var gP = Tensor.Randn([.. lead, qShape[^2], nk], new Generator(5));
        float scale = 1f / MathF.Sqrt(qShape[^1]);
        Tensor[] leaves = mask is not null && mask.RequiresGrad ? [q, k, v, mask] : [q, k, v];

        var (o, w) = F.ScaledDotProductAttention(q, k, v, mask, returnWeights: useWeights);
        var loss = (o * gO).Sum();
        if (useWeights) loss = loss + (w! * gP).Sum();
        loss.Backward();
        var grads = leaves.Select(t => t.Grad!.ToArray()).ToArray();
        foreach (var t in leaves) t.Grad = null;

        var (oc, pc) = Composite(q, k, v, mask, scale);
        Close(oc.ToArray(), o.ToArray(), tol);
        if (useWeights) Close(pc.ToArray(), w!.ToArray(), tol);
        var lossC = (oc * gO).Sum();
        if (useWeights) lossC = lossC + (pc * gP).Sum();
        lossC.Backward();
        for (int i = 0; i < leaves.Length; i++) Close(leaves[i].Grad!.ToArray(), grads[i], tol);
        foreach (var t in leaves) t.Grad = null;
    }

    private static Tensor CausalMask(int n)
    {
        var m = Tensor.Zeros(n, n);
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) m.AsSpan()[i * n + j] = float.NegativeInfinity;
        return m;
    }

    [Fact] public void MatchesCompositeNoMask() => CompareWithComposite([2, 3, 5, 4], 6, 3, null, 1e-4f, useWeights: false);
    [Fact] public void MatchesCompositeCausalMaskWithWeights() => CompareWithComposite([2, 3, 5, 4], 5, 4, CausalMask(5), 1e-4f, useWeights: true);
    [Fact] public void MatchesCompositeLearnedBiasMask() => CompareWithComposite([2, 3, 4, 4], 6, 2, Tensor.Randn([3, 4, 6], new Generator(9)).RequiresGrad_(), 1e-4f, useWeights: true);
    [Fact] public void MatchesCompositeLargeParallel() => CompareWithComposite([4, 3, 64, 16], 64, 16, null, 2e-4f, useWeights: true);

    // The attention shapes of the ViTs on 28×28 images (17 or 50 tokens, head widths 16 to 64), with and without weights.
    [Theory]
    [InlineData(17, 17, 16, 16, false)]
    [InlineData(17, 17, 16, 16, true)]
    [InlineData(50, 50, 64, 64, false)]
    [InlineData(5, 33, 32, 48, true)]
    [InlineData(3, 1, 16, 32, false)]
    public void MatchesCompositeVitSizes(int nq, int nk, int d, int dv, bool useWeights) =>
        CompareWithComposite([2, 3, nq, d], nk, dv, null, 2e-4f, useWeights);

    [Fact]
    public void MatchesCompositeKeyPaddingMask()
    {
        // (B, 1, 1, Nk) padding mask: batch 1 ignores its last two keys.
        var mask = Tensor.Zeros(2, 1, 1, 5);
        mask.AsSpan()[8] = float.NegativeInfinity; mask.AsSpan()[9] = float.NegativeInfinity;
        CompareWithComposite([2, 2, 3, 4], 5, 3, mask, 1e-4f, useWeights: true);
    }

    [Fact] public void GradNoMask() => Check("SDPA", x => F.ScaledDotProductAttention(x[0], x[1], x[2]).Output, Input([2, 2, 3, 4], 1), Input([2, 2, 5, 4], 2), Input([2, 2, 5, 3], 3));

    [Fact]
    public void GradWithMask()
    {
        var mask = Tensor.FromArray([0f, -1f, float.NegativeInfinity, 0.5f, 0f, 0f, 0f, float.NegativeInfinity, 0f, 0f, 0.3f, 0f], 3, 4);
        Check("SDPA mask", x => F.ScaledDotProductAttention(x[0], x[1], x[2], mask, scale: 0.7f).Output, Input([2, 3, 4], 1), Input([2, 4, 4], 2), Input([2, 4, 2], 3));
    }

    [Fact]
    public void GradLearnedBiasAndWeights()
    {
        // Output and weights together, gradient also into an additive bias (relative-position style) broadcast over batch.
        Check("SDPA weights + bias", x =>
        {
            var (o, w) = F.ScaledDotProductAttention(x[0], x[1], x[2], x[3], returnWeights: true);
            return F.Concat([o.Flatten(), w!.Flatten()], 0);
        }, Input([2, 2, 3, 4], 1), Input([2, 2, 4, 4], 2), Input([2, 2, 4, 2], 3), Input([2, 3, 4], 4));
    }

    [Fact]
    public void GradViTLayoutViews()
    {
        // qkv (B, N, 3, H, hd) permuted to (3, B, H, N, hd) as in timm: q, k, v are non-contiguous views.
        Check("SDPA ViT views", x =>
        {
            var qkv = x[0].Reshape(2, 4, 3, 2, 3).Permute(2, 0, 3, 1, 4);
            return F.ScaledDotProductAttention(qkv.Select(0, 0), qkv.Select(0, 1), qkv.Select(0, 2)).Output;
        }, Input([2, 4, 18], 1));
    }

    [Fact]
    public void GradBroadcastKeyView() => Check("SDPA expanded k", x => F.ScaledDotProductAttention(x[0], x[1].Expand(2, -1, -1, -1), x[2]).Output,
        Input([2, 3, 4, 4], 1), Input([1, 3, 5, 4], 2), Input([2, 3, 5, 2], 3));

    /// <summary>timm's attention with the general API: qkv views in, (B, N, D) out.</summary>
    private static (Tensor O, Tensor W) TimmAttention(Tensor qkv, int heads, Tensor? mask)
    {
        int b = qkv.Shape[0], n = qkv.Shape[1], dim = qkv.Shape[2] / 3;
        var p = qkv.Reshape(b, n, 3, heads, dim / heads).Permute(2, 0, 3, 1, 4);
        var (o, w) = F.ScaledDotProductAttention(p.Select(0, 0), p.Select(0, 1), p.Select(0, 2), mask, returnWeights: true);
        return (o.Transpose(1, 2).Reshape(b, n, dim), w!);
    }

    [Fact]
    public void PackedMatchesTimmLayout()
    {
        foreach (var (b, n, dim, heads) in new[] { (2, 5, 12, 3), (8, 50, 48, 3) })
        {
            var qkv = Tensor.Randn([b, n, 3 * dim], new Generator(1)).RequiresGrad_();
            var mask = (Tensor.Randn([heads, n, n], new Generator(2)) * 0.5f).RequiresGrad_();
            var gO = Tensor.Randn([b, n, dim], new Generator(3)); var gW = Tensor.Randn([b, heads, n, n], new Generator(4));
            var (o, w) = F.ScaledDotProductAttentionPacked(qkv, heads, mask, returnWeights: true);
            Assert.Equal([b, n, dim], o.Shape); Assert.Equal([b, heads, n, n], w!.Shape);
            ((o * gO).Sum() + (w * gW).Sum()).Backward();
            var (gq, gm) = (qkv.Grad!.ToArray(), mask.Grad!.ToArray());
            qkv.Grad = null; mask.Grad = null;
            var (oc, wc) = TimmAttention(qkv, heads, mask);
            Close(oc.ToArray(), o.ToArray(), 1e-5f); Close(wc.ToArray(), w.ToArray(), 1e-5f);
            ((oc * gO).Sum() + (wc * gW).Sum()).Backward();
            Close(qkv.Grad!.ToArray(), gq, 1e-4f); Close(mask.Grad!.ToArray(), gm, 1e-4f);
        }
    }

    [Fact] public void GradPacked() => Check("SDPA packed", x => F.ScaledDotProductAttentionPacked(x[0], 2).Output, Input([2, 3, 12], 1));

    [Fact]
    public void GradPackedWeightsAndMask() => Check("SDPA packed weights + mask", x =>
    {
        var (o, w) = F.ScaledDotProductAttentionPacked(x[0], 2, x[1], scale: 0.6f, returnWeights: true);
        return F.Concat([o.Flatten(), w!.Flatten()], 0);
    }, Input([2, 3, 12], 1), Input([2, 1, 3, 3], 2));

    [Fact]
    public void PackedShapeErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => F.ScaledDotProductAttentionPacked(Tensor.Zeros(2, 3, 12), 5));
        Assert.Contains("[2, 3, 12]", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => F.ScaledDotProductAttentionPacked(Tensor.Zeros(2, 3, 12), 2, Tensor.Zeros(3, 3, 3)));
        Assert.Contains("[3, 3, 3]", e2.Message); Assert.Contains("[2, 2, 3, 3]", e2.Message);
    }

    [Fact]
    public void WeightsAreProbabilitiesAndFullyMaskedRowsAreZero()
    {
        var q = Tensor.Randn([1, 3, 4], new Generator(1)); var k = Tensor.Randn([1, 5, 4], new Generator(2)); var v = Tensor.Randn([1, 5, 2], new Generator(3));
        var mask = Tensor.Zeros(3, 5);
        for (int j = 0; j < 5; j++) mask.AsSpan()[5 + j] = float.NegativeInfinity;   // row 1 sees nothing
        var (o, w) = F.ScaledDotProductAttention(q, k, v, mask, returnWeights: true);
        Assert.Equal([1, 3, 5], w!.Shape);
        var p = w.ToArray();
        Assert.InRange(p.Take(5).Sum(), 0.99999f, 1.00001f);
        Assert.All(p.Skip(5).Take(5), x => Assert.Equal(0f, x));
        Assert.All(o.ToArray().Skip(2).Take(2), x => Assert.Equal(0f, x));
        Assert.Null(F.ScaledDotProductAttention(q, k, v).Weights);
    }

    [Fact]
    public void ShapeErrorsNameShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => F.ScaledDotProductAttention(Tensor.Zeros(2, 3, 4), Tensor.Zeros(2, 5, 3), Tensor.Zeros(2, 5, 2)));
        Assert.Contains("[2, 3, 4]", e.Message); Assert.Contains("[2, 5, 3]", e.Message); Assert.Contains("[2, 5, 2]", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => F.ScaledDotProductAttention(Tensor.Zeros(2, 3, 4), Tensor.Zeros(2, 5, 4), Tensor.Zeros(2, 5, 2), Tensor.Zeros(4, 5)));
        Assert.Contains("[4, 5]", e2.Message);
    }
}
