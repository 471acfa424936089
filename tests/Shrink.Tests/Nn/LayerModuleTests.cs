using Shrink.Tensors;
using Shrink.Tensors.Nn;
using F = Shrink.Tensors.Functional;

namespace Shrink.Tests.Nn;

/// <summary>The thin modules over Functional ops: names, defaults, and that Forward is the functional op.</summary>
public class LayerModuleTests
{
    [Fact]
    public void LayerNormModule()
    {
        var ln = new LayerNorm(8, eps: 1e-6f);
        Assert.Equal(["weight", "bias"], ln.StateDict().Keys);
        var x = Tensor.Randn([2, 3, 8], new Generator(1));
        Assert.Equal(F.LayerNorm(x, [8], ln.Weight, ln.Bias, 1e-6f).ToArray(), ln.Forward(x).ToArray());
        Assert.Empty(new LayerNorm(8, elementwiseAffine: false).StateDict());
    }

    [Fact]
    public void DropoutModuleIsIdentityInEval()
    {
        var d = new Dropout(0.5f, new Generator(3));
        var x = Tensor.Ones(1000);
        var train = d.Forward(x).ToArray();
        Assert.Contains(0f, train);
        Assert.Contains(2f, train);
        d.Eval();
        Assert.Same(x, d.Forward(x));
    }

    [Fact]
    public void Conv2dModuleNamesInitAndForward()
    {
        var conv = new Conv2d(3, 8, 3, padding: 1, groups: 1, generator: new Generator(2));
        Assert.Equal(["weight", "bias"], conv.StateDict().Keys);
        Assert.Equal([8, 3, 3, 3], conv.Weight.Shape);
        float bound = 1f / MathF.Sqrt(27);   // Kaiming-uniform a = √5 ⇒ U(−1/√fan_in, 1/√fan_in)
        Assert.All(conv.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        var x = Tensor.Randn([2, 3, 5, 5], new Generator(4));
        Assert.Equal(F.Conv2d(x, conv.Weight, conv.Bias, 1, 1).ToArray(), conv.Forward(x).ToArray());
        Assert.Throws<ArgumentException>(() => new Conv2d(3, 8, 3, groups: 2));
    }

    [Fact]
    public void BatchNorm2dTracksRunningStatisticsInTraining()
    {
        var bn = new BatchNorm2d(4);
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], bn.StateDict().Keys);
        var x = Tensor.Randn([8, 4, 3, 3], new Generator(5)) * 2f + 1f;
        bn.Forward(x);
        Assert.Equal(1f, bn.NumBatchesTracked.Item());
        var mean = x.Mean([0, 2, 3]).ToArray();
        var rm = bn.RunningMean.ToArray();
        for (int c = 0; c < 4; c++) Assert.Equal(0.1f * mean[c], rm[c], 5);
        bn.Eval();
        var before = bn.RunningMean.ToArray();
        bn.Forward(x);
        Assert.Equal(before, bn.RunningMean.ToArray());
        Assert.Equal(1f, bn.NumBatchesTracked.Item());
        Assert.Throws<ArgumentException>(() => bn.Forward(Tensor.Zeros(2, 3, 4, 4)));
    }
}
