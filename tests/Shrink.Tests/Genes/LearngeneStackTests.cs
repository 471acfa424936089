using Shrink.Genes;
using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static Shrink.Tests.Genes.GenesTestUtil;
using static TorchSharp.torch;

namespace Shrink.Tests.Genes;

/// <summary>The stack generates W_l = Σ_n a(l, n)·A_n for every block tensor, differentiably, and freezes and grows as incremental training needs.</summary>
public sealed class LearngeneStackTests
{
    public LearngeneStackTests() => TorchNative.EnsureLoaded();

    [Fact]
    public void GeneratedWeightIsT3AtOneTwelfthTimesTheThirdLearngene()
    {
        // A₁ = A₂ = 0, A₃ = 1 everywhere: every element of W₂ (L = 12) is a(2, 3) = T₃(1/12) = 4x³ − 3x.
        var stack = new LearngeneStack(Tiny(12), 3);
        using (no_grad())
            foreach (var (name, p) in stack.named_parameters()) p.fill_(name.StartsWith("2.", StringComparison.Ordinal) ? 1f : 0f);
        double x = 1.0 / 12;
        float t3 = (float)(4 * x * x * x - 3 * x);
        var w2 = stack.Generate(12)[1];
        foreach (var (name, t) in w2.Named())
            Assert.All(Values(t), v => Assert.Equal(t3, v));
        Assert.Equal(12, w2.Named().Count());
    }

