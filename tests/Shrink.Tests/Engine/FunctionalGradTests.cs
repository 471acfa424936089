using Shrink.Tensors;
using static Shrink.Tests.Engine.GradCheck;
using F = Shrink.Tensors.Functional;

namespace Shrink.Tests.Engine;

/// <summary>Gradient checks and value tests of the layer and indexing functions (Ops/Layers.cs, Ops/Indexing.cs).</summary>
public class FunctionalGradTests
{
    private static void Close(float[] expected, float[] actual, float tol = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {actual[i]}");
    }

    // ---------------------------------------------------------------- Linear

    [Fact] public void Linear3D() => Check("Linear", x => F.Linear(x[0], x[1], x[2]), Input([2, 3, 4], 1), Input([5, 4], 2), Input([5], 3));
    [Fact] public void LinearNoBias() => Check("Linear no bias", x => F.Linear(x[0], x[1]), Input([3, 4], 1), Input([2, 4], 2));
    [Fact] public void LinearTransposedInput() => Check("Linear(transposed input)", x => F.Linear(x[0].Transpose(1, 2), x[1], x[2]), Input([2, 4, 3], 1), Input([5, 4], 2), Input([5], 3));
    [Fact] public void LinearTransposedWeight() => Check("Linear(transposed weight)", x => F.Linear(x[0], x[1].MT, x[2]), Input([3, 4], 1), Input([4, 5], 2), Input([5], 3));

    [Fact]
    public void LinearMatchesMatMul()
    {
        var x = Tensor.Randn([2, 3, 7], new Generator(1)); var w = Tensor.Randn([5, 7], new Generator(2)); var b = Tensor.Randn([5], new Generator(3));
        Close((x.MatMul(w.MT) + b).ToArray(), F.Linear(x, w, b).ToArray());
        Assert.Equal([2, 3, 5], F.Linear(x, w, b).Shape);
    }

    [Fact]
    public void LinearLargeMatchesComposite()
    {
        // Large enough for the parallel bias add and column sums.
        var x = Tensor.Randn([64, 50, 48], new Generator(1)).RequiresGrad_();
        var w = Tensor.Randn([40, 48], new Generator(2)).RequiresGrad_();
        var b = Tensor.Randn([40], new Generator(3)).RequiresGrad_();
        var gOut = Tensor.Randn([64, 50, 40], new Generator(4));
        F.Linear(x, w, b).Backward(gOut);
        var (gx, gw, gb) = (x.Grad!.ToArray(), w.Grad!.ToArray(), b.Grad!.ToArray());
        x.Grad = null; w.Grad = null; b.Grad = null;
        (x.MatMul(w.MT) + b).Backward(gOut);
        Close(x.Grad!.ToArray(), gx, 1e-4f); Close(w.Grad!.ToArray(), gw, 1e-4f); Close(b.Grad!.ToArray(), gb, 1e-4f);
    }

