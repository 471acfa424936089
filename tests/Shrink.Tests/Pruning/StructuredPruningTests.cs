using Shrink.Models;
using Shrink.Pruning;
using Shrink.Tensors;

namespace Shrink.Tests.Pruning;

public class StructuredPruningTests
{
    private static Tensor Images(ulong seed) => Tensor.Randn([3, 1, 8, 8], new Generator(seed));

    private static float[] Run(VisionTransformer vit, Tensor x)
    {
        vit.Eval();
        using var _ = Tensor.NoGrad();
        return vit.Forward(x).ToArray();
    }

    [Fact]
    public void RemovingZeroedHeadsAndNeuronsLeavesOutputsUnchangedAndShrinksParametersAndFlops()
    {
        var vit = PruningTestData.SmallVit(1);
        StructuredPruning.ZeroHead(vit, 0, 1);
        StructuredPruning.ZeroHead(vit, 0, 3);
        StructuredPruning.ZeroHead(vit, 1, 0);
        foreach (var j in new[] { 0, 5, 6, 31 }) StructuredPruning.ZeroNeuron(vit, 0, j);
        foreach (var j in Enumerable.Range(10, 12)) StructuredPruning.ZeroNeuron(vit, 1, j);
        var x = Images(2);
        var expected = Run(vit, x);

        Assert.Equal([[1, 3], [0]], StructuredPruning.DeadHeads(vit));
        var small = StructuredPruning.RemoveDead(vit);
        var actual = Run(small, x);

        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"logit {i}: {expected[i]} vs {actual[i]}");
        Assert.Equal([2, 3], small.Config.BlockNumHeads);
        Assert.Equal([28, 20], small.Config.BlockMlpHidden);
        Assert.Equal(2, small.Blocks[0].Attn.NumHeads);
        Assert.Equal(4, small.Blocks[0].Attn.HeadDim);
        Assert.Equal((8, 16), (small.Blocks[0].Attn.Proj.InFeatures, small.Blocks[0].Attn.Proj.OutFeatures));

        // Parameters: each removed head had 3·d_h·(D + 1) qkv entries and D·d_h proj entries; each neuron D + 1 + D.
        int d = 16, dh = 4;
        long removed = 3 * (3L * dh * (d + 1) + d * dh) + 16 * (2L * d + 1);
        Assert.Equal(vit.ParameterCount() - removed, small.ParameterCount());
        Assert.Equal(small.AnalyticParameterCount, small.ParameterCount());
        Assert.True(small.Flops() < vit.Flops());
        long t = 4 + 1;   // 4 patches + class token
        long removedMacs = 3 * (t * d * 3 * dh + 2 * t * t * dh + t * dh * d) + 16 * (2 * t * d);
        Assert.Equal(vit.Flops() - 2 * removedMacs, small.Flops());
    }

    [Fact]
    public void PruneRemovesTheLeastImportantUnitsAndEqualsTheModelWithThoseUnitsZeroed()
    {
        var vit = PruningTestData.SmallVit(3);
        var heads = StructuredPruning.HeadImportance(vit);
        var neurons = StructuredPruning.NeuronImportance(vit);
        var small = StructuredPruning.Prune(vit, headFraction: 0.5, neuronFraction: 0.25);
        Assert.Equal([2, 2], small.Config.BlockNumHeads);
        Assert.Equal([24, 24], small.Config.BlockMlpHidden);

        // Zero the same units in a copy: the shrunk model computes exactly what the zeroed one does.
        var zeroed = PruningTestData.SmallVit(3);
        for (int b = 0; b < 2; b++)
        {
            foreach (var h in Enumerable.Range(0, 4).OrderBy(h => heads[b][h]).ThenBy(h => h).Take(2)) StructuredPruning.ZeroHead(zeroed, b, h);
            foreach (var j in Enumerable.Range(0, 32).OrderBy(j => neurons[b][j]).ThenBy(j => j).Take(8)) StructuredPruning.ZeroNeuron(zeroed, b, j);
        }
        var x = Images(4);
        var expected = Run(zeroed, x);
        var actual = Run(small, x);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"logit {i}");
        Assert.NotEqual(Run(vit, x), actual);
        Assert.Equal(small.AnalyticParameterCount, small.ParameterCount());
    }

    [Fact]
    public void ShrinkRejectsEmptyOrUnsortedKeepLists()
    {
        var vit = PruningTestData.SmallVit(5);
        int[] all = [.. Enumerable.Range(0, 32)];
        Assert.Throws<ArgumentException>(() => StructuredPruning.Shrink(vit, [[], [0]], [all, all]));
        Assert.Throws<ArgumentException>(() => StructuredPruning.Shrink(vit, [[1, 0], [0]], [all, all]));
        Assert.Throws<ArgumentException>(() => StructuredPruning.Shrink(vit, [[0]], [all]));
    }
}