    [Theory]
    [InlineData(LearngeneBasis.Chebyshev, LearngeneIndexing.Paper)]
    [InlineData(LearngeneBasis.Chebyshev, LearngeneIndexing.Tleg)]
    [InlineData(LearngeneBasis.Taylor, LearngeneIndexing.Paper)]
    [InlineData(LearngeneBasis.Legendre, LearngeneIndexing.Paper)]
    [InlineData(LearngeneBasis.Fourier, LearngeneIndexing.Tleg)]
    public void GenerateReproducesTheLinearCombinationForEveryTensor(LearngeneBasis basis, LearngeneIndexing indexing)
    {
        const int depth = 5, k = 4;
        var stack = new LearngeneStack(Tiny(depth), k, basis, indexing);
        Randomize(stack, 7);
        var layers = stack.Generate(depth);
        Assert.Equal(depth, layers.Count);
        for (int l = 1; l <= depth; l++)
            foreach (var (name, w) in layers[l - 1].Named())
            {
                var expected = new double[w.numel()];
                for (int n = 1; n <= k; n++)
                {
                    double a = LearngeneCoefficients.Coefficient(basis, indexing, l, n, depth);
                    var an = Values(Param(stack[n - 1], name));
                    for (int i = 0; i < an.Length; i++) expected[i] += a * an[i];
                }
                Assert.Equal(Param(stack[0], name).shape, w.shape);
                var actual = Values(w);
                for (int i = 0; i < actual.Length; i++)
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"W_{l} {name}[{i}] = {actual[i]}, expected {expected[i]}.");
            }
    }

    [Fact]
    public void FirstKLearngenesAndOtherDepthsUseTheirOwnCoefficients()
    {
        var stack = new LearngeneStack(Tiny(6), 4);
        Randomize(stack, 3);
        var w = Values(stack.Generate(3, count: 2)[2].Fc1Weight);   // layer 3 of 3: x = 2/3
        var a1 = Values(stack[0].Mlp.Fc1.weight!);
        var a2 = Values(stack[1].Mlp.Fc1.weight!);
        double x = 2.0 / 3;
        for (int i = 0; i < w.Length; i++) Assert.Equal(x * a1[i] + (2 * x * x - 1) * a2[i], w[i], 5);
        Assert.Contains("k must be in 1 … 4", Assert.Throws<ArgumentOutOfRangeException>(() => stack.Generate(3, 5)).Message);
        Assert.Contains("depth L must be ≥ 1", Assert.Throws<ArgumentOutOfRangeException>(() => stack.Generate(0)).Message);
    }

    [Fact]
    public void GradientsThroughTheStackPassAGradientCheck()
    {
        // The generated weights as one vector: ∂/∂A_n = Σ_l a(l, n)·∂/∂W_l, checked in float64 (coefficients follow the dtype).
        var stack = new LearngeneStack(Tiny(3), 3, LearngeneBasis.Chebyshev, LearngeneIndexing.Tleg);
        Randomize(stack, 11);
        stack.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, stack.Coefficients(3).dtype);
        var inputs = stack.parameters().ToArray<Tensor>();
        GradCheck("LearngeneStack.Generate", () =>
            cat(stack.Generate(3).SelectMany(b => b.Named().Select(t => t.Tensor.reshape(-1))).ToArray(), 0), inputs);
    }

    [Fact]
    public void GradientsThroughAWholeLearngeneVitPassAGradientCheck()
    {
        var model = new LearngeneVit(Tiny(3), 2, seed: 5);
        Randomize(model.Learngenes, 12, scale: 0.4f, gain: 0.5f);
        model.to(ScalarType.Float64);
        var images = Images(2, 4).to(ScalarType.Float64);
        model.Freeze(n => !n.StartsWith("learngenes.", StringComparison.Ordinal));   // check the learngenes; the rest is ordinary ViT code
        var inputs = model.Learngenes.parameters().ToArray<Tensor>();
        GradCheck("LearngeneVit w.r.t. learngenes", () => model.forward(images), inputs);
        model.FusedAttention = false;   // the explicit softmax path too
        GradCheck("LearngeneVit (explicit attention) w.r.t. learngenes", () => model.forward(images), inputs);
    }

    [Fact]
    public void FrozenLearngenesReceiveNoGradient()
    {
        var model = new LearngeneVit(Tiny(4), 3, seed: 1);
        Randomize(model.Learngenes, 2);
        model.Learngenes.FreezeFirst(2);
        model.forward(Images(2, 1)).sum().backward();
        foreach (var p in model.Learngenes[0].parameters().Concat(model.Learngenes[1].parameters()))
        {
            Assert.False(p.requires_grad);
            Assert.True(p.grad is null);
        }
        Assert.All(model.Learngenes[2].parameters(), p => Assert.True(p.grad is not null && Values(p.grad).Any(v => v != 0)));
        model.Learngenes.FreezeFirst(0);
        Assert.All(model.Learngenes.parameters(), p => Assert.True(p.requires_grad));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Learngenes.FreezeFirst(4));
    }

    [Fact]
    public void InitialisationFollowsTheDocumentedRules()
    {
        var config = Tiny(4);
        var small = new LearngeneStack(config, 2, init: LearngeneInit.SmallRandom, seed: 9);
        var zeros = new LearngeneStack(config, 2, init: LearngeneInit.Zeros, seed: 9);
        var blockLike = new LearngeneStack(config, 2, init: LearngeneInit.BlockLike, seed: 9);
        foreach (var s in new[] { small, zeros, blockLike })
        {
            // A₁: a fresh timm block (γ = 1, β = 0, zero biases, weights ~ N(0, 0.02²)), whatever the rule.
            Assert.All(Values(s[0].Norm1.weight!), v => Assert.Equal(1f, v));
            Assert.All(Values(s[0].Norm2.bias!), v => Assert.Equal(0f, v));
            Assert.All(Values(s[0].Attn.Qkv.bias!), v => Assert.Equal(0f, v));
            var w = Values(s[0].Mlp.Fc1.weight!);
            double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
            Assert.InRange(std, 0.012, 0.03);
        }
        Assert.All(Values(small[1].Norm1.weight!), v => Assert.Equal(0f, v));
        Assert.All(Values(small[1].Norm2.bias!), v => Assert.Equal(0f, v));
        Assert.Contains(Values(small[1].Attn.Proj.weight!), v => v != 0);
        Assert.All(zeros[1].parameters().SelectMany(Values), v => Assert.Equal(0f, v));
        Assert.All(Values(blockLike[1].Norm1.weight!), v => Assert.Equal(1f, v));
        // The same (seed, n) gives the same start in every stack; A₂ differs from A₁.
        Identical(small[0].Mlp.Fc2.weight!, zeros[0].Mlp.Fc2.weight!, "A₁ across init rules");
        Identical(small[1].Mlp.Fc2.weight!, blockLike[1].Mlp.Fc2.weight!, "A₂ weights, SmallRandom vs BlockLike");
        Assert.NotEqual(Values(small[0].Mlp.Fc2.weight!), Values(small[1].Mlp.Fc2.weight!));
    }

    [Fact]
    public void EachLearngeneDrawsFromTheSeedMixersGenerator()
    {
        Assert.Equal(Seed.Mix(9, LearngeneStack.SeedStream, 2), LearngeneStack.LearngeneSeed(9, 2));
        Assert.NotEqual(LearngeneStack.LearngeneSeed(9, 1), LearngeneStack.LearngeneSeed(9, 2));
        Assert.NotEqual(LearngeneStack.LearngeneSeed(9, 1), LearngeneStack.LearngeneSeed(10, 1));
        // A₁'s first Linear (attn.qkv) weight is the first draw of its generator: trunc-normal(0, 0.02).
        var stack = new LearngeneStack(Tiny(2), 1, seed: 9);
        var expected = empty(stack[0].Attn.Qkv.weight!.shape);
        ModelInit.TruncNormal(expected, 0.02, Seed.Generator(9, LearngeneStack.SeedStream, 1));
        Identical(expected, stack[0].Attn.Qkv.weight!, "A₁ qkv weight");
    }

    [Fact]
    public void GrowingGivesTheSameLearngenesAsBuildingThemAtOnce()
    {
        var config = Tiny(4);
        var grown = new LearngeneStack(config, 1, seed: 4);
        grown.AddLearngene(); grown.AddLearngene();
        var built = new LearngeneStack(config, 3, seed: 4);
        Assert.Equal(3, grown.Count);
        Assert.Equal(built.state_dict().Keys, grown.state_dict().Keys);
        foreach (var (name, t) in built.state_dict()) Identical(t, grown.state_dict()[name], name);
        Assert.Equal(["0.norm1.weight", "0.norm1.bias", "0.attn.qkv.weight", "0.attn.qkv.bias", "0.attn.proj.weight", "0.attn.proj.bias",
                      "0.norm2.weight", "0.norm2.bias", "0.mlp.fc1.weight", "0.mlp.fc1.bias", "0.mlp.fc2.weight", "0.mlp.fc2.bias"],
            built.state_dict().Keys.Where(k => k.StartsWith("0.", StringComparison.Ordinal)));
    }

    [Fact]
    public void AddedLearngenesFollowTheStacksDtypeAndMode()
    {
        var stack = new LearngeneStack(Tiny(3), 1, seed: 4);
        stack.to(ScalarType.Float64);
        stack.eval();
        var added = stack.AddLearngene();
        Assert.All(added.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        Assert.False(added.training);
        Assert.Equal(ScalarType.Float64, stack.Generate(3)[2].QkvWeight.dtype);
        // Same values as a float32 stack of the same seed, widened.
        var reference = new LearngeneStack(Tiny(3), 2, seed: 4);
        Assert.Equal(Values(reference[1].Mlp.Fc1.weight!), Values(added.Mlp.Fc1.weight!));
    }

    [Fact]
    public void AddingAZeroLearngeneKeepsTheModelsFunctionExactly()
    {
        var model = new LearngeneVit(Tiny(4), 1, init: LearngeneInit.Zeros, seed: 2);
        var x = Images(3, 8);
        Tensor before, after;
        using (no_grad()) before = model.forward(x);
        model.Learngenes.AddLearngene();
        using (no_grad()) after = model.forward(x);
        Identical(before, after, "logits before/after adding a zero learngene");
    }

    [Fact]
    public void MaterializeGivesTimmNamesAndIndependentCopies()
    {
        var stack = new LearngeneStack(Tiny(3), 2);
        var state = stack.Materialize(3);
        var vit = new VisionTransformer(Tiny(3));
        Assert.Equal(vit.state_dict().Keys.Where(k => k.StartsWith("blocks.", StringComparison.Ordinal)).Order(), state.Keys.Order());
        Assert.All(state.Values, t => Assert.False(t.requires_grad));
        var before = Values(state["blocks.2.mlp.fc1.weight"]);
        using (no_grad()) stack[0].Mlp.Fc1.weight!.fill_(5f);
        Assert.Equal(before, Values(state["blocks.2.mlp.fc1.weight"]));
        Assert.Equal(2L * 3 * 2 * stack.BlockParameterCount, stack.GenerationFlops(3));
        Assert.Equal(stack[0].ParameterCount(), stack.BlockParameterCount);
    }

    [Fact]
    public void GeneratedTensorsAndCachedCoefficientsSurviveDisposeScopes()
    {
        var stack = new LearngeneStack(Tiny(3), 2);
        using (NewDisposeScope()) stack.Generate(3);          // caches C (3, 2) inside a scope
        var c = stack.Coefficients(3);
        Assert.False(c.IsInvalid);
        Assert.Equal([3L, 2L], c.shape);
        var state = stack.Materialize(3);                     // its own scope frees the intermediates, not the copies
        Assert.All(state.Values, t => Assert.False(t.IsInvalid));
    }
}
