using Shrink.Tensors;

namespace Shrink.Tests.Engine;

public class TensorTests
{
    [Fact]
    public void CreationAndViews()
    {
        var t = Tensor.Arange(12).Reshape(3, 4);
        Assert.Equal([3, 4], t.Shape);
        Assert.True(t.IsView);
        Assert.Equal(6f, t[1, 2]);
        var s = t.Slice(1, 2);
        Assert.True(s.IsContiguous);
        Assert.Equal([4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f], s.ToArray());
        var tr = t.MT;
        Assert.False(tr.IsContiguous);
        Assert.Equal(new float[] { 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11 }, tr.ToArray());
        Assert.Equal(tr.ToArray(), tr.Contiguous().ToArray());
    }

    [Fact]
    public void SameSeedSameBits()
    {
        var a = Tensor.Randn([100], new Generator(7)).ToArray();
        var b = Tensor.Randn([100], new Generator(7)).ToArray();
        var c = Tensor.Randn([100], new Generator(8)).ToArray();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var u = Tensor.Rand([10000], new Generator(1)).ToArray();
        Assert.All(u, v => Assert.InRange(v, 0f, 0.99999994f));
        Assert.InRange(u.Average(), 0.48, 0.52);
    }

    [Fact]
    public void ShapeMismatchNamesBothShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3) + Tensor.Zeros(4, 3));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4, 3]", e.Message);
        var m = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).MatMul(Tensor.Zeros(4, 3)));
        Assert.Contains("[2, 3]", m.Message);
        Assert.Contains("[4, 3]", m.Message);
    }

    [Fact]
    public void ToStringShowsShapeAndPreview()
    {
        var s = Tensor.Arange(6).Reshape(2, 3).ToString();
        Assert.Equal("Tensor[2, 3] [[0, 1, 2], [3, 4, 5]]", s);
        Assert.Contains("...", Tensor.Arange(100).ToString());
    }

    [Fact]
    public void GradientsAccumulateAndNoGradStopsRecording()
    {
        var x = Tensor.FromArray([1f, 2f, 3f], 3).RequiresGrad_();
        (x * x).Sum().Backward();
        (x * x).Sum().Backward();
        Assert.Equal([4f, 8f, 12f], x.Grad!.ToArray());
        using (Tensor.NoGrad()) Assert.False((x * 2f).RequiresGrad);
        var d = x.Detach();
        Assert.False(d.RequiresGrad);
    }

    [Fact]
    public void SecondBackwardThroughFreedGraphThrows()
    {
        var x = Tensor.FromArray([1f, 2f], 2).RequiresGrad_();
        var y = (x.Exp() * 2f).Sum();
        y.Backward();
        Assert.Throws<InvalidOperationException>(() => y.Backward());
        var z = (x.Exp() * 2f).Sum();
        z.Backward(retainGraph: true);
        z.Backward();
    }

    [Fact]
    public void RetainGradKeepsIntermediateGradient()
    {
        var x = Tensor.FromArray([1f, 2f], 2).RequiresGrad_();
        var h = (x * 3f).RetainGrad();
        (h * h).Sum().Backward();
        Assert.Equal([6f, 12f], h.Grad!.ToArray());
    }

    [Fact]
    public void ScopeReturnsBuffersAndGuardsReleasedTensors()
    {
        Tensor kept, dropped;
        var w = Tensor.Ones(64, 64).RequiresGrad_();
        using (var scope = TensorScope.Begin())
        {
            var y = (w.MatMul(w) * 2f).Sum();
            y.Backward();
            kept = (w * 3f).MoveToOuterScope();
            dropped = w * 4f;
        }
        Assert.Equal(3f, kept[0, 0]);
        Assert.NotNull(w.Grad);
        Assert.Throws<ObjectDisposedException>(() => dropped.ToArray());
        Assert.True(BufferPool.PooledFloats > 0);
    }
}