    [Fact]
    public void LinearShapeErrorNamesShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => F.Linear(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5), Tensor.Zeros(4)));
        Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4, 5]", e.Message); Assert.Contains("[4]", e.Message);
    }

    // ---------------------------------------------------------------- LayerNorm

    [Fact] public void LayerNormLastAxisAffine() => Check("LayerNorm affine", x => F.LayerNorm(x[0], [5], x[1], x[2]), Input([3, 5], 1), Input([5], 2), Input([5], 3));
    [Fact] public void LayerNormTwoAxesNoAffine() => Check("LayerNorm 2 axes", x => F.LayerNorm(x[0], [3, 4]), Input([2, 3, 4], 1));
    [Fact] public void LayerNormTwoAxesAffine() => Check("LayerNorm 2 axes affine", x => F.LayerNorm(x[0], [3, 4], x[1], x[2], 1e-6f), Input([2, 3, 4], 1), Input([3, 4], 2), Input([3, 4], 3));
    [Fact] public void LayerNormWeightOnlyNonContiguous() => Check("LayerNorm weight only (transposed)", x => F.LayerNorm(x[0].MT, [4], x[1]), Input([4, 3], 1), Input([4], 2));
    [Fact] public void LayerNormBiasOnly() => Check("LayerNorm bias only", x => F.LayerNorm(x[0], [4], null, x[1]), Input([3, 4], 1), Input([4], 2));

    private static Tensor LayerNormComposite(Tensor x, int axes, Tensor? w, Tensor? b, float eps)
    {
        var ax = Enumerable.Range(x.Rank - axes, axes).ToArray();
        var y = (x - x.Mean(ax, keepdim: true)) / (x.Var(ax, correction: 0, keepdim: true) + eps).Sqrt();
        if (w is not null) y = y * w;
        if (b is not null) y = y + b;
        return y;
    }

    [Fact]
    public void LayerNormMatchesCompositeInParallel()
    {
        // 300 rows of 256: large enough to run on several chunks.
        var x = (Tensor.Randn([300, 256], new Generator(1)) * 3f + 1f).RequiresGrad_();
        var w = Tensor.Randn([256], new Generator(2)).RequiresGrad_();
        var b = Tensor.Randn([256], new Generator(3)).RequiresGrad_();
        var gOut = Tensor.Randn([300, 256], new Generator(4));
        var y = F.LayerNorm(x, [256], w, b, 1e-6f);
        y.Backward(gOut);
        var (gx, gw, gb) = (x.Grad!.ToArray(), w.Grad!.ToArray(), b.Grad!.ToArray());
        x.Grad = null; w.Grad = null; b.Grad = null;
        var yc = LayerNormComposite(x, 1, w, b, 1e-6f);
        Close(yc.ToArray(), y.ToArray(), 1e-4f);
        yc.Backward(gOut);
        Close(x.Grad!.ToArray(), gx, 2e-4f); Close(w.Grad!.ToArray(), gw, 2e-4f); Close(b.Grad!.ToArray(), gb, 2e-4f);

        // Same inputs, same bits.
        Assert.Equal(y.ToArray(), F.LayerNorm(x, [256], w, b, 1e-6f).ToArray());
    }

    [Fact]
    public void LayerNormValues()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], 1, 4);
        // mean 2.5, population variance 1.25
        double rstd = 1 / Math.Sqrt(1.25 + 1e-5);
        Close([(float)(-1.5 * rstd), (float)(-0.5 * rstd), (float)(0.5 * rstd), (float)(1.5 * rstd)], F.LayerNorm(x, [4]).ToArray());
    }

    [Fact]
    public void LayerNormShapeErrorNamesShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => F.LayerNorm(Tensor.Zeros(2, 3), [4], Tensor.Ones(4)));
        Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4]", e.Message);
    }

    // ---------------------------------------------------------------- Dropout

    // A fresh generator with the same seed on every call, so the forward and each finite-difference probe see the same mask.
    [Fact] public void DropoutGrad() => Check("Dropout", x => F.Dropout(x[0], 0.3f, training: true, new Generator(5)), Input([4, 6], 1));

    [Fact]
    public void DropoutMaskAndScale()
    {
        var x = Tensor.Ones(100, 100);
        var y = F.Dropout(x, 0.3f, true, new Generator(9)).ToArray();
        Assert.All(y, v => Assert.True(v == 0f || Math.Abs(v - 1f / 0.7f) < 1e-6f));
        double dropped = y.Count(v => v == 0f) / 10000.0;
        Assert.InRange(dropped, 0.28, 0.32);
        Assert.Equal(y, F.Dropout(x, 0.3f, true, new Generator(9)).ToArray());
        Assert.NotEqual(y, F.Dropout(x, 0.3f, true, new Generator(10)).ToArray());
        Assert.Same(x, F.Dropout(x, 0.3f, training: false));
        Assert.Same(x, F.Dropout(x, 0f, training: true));
        Assert.All(F.Dropout(x, 1f, true, new Generator(1)).ToArray(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => F.Dropout(x, 1.5f, true));
    }

    // ---------------------------------------------------------------- Embedding

    [Fact] public void EmbeddingGrad() => Check("Embedding", x => F.Embedding([1, 3, 1, 0, 4, 3], [2, 3], x[0]), Input([5, 3], 1));

    [Fact]
    public void EmbeddingValuesAndRangeError()
    {
        var w = Tensor.Arange(12).Reshape(4, 3);
        var y = F.Embedding([2, 0], [2], w);
        Assert.Equal([2, 3], y.Shape);
        Assert.Equal([6f, 7f, 8f, 0f, 1f, 2f], y.ToArray());
        var e = Assert.Throws<ArgumentException>(() => F.Embedding([1, 7], [2], w));
        Assert.Contains("7", e.Message); Assert.Contains("4 rows", e.Message);
    }

    // ---------------------------------------------------------------- Concat / Stack / Split / Chunk

    [Fact] public void ConcatAxis1() => Check("Concat", x => F.Concat([x[0], x[1].Transpose(1, 2), x[2]], 1), Input([2, 1, 3], 1), Input([2, 3, 2], 2), Input([2, 3, 3], 3));
    [Fact] public void ConcatLastAxis() => Check("Concat last", x => F.Concat([x[0], x[1]], -1), Input([2, 3], 1), Input([2, 1], 2));
    [Fact] public void StackMiddle() => Check("Stack", x => F.Stack([x[0], x[1].MT], 1), Input([2, 3], 1), Input([3, 2], 2));
    [Fact] public void SplitSizes() => Check("Split sizes", x => { var p = F.Split(x[0], [1, 3, 2], 1); return F.Concat([p[2] * 2f, p[0], p[1].Exp()], 1); }, Input([2, 6], 1));
    [Fact] public void SplitChunkSize() => Check("Split size", x => { var p = F.Split(x[0], 2, 0); return F.Concat([p[2] * 3f, p[0]], 0); }, Input([5, 2], 1));
    [Fact] public void ChunkGrad() => Check("Chunk", x => { var p = F.Chunk(x[0], 3, -1); return p[0] * p[2]; }, Input([2, 6], 1));

    [Fact]
    public void ConcatStackSplitValues()
    {
        var a = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2); var b = Tensor.FromArray([5f, 6f], 2, 1);
        Assert.Equal([1f, 2f, 5f, 3f, 4f, 6f], F.Concat([a, b], 1).ToArray());
        var s = F.Stack([a, a * 2f], 0);
        Assert.Equal([2, 2, 2], s.Shape);
        Assert.Equal([1f, 2f, 3f, 4f, 2f, 4f, 6f, 8f], s.ToArray());
        Assert.Equal([2, 2, 2], F.Stack([a, a], -1).Shape);
        var parts = F.Split(Tensor.Arange(7), 3);
        Assert.Equal([3, 3, 1], parts.Select(p => p.Shape[0]));
        Assert.True(parts[1].IsView);
        Assert.Equal([3, 3, 1], F.Chunk(Tensor.Arange(7), 3).Select(p => p.Shape[0]));
        Assert.Equal([2, 2, 2], F.Chunk(Tensor.Arange(6), 4).Select(p => p.Shape[0]));   // as torch.chunk: fewer chunks
        var e = Assert.Throws<ArgumentException>(() => F.Concat([a, Tensor.Zeros(3, 1)], 1));
        Assert.Contains("[2, 2]", e.Message); Assert.Contains("[3, 1]", e.Message);
        var e2 = Assert.Throws<ArgumentException>(() => F.Stack([a, b]));
        Assert.Contains("[2, 2]", e2.Message); Assert.Contains("[2, 1]", e2.Message);
        Assert.Throws<ArgumentException>(() => F.Split(a, [1, 2], 0));
    }

    // ---------------------------------------------------------------- IndexSelect / Gather

    [Fact] public void IndexSelectRepeats() => Check("IndexSelect", x => F.IndexSelect(x[0], 1, [2, 0, 2, 3]), Input([2, 4, 3], 1));
    [Fact] public void IndexSelectTransposed() => Check("IndexSelect(transposed)", x => x[0].MT.IndexSelect(0, [1, 1, 0]), Input([3, 2], 1));

    [Fact]
    public void GatherGrad()
    {
        var index = Tensor.FromArray([0f, 2f, 2f, 1f, 0f, 0f], 2, 3);
        Check("Gather axis 1", x => F.Gather(x[0], 1, index), Input([2, 4], 1));
        var index0 = Tensor.FromArray([1f, 0f, 1f, 2f, 1f, 0f], 2, 1, 3);
        Check("Gather axis 0 (smaller index)", x => F.Gather(x[0], 0, index0), Input([3, 2, 3], 1));
    }

    [Fact]
    public void GatherAndIndexSelectValues()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        // torch.gather(t, 1, [[0, 0], [1, 0]]) = [[1, 1], [4, 3]]
        Assert.Equal([1f, 1f, 4f, 3f], F.Gather(x, 1, Tensor.FromArray([0f, 0f, 1f, 0f], 2, 2)).ToArray());
        Assert.Equal([2f, 1f, 4f, 3f], x.IndexSelect(1, [1, 0]).ToArray());
        var e = Assert.Throws<ArgumentException>(() => F.Gather(x, 1, Tensor.FromArray([0f, 0.5f, 1f, 0f], 2, 2)));
        Assert.Contains("0.5", e.Message);
        Assert.Throws<ArgumentException>(() => F.Gather(x, 1, Tensor.FromArray([0f, 2f, 1f, 0f], 2, 2)));
        var e2 = Assert.Throws<ArgumentException>(() => F.IndexSelect(x, 0, [0, 5]));
        Assert.Contains("5", e2.Message); Assert.Contains("[2, 2]", e2.Message);
    }

    // ---------------------------------------------------------------- MaskedFill / Where

    [Fact]
    public void MaskedFillBroadcast()
    {
        var mask = Tensor.FromArray([1f, 0f, 0f, 1f], 4);
        Check("MaskedFill", x => F.MaskedFill(x[0], mask, -3f) * 2f, Input([3, 4], 1));
        Check("MaskedFill(transposed)", x => x[0].MT.MaskedFill(Tensor.FromArray([0f, 1f, 1f], 3, 1), 0.5f), Input([4, 3], 1));
        var y = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2).MaskedFill(Tensor.FromArray([0f, 1f], 2), float.NegativeInfinity).ToArray();
        Assert.Equal([1f, float.NegativeInfinity, 3f, float.NegativeInfinity], y);
        var e = Assert.Throws<ArgumentException>(() => F.MaskedFill(Tensor.Zeros(2, 3), Tensor.Zeros(2), 0f));
        Assert.Contains("[2, 3]", e.Message); Assert.Contains("[2]", e.Message);
    }

    [Fact]
    public void WhereBroadcast()
    {
        var cond = Tensor.FromArray([1f, 0f, 1f], 3, 1);
        Check("Where", x => F.Where(cond, x[0], x[1]), Input([3, 4], 1), Input([4], 2));
        Check("Where(transposed)", x => F.Where(cond, x[0].MT, x[1]), Input([1, 3], 1), Input([2, 3, 1], 2));
        Assert.Equal([1f, 20f, 3f, 40f], F.Where(Tensor.FromArray([1f, 0f], 2), Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2), Tensor.FromArray([10f, 20f, 30f, 40f], 2, 2)).ToArray());
        var e = Assert.Throws<ArgumentException>(() => F.Where(Tensor.Zeros(3), Tensor.Zeros(2, 3), Tensor.Zeros(4)));
        Assert.Contains("[3]", e.Message); Assert.Contains("[2, 3]", e.Message); Assert.Contains("[4]", e.Message);
    }
}
