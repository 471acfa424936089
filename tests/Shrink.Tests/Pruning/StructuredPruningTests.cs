using Shrink.Models;
using Shrink.Pruning;
using Shrink.Torch;
using static Shrink.Tests.Pruning.PruningTestData;
using static TorchSharp.torch;

namespace Shrink.Tests.Pruning;

public class StructuredPruningTests
{
    private static Tensor Images(ulong seed) => Randn(seed, 3, 1, 8, 8);

    private static float[] Run(VisionTransformer vit, Tensor x)
    {
        vit.eval();
        using var _ = no_grad();
        return Values(vit.forward(x));
    }

    [Fact]
    public void RemovingZeroedHeadsAndNeuronsLeavesOutputsUnchangedAndShrinksParametersAndFlops()
    {
        var vit = SmallVit(1);
        StructuredPruning.ZeroHead(vit, 0, 1);
        StructuredPruning.ZeroHead(vit, 0, 3);
        StructuredPruning.ZeroHead(vit, 1, 0);
        foreach (var j in new[] { 0, 5, 6, 31 }) StructuredPruning.ZeroNeuron(vit, 0, j);
        foreach (var j in Enumerable.Range(10, 12)) StructuredPruning.ZeroNeuron(vit, 1, j);
        var x = Images(2);
        var expected = Run(vit, x);

        Assert.Equal([[1, 3], [0]], StructuredPruning.DeadHeads(vit));
        Assert.Equal([[0, 5, 6, 31], Enumerable.Range(10, 12).ToArray()], StructuredPruning.DeadNeurons(vit));
        var small = StructuredPruning.RemoveDead(vit);
        var actual = Run(small, x);

        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"logit {i}: {expected[i]} vs {actual[i]}");
        Assert.Equal([2, 3], small.Config.BlockNumHeads);
        Assert.Equal([28, 20], small.Config.BlockMlpHidden);
        Assert.Equal(2, small.Blocks[0].Attn.NumHeads);
        Assert.Equal(4, small.Blocks[0].Attn.HeadDim);
        Assert.Equal(new long[] { 16, 8 }, small.Blocks[0].Attn.Proj.weight!.shape);
        Assert.Equal(new long[] { 3 * 8, 16 }, small.Blocks[0].Attn.Qkv.weight!.shape);

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
        var vit = SmallVit(3);
        var heads = StructuredPruning.HeadImportance(vit);
        var neurons = StructuredPruning.NeuronImportance(vit);
        // Importance is the L1 norm of what the unit owns.
        var qkv = Values(vit, "blocks.0.attn.qkv.weight"); var qkvB = Values(vit, "blocks.0.attn.qkv.bias"); var proj = Values(vit, "blocks.0.attn.proj.weight");
        double h1 = 0;
        for (int part = 0; part < 3; part++)
            for (int r = part * 16 + 4; r < part * 16 + 8; r++) { h1 += Math.Abs(qkvB[r]); for (int c = 0; c < 16; c++) h1 += Math.Abs(qkv[r * 16 + c]); }
        for (int o = 0; o < 16; o++) for (int c = 4; c < 8; c++) h1 += Math.Abs(proj[o * 16 + c]);
        Assert.Equal(h1, heads[0][1], 4);

        var small = StructuredPruning.Prune(vit, headFraction: 0.5, neuronFraction: 0.25);
        Assert.Equal([2, 2], small.Config.BlockNumHeads);
        Assert.Equal([24, 24], small.Config.BlockMlpHidden);

        // Zero the same units in a copy: the shrunk model computes exactly what the zeroed one does.
        var zeroed = SmallVit(3);
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
    public void ShrinkDropsMasksAndKeepsTheModeAndAttentionSetting()
    {
        var vit = SmallVit(4);
        MagnitudePruner.Prune(vit, new PruningHparams { Fraction = 0.3 });
        vit.FusedAttention = false;
        vit.train();
        var small = StructuredPruning.Shrink(vit, [[0, 2], [1, 2, 3]], [[.. Enumerable.Range(0, 32)], [0, 1]]);
        Assert.DoesNotContain(small.state_dict().Keys, k => k.EndsWith(PruningMask.Suffix));
        Assert.True(small.training);
        Assert.False(small.FusedAttention);
        Assert.Equal(Values(vit, "blocks.1.mlp.fc2.weight").Where((_, i) => i % 32 < 2), Values(small, "blocks.1.mlp.fc2.weight"));
    }

    [Fact]
    public void ShrinkRejectsEmptyOrUnsortedKeepLists()
    {
        var vit = SmallVit(5);
        int[] all = [.. Enumerable.Range(0, 32)];
        Assert.Throws<ArgumentException>(() => StructuredPruning.Shrink(vit, [[], [0]], [all, all]));
        Assert.Throws<ArgumentException>(() => StructuredPruning.Shrink(vit, [[1, 0], [0]], [all, all]));
        Assert.Throws<ArgumentException>(() => StructuredPruning.Shrink(vit, [[0]], [all]));
        Assert.Throws<ArgumentException>(() => StructuredPruning.ZeroHead(vit, 0, 4));
    }
}
