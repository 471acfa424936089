using Shrink.Genes;
using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static Shrink.Tests.Genes.GenesTestUtil;
using static TorchSharp.torch;

namespace Shrink.Tests.Genes;

/// <summary>LearngeneVit, unrolling ("w/o const") and recomposition ("w/ const") to other depths and learngene counts, and their costs.</summary>
public sealed class RecompositionTests
{
    public RecompositionTests() => TorchNative.EnsureLoaded();

    /// <summary>A decomposed model with non-trivial learngenes, embeddings and head.</summary>
    private static LearngeneVit Source(int depth = 6, int k = 4, bool classToken = true, LearngeneBasis basis = LearngeneBasis.Chebyshev)
    {
        var model = new LearngeneVit(Tiny(depth, classToken), k, basis, seed: 21);
        Randomize(model.Learngenes, 22, scale: 0.4f, gain: 0.5f);
        return model;
    }

    private static Tensor Run(nn.Module<Tensor, Tensor> m, Tensor x)
    {
        m.eval();
        using var _ = no_grad();
        return m.forward(x);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UnrolledModelComputesTheSameFunctionAsTheConstrainedOne(bool classToken)
    {
        var source = new LearngeneVit(Tiny(5, classToken), 3, seed: 3);   // as initialised
        var unrolled = source.Unroll();
        var x = Images(4, 2);
        Identical(Run(source, x), Run(unrolled, x), "logits, constrained vs unrolled at init");
        var trained = Source(classToken: classToken);
        Identical(Run(trained, x), Run(trained.Unroll(), x), "logits, constrained vs unrolled (random learngenes)");
    }

    [Fact]
    public void UnrolledModelIsAnOrdinaryTimmVitWithEveryParameterTrainable()
    {
        var source = Source();
        var unrolled = Recomposition.Unrolled(source, 3, 2);
        var reference = new VisionTransformer(Tiny(3));
        Assert.Equal(reference.state_dict().Keys, unrolled.state_dict().Keys);
        Assert.All(unrolled.parameters(), p => Assert.True(p.requires_grad));
        Assert.Equal(reference.ParameterCount(), unrolled.ParameterCount());
        // blocks.{l−1} = Σ_{n ≤ 2} a(l, n; L' = 3)·A_n, e.g. layer 2 (x = 1/3): (1/3)·A₁ + (2/9 − 1)·A₂.
        var w = Values(Param(unrolled, "blocks.1.attn.proj.weight"));
        var a1 = Values(source.Learngenes[0].Attn.Proj.weight!);
        var a2 = Values(source.Learngenes[1].Attn.Proj.weight!);
        for (int i = 0; i < w.Length; i++) Assert.Equal(a1[i] / 3.0 + (2.0 / 9 - 1) * a2[i], w[i], 5);
        // Copies, not views: training the unrolled model leaves the learngenes alone.
        using (no_grad())
        {
            Param(unrolled, "blocks.1.attn.proj.weight").fill_(0f);
            Param(unrolled, "pos_embed").fill_(0f);
        }
        Assert.Equal(a1, Values(source.Learngenes[0].Attn.Proj.weight!));
        Assert.Contains(Values(source.PosEmbed), v => v != 0);
    }

    [Fact]
    public void RecomposingToTheSameDepthWithAllLearngenesReproducesTheDecomposedModel()
    {
        var source = Source(depth: 6, k: 4);
        var x = Images(3, 9);
        var expected = Run(source, x);
        var constrained = Recomposition.Constrained(source, 6, 4);
        Identical(expected, Run(constrained, x), "w/ const, L' = L, k = N");
        Identical(expected, Run(Recomposition.Unrolled(source, 6, 4), x), "w/o const, L' = L, k = N");
        foreach (var (name, t) in source.state_dict()) Identical(t, constrained.state_dict()[name], name);
        // Independent copies.
        using (no_grad()) constrained.Learngenes[0].Norm1.weight!.fill_(0f);
        Assert.Contains(Values(source.Learngenes[0].Norm1.weight!), v => v != 0);
    }

    [Fact]
    public void BothModesAgreeAtEveryDepthAndLearngeneCount()
    {
        var source = Source(depth: 4, k: 4, basis: LearngeneBasis.Legendre);
        var x = Images(2, 5);
        for (int depth = 1; depth <= 5; depth++)
            for (int k = 1; k <= 4; k++)
            {
                var constrained = Recomposition.Constrained(source, depth, k);
                var unrolled = Recomposition.Unrolled(source, depth, k);
                Assert.Equal(depth, constrained.Depth);
                Assert.Equal(k, constrained.Count);
                Assert.Equal(LearngeneBasis.Legendre, constrained.Learngenes.Basis);
                Assert.Equal(depth, unrolled.Blocks.Count);
                Identical(Run(constrained, x), Run(unrolled, x), $"L' = {depth}, k = {k}");
            }
    }

    [Fact]
    public void NewHeadForADifferentClassCountIsTheSameInBothModes()
    {
        var source = Source();
        var constrained = Recomposition.Constrained(source, 3, 2, numClasses: 5, headSeed: 4);
        var unrolled = Recomposition.Unrolled(source, 3, 2, numClasses: 5, headSeed: 4);
        Assert.Equal([5L, 8L], constrained.Head.weight!.shape);
        Identical(constrained.Head.weight!, unrolled.Head.weight!, "new head");
        Assert.All(Values(constrained.Head.bias!), v => Assert.Equal(0f, v));
        var x = Images(2, 3);
        Identical(Run(constrained, x), Run(unrolled, x), "5-class recompositions");
        Assert.Equal([2L, 5L], Run(constrained, x).shape);
        var sameClasses = Recomposition.Constrained(source, 3, 2, numClasses: 3, headSeed: 4);
        Identical(source.Head.weight!, sameClasses.Head.weight!, "kept head");
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
        Assert.Equal(new VisionTransformer(Tiny(6)).Flops(7), source.Flops(7));
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
        var tiny = Tiny(3);
        Assert.Contains("distillation tokens are not supported", Assert.Throws<ArgumentException>(() => new LearngeneVit(tiny with { DistillationToken = true }, 1)).Message);
        Assert.Contains("DropPathRate 0.1", Assert.Throws<ArgumentException>(() => new LearngeneVit(tiny with { DropPathRate = 0.1f }, 1)).Message);
        Assert.Contains("at least one learngene", Assert.Throws<ArgumentException>(() => new LearngeneVit(tiny, 0)).Message);
    }

    [Fact]
    public void StateDictNamesAreTimmOutsideTheLearngenes()
    {
        var model = new LearngeneVit(Tiny(4), 2);
        var keys = model.state_dict().Keys.ToArray();
        Assert.Equal(["cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias"], keys[..4]);   // own parameters first, as VisionTransformer
        Assert.Equal(["norm.weight", "norm.bias", "head.weight", "head.bias"], keys[^4..]);
        Assert.Contains("learngenes.1.attn.qkv.weight", keys);
        Assert.Equal(2 * 12, keys.Count(k => k.StartsWith("learngenes.", StringComparison.Ordinal)));
        Assert.Equal(model.AnalyticParameterCount, model.ParameterCount());
        var pooled = new LearngeneVit(Tiny(4, classToken: false), 1);
        Assert.DoesNotContain("cls_token", pooled.state_dict().Keys);
        Assert.Equal(pooled.AnalyticParameterCount, pooled.ParameterCount());
    }

    [Fact]
    public void ForwardIntermediatesFollowsTheVisionTransformerContract()
    {
        var model = Source(depth: 4, k: 2);
        model.eval();
        var x = Images(2, 1);
        using var _ = no_grad();
        var all = model.ForwardIntermediates(x, Intermediates.BlockOutputs | Intermediates.Attentions | Intermediates.Qkv);
        Assert.Equal(4, all.BlockOutputs.Count);
        Assert.Equal(4, all.Attentions.Count);
        Assert.Equal(4, all.Qkv.Count);
        Assert.Equal([2L, 2L, 5L, 5L], all.Attentions[0].shape);
        Assert.Equal([2L, 5L, 24L], all.Qkv[0].shape);
        Assert.Equal([2L, 5L, 8L], all.BlockOutputs[3].shape);
        Assert.Empty(all.DistillationHeads);
        Assert.Same(all.Logits, all.Prediction);
        // Rows of attention sum to 1; asking for maps (explicit softmax) agrees with the fused kernel.
        Assert.All(Values(all.Attentions[2].sum(-1)), v => Assert.Equal(1f, v, 5));
        var plain = model.ForwardIntermediates(x);
        Assert.Empty(plain.BlockOutputs); Assert.Empty(plain.Attentions); Assert.Empty(plain.Qkv);
        Assert.True(allclose(plain.Logits, all.Logits, rtol: 1e-5, atol: 1e-6));
        // indices pick blocks; entry i belongs to indices[i].
        var outputs = model.ForwardIntermediates(x, Intermediates.BlockOutputs);
        var picked = model.ForwardIntermediates(x, Intermediates.BlockOutputs, [3, 1]);
        Assert.Equal(2, picked.BlockOutputs.Count);
        Identical(outputs.BlockOutputs[3], picked.BlockOutputs[0], "block 3 output");
        Identical(outputs.BlockOutputs[1], picked.BlockOutputs[1], "block 1 output");
        var maps = model.ForwardIntermediates(x, Intermediates.Attentions, [3, 1]).Attentions;
        Assert.True(allclose(all.Attentions[3], maps[0], rtol: 1e-5, atol: 1e-6));
        Assert.True(allclose(all.Attentions[1], maps[1], rtol: 1e-5, atol: 1e-6));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ForwardIntermediates(x, Intermediates.BlockOutputs, [4]));
        // The same intermediates as the unrolled VisionTransformer.
        var vit = model.Unroll();
        vit.eval();
        var reference = vit.ForwardIntermediates(x, Intermediates.BlockOutputs | Intermediates.Qkv, [2]);
        Identical(reference.BlockOutputs[0], model.ForwardIntermediates(x, Intermediates.BlockOutputs, [2]).BlockOutputs[0], "block 2 vs unrolled");
        Identical(reference.Qkv[0], model.ForwardIntermediates(x, Intermediates.Qkv, [2]).Qkv[0], "qkv 2 vs unrolled");
        // Explicit attention (for double backward) computes the same function.
        model.FusedAttention = false;
        Assert.True(allclose(plain.Logits, model.forward(x), rtol: 1e-5, atol: 1e-6));
        Assert.False(Recomposition.Constrained(model, 2, 1).FusedAttention);
        Assert.False(Recomposition.Unrolled(model, 2, 1).FusedAttention);
    }

    [Fact]
    public void ModelsMoveWithToAndKeepComputing()
    {
        // Device-agnostic code path, exercised with a dtype move on this CPU-only machine: everything follows .to().
        var model = Source(depth: 3, k: 2);
        var x = Images(2, 6);
        var expected = Doubles(Run(model, x));
        model.to(ScalarType.Float64);
        var wide = Run(model, x.to(ScalarType.Float64));
        Assert.Equal(ScalarType.Float64, wide.dtype);
        var got = Doubles(wide);
        for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], 4);
        var constrained = Recomposition.Constrained(model, 2, 2);
        Assert.All(constrained.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        var unrolled = Recomposition.Unrolled(model, 2, 2);
        Assert.All(unrolled.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        Assert.Equal(Doubles(Run(constrained, x.to(ScalarType.Float64))), Doubles(Run(unrolled, x.to(ScalarType.Float64))));
        model.Learngenes.AddLearngene();
        Assert.All(model.Learngenes[2].parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
    }
}
