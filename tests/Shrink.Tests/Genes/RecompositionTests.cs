using Shrink.Genes;
using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Tests.Genes;

/// <summary>LearngeneVit, unrolling ("w/o const") and recomposition ("w/ const") to other depths and learngene counts, and their costs.</summary>
public sealed class RecompositionTests
{
    /// <summary>A decomposed model with non-trivial learngenes, embeddings and head.</summary>
    private static LearngeneVit Source(int depth = 6, int k = 4, bool classToken = true, LearngeneBasis basis = LearngeneBasis.Chebyshev)
    {
        var model = new LearngeneVit(GenesTestUtil.Tiny(depth, classToken), k, basis, seed: 21);
        var g = new Generator(22);
        foreach (var (name, p) in model.Learngenes.NamedParameters())
        {
            var s = p.AsSpan();
            for (int i = 0; i < s.Length; i++) s[i] = (g.NextFloat() - 0.5f) * (name.Contains("norm") ? 1f : 0.4f) + (name.EndsWith("norm1.weight") || name.EndsWith("norm2.weight") ? 0.5f : 0f);
        }
        return model;
    }

    private static Tensor Run(Module<Tensor, Tensor> m, Tensor x)
    {
        m.Eval();
        using var _ = Tensor.NoGrad();
        return m.Forward(x);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UnrolledModelComputesTheSameFunctionAsTheConstrainedOne(bool classToken)
    {
        var source = new LearngeneVit(GenesTestUtil.Tiny(5, classToken), 3, seed: 3);   // as initialised
        var unrolled = source.Unroll();
        var x = GenesTestUtil.Images(4, 2);
        GenesTestUtil.Identical(Run(source, x), Run(unrolled, x), "logits, constrained vs unrolled at init");
        var trained = Source(classToken: classToken);
        GenesTestUtil.Identical(Run(trained, x), Run(trained.Unroll(), x), "logits, constrained vs unrolled (random learngenes)");
    }

    [Fact]
    public void UnrolledModelIsAnOrdinaryTimmVitWithEveryParameterTrainable()
    {
        var source = Source();
        var unrolled = Recomposition.Unrolled(source, 3, 2);
        var reference = new VisionTransformer(GenesTestUtil.Tiny(3));
        Assert.Equal(reference.StateDict().Keys, unrolled.StateDict().Keys);
        Assert.All(unrolled.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.Equal(reference.ParameterCount(), unrolled.ParameterCount());
        // blocks.{l−1} = Σ_{n ≤ 2} a(l, n; L' = 3)·A_n, e.g. layer 2 (x = 1/3): (1/3)·A₁ + (2/9 − 1)·A₂.
        var w = unrolled.GetParameter("blocks.1.attn.proj.weight").ToArray();
        var a1 = source.Learngenes[0].Attn.Proj.Weight.ToArray();
        var a2 = source.Learngenes[1].Attn.Proj.Weight.ToArray();
        for (int i = 0; i < w.Length; i++) Assert.Equal(a1[i] / 3.0 + (2.0 / 9 - 1) * a2[i], w[i], 5);
        // Copies, not views: training the unrolled model leaves the learngenes alone.
        unrolled.GetParameter("blocks.1.attn.proj.weight").Fill_(0f);
        unrolled.GetParameter("pos_embed").Fill_(0f);
        Assert.Equal(a1, source.Learngenes[0].Attn.Proj.Weight.ToArray());
        Assert.Contains(source.PosEmbed.ToArray(), v => v != 0);
    }

    [Fact]
    public void RecomposingToTheSameDepthWithAllLearngenesReproducesTheDecomposedModel()
    {
        var source = Source(depth: 6, k: 4);
        var x = GenesTestUtil.Images(3, 9);
        var expected = Run(source, x);
        var constrained = Recomposition.Constrained(source, 6, 4);
        GenesTestUtil.Identical(expected, Run(constrained, x), "w/ const, L' = L, k = N");
        GenesTestUtil.Identical(expected, Run(Recomposition.Unrolled(source, 6, 4), x), "w/o const, L' = L, k = N");
        foreach (var (name, t) in source.StateDict()) GenesTestUtil.Identical(t, constrained.StateDict()[name], name);
        // Independent copies.
        constrained.Learngenes[0].Norm1.Weight!.Fill_(0f);
        Assert.Contains(source.Learngenes[0].Norm1.Weight!.ToArray(), v => v != 0);
    }

    [Fact]
    public void BothModesAgreeAtEveryDepthAndLearngeneCount()
    {
        var source = Source(depth: 4, k: 4, basis: LearngeneBasis.Legendre);
        var x = GenesTestUtil.Images(2, 5);
        for (int depth = 1; depth <= 5; depth++)
            for (int k = 1; k <= 4; k++)
            {
                var constrained = Recomposition.Constrained(source, depth, k);
                var unrolled = Recomposition.Unrolled(source, depth, k);
                Assert.Equal(depth, constrained.Depth);
                Assert.Equal(k, constrained.Count);
                Assert.Equal(LearngeneBasis.Legendre, constrained.Learngenes.Basis);
                Assert.Equal(depth, unrolled.Blocks.Count);
                GenesTestUtil.Identical(Run(constrained, x), Run(unrolled, x), $"L' = {depth}, k = {k}");
            }
    }

    [Fact]
    public void NewHeadForADifferentClassCountIsTheSameInBothModes()
    {
        var source = Source();
        var constrained = Recomposition.Constrained(source, 3, 2, numClasses: 5, headSeed: 4);
        var unrolled = Recomposition.Unrolled(source, 3, 2, numClasses: 5, headSeed: 4);
        Assert.Equal([5, 8], constrained.Head.Weight.Shape);
        GenesTestUtil.Identical(constrained.Head.Weight, unrolled.Head.Weight, "new head");
        Assert.All(constrained.Head.Bias!.ToArray(), v => Assert.Equal(0f, v));
        var x = GenesTestUtil.Images(2, 3);
        GenesTestUtil.Identical(Run(constrained, x), Run(unrolled, x), "5-class recompositions");
        Assert.Equal([2, 5], Run(constrained, x).Shape);
        var sameClasses = Recomposition.Constrained(source, 3, 2, numClasses: 3, headSeed: 4);
        GenesTestUtil.Identical(source.Head.Weight, sameClasses.Head.Weight, "kept head");
    }

    [Fact]
    public void CostsMatchTheBuiltModels()
    {
        var source = Source(depth: 6, k: 4);
        foreach (int depth in new[] { 1, 3, 6, 9 })
            foreach (int k in new[] { 1, 4 })
            {
                var u = Recomposition.Cost(source.Config, depth, k, RecompositionMode.Unrolled);
                var c = Recomposition.Cost(source.Config, depth, k, RecompositionMode.Constrained);
                var unrolled = (VisionTransformer)Recomposition.Build(source, depth, k, RecompositionMode.Unrolled);
                var constrained = (LearngeneVit)Recomposition.Build(source, depth, k, RecompositionMode.Constrained);
                Assert.Equal(unrolled.ParameterCount(), u.Parameters);
                Assert.Equal(unrolled.AnalyticParameterCount, u.Parameters);
                Assert.Equal(unrolled.Flops(), u.Flops);
                Assert.Equal(0, u.GenerationFlops);
                Assert.Equal(constrained.ParameterCount(), c.Parameters);
                Assert.Equal(constrained.AnalyticParameterCount, c.Parameters);
                Assert.Equal(unrolled.Flops(), c.Flops);                     // FLOPs depend on L' only
                Assert.Equal(constrained.Flops(), c.Flops);
                Assert.Equal(constrained.GenerationFlops, c.GenerationFlops);
                Assert.Equal("w/o const", u.ModeLabel);
                Assert.Equal("w/ const", c.ModeLabel);
            }
        Assert.Equal(new VisionTransformer(GenesTestUtil.Tiny(6)).Flops(7), source.Flops(7));
        var grid = Recomposition.CostGrid(source.Config, [2, 4], [1, 2, 3]);
        Assert.Equal(12, grid.Count);
        Assert.Equal((4, 3, RecompositionMode.Constrained), (grid[^1].Depth, grid[^1].Learngenes, grid[^1].Mode));
    }

    [Fact]
    public void BadRequestsSayWhatIsWrong()
    {
        var source = Source(k: 2);
        Assert.Contains("k must be in 1 … 2", Assert.Throws<ArgumentOutOfRangeException>(() => Recomposition.Unrolled(source, 3, 3)).Message);
        Assert.Contains("depth L' must be ≥ 1", Assert.Throws<ArgumentOutOfRangeException>(() => Recomposition.Constrained(source, 0, 1)).Message);
        Assert.Contains("numClasses", Assert.Throws<ArgumentOutOfRangeException>(() => Recomposition.Constrained(source, 2, 1, numClasses: 0)).Message);
        var tiny = GenesTestUtil.Tiny(3);
        Assert.Contains("distillation tokens are not supported", Assert.Throws<ArgumentException>(() => new LearngeneVit(tiny with { DistillationToken = true }, 1)).Message);
        Assert.Contains("DropPathRate 0.1", Assert.Throws<ArgumentException>(() => new LearngeneVit(tiny with { DropPathRate = 0.1f }, 1)).Message);
        Assert.Contains("at least one learngene", Assert.Throws<ArgumentException>(() => new LearngeneVit(tiny, 0)).Message);
    }

    [Fact]
    public void StateDictNamesAreTimmOutsideTheLearngenes()
    {
        var model = new LearngeneVit(GenesTestUtil.Tiny(4), 2);
        var keys = model.StateDict().Keys.ToArray();
        Assert.Equal(["cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"], keys[..4]);   // own parameters first, as VisionTransformer
        Assert.Equal(["norm.weight", "norm.bias", "head.weight", "head.bias"], keys[^4..]);
        Assert.Contains("learngenes.1.attn.qkv.weight", keys);
        Assert.Equal(2 * 12, keys.Count(k => k.StartsWith("learngenes.")));
        Assert.Equal(model.AnalyticParameterCount, model.ParameterCount());
        var features = model.ForwardFeatures(GenesTestUtil.Images(2, 1), returnBlockOutputs: true, returnAttentions: true);
        Assert.Equal(4, features.BlockOutputs.Count);
        Assert.Equal([2, 2, 5, 5], features.Attentions[0].Shape);
    }
}
