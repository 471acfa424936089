using Shrink.Genes;
using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tests.Engine;

namespace Shrink.Tests.Genes;

/// <summary>The stack generates W_l = Σ_n a(l, n)·A_n for every block tensor, differentiably, and freezes and grows as incremental training needs.</summary>
public sealed class LearngeneStackTests
{
    [Fact]
    public void GeneratedWeightIsT3AtOneTwelfthTimesTheThirdLearngene()
    {
        // A₁ = A₂ = 0, A₃ = 1 everywhere: every element of W₂ (L = 12) is a(2, 3) = T₃(1/12) = 4x³ − 3x.
        var stack = new LearngeneStack(GenesTestUtil.Tiny(12), 3);
        foreach (var (name, p) in stack.NamedParameters()) p.Fill_(name.StartsWith("2.") ? 1f : 0f);
        double x = 1.0 / 12;
        float t3 = (float)(4 * x * x * x - 3 * x);
        var w2 = stack.Generate(12)[1];
        foreach (var (name, t) in w2.Named())
            Assert.All(t.ToArray(), v => Assert.Equal(t3, v));
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
        var stack = new LearngeneStack(GenesTestUtil.Tiny(depth), k, basis, indexing);
        GenesTestUtil.Randomize(stack, 7);
        var layers = stack.Generate(depth);
        Assert.Equal(depth, layers.Count);
        for (int l = 1; l <= depth; l++)
            foreach (var (name, w) in layers[l - 1].Named())
            {
                var expected = new double[w.Numel];
                for (int n = 1; n <= k; n++)
                {
                    double a = LearngeneCoefficients.Coefficient(basis, indexing, l, n, depth);
                    var an = stack[n - 1].GetParameter(name).ToArray();
                    for (int i = 0; i < an.Length; i++) expected[i] += a * an[i];
                }
                Assert.Equal(stack[0].GetParameter(name).Shape, w.Shape);
                var actual = w.ToArray();
                for (int i = 0; i < actual.Length; i++)
                    Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 + 1e-5 * Math.Abs(expected[i]), $"W_{l} {name}[{i}] = {actual[i]}, expected {expected[i]}.");
            }
    }

    [Fact]
    public void FirstKLearngenesAndOtherDepthsUseTheirOwnCoefficients()
    {
        var stack = new LearngeneStack(GenesTestUtil.Tiny(6), 4);
        GenesTestUtil.Randomize(stack, 3);
        var w = stack.Generate(3, count: 2)[2].Fc1Weight.ToArray();   // layer 3 of 3: x = 2/3
        var a1 = stack[0].GetParameter("mlp.fc1.weight").ToArray();
        var a2 = stack[1].GetParameter("mlp.fc1.weight").ToArray();
        double x = 2.0 / 3;
        for (int i = 0; i < w.Length; i++) Assert.Equal(x * a1[i] + (2 * x * x - 1) * a2[i], w[i], 5);
        Assert.Contains("k must be in 1 … 4", Assert.Throws<ArgumentOutOfRangeException>(() => stack.Generate(3, 5)).Message);
        Assert.Contains("depth L must be ≥ 1", Assert.Throws<ArgumentOutOfRangeException>(() => stack.Generate(0)).Message);
    }

    [Fact]
    public void GradientsThroughTheStackPassAGradientCheck()
    {
        // The generated weights as one vector: ∂/∂A_n = Σ_l a(l, n)·∂/∂W_l.
        var stack = new LearngeneStack(GenesTestUtil.Tiny(3), 3, LearngeneBasis.Chebyshev, LearngeneIndexing.Tleg);
        GenesTestUtil.Randomize(stack, 11);
        var inputs = stack.Parameters().ToArray<Tensor>();
        GradCheck.Check("LearngeneStack.Generate", _ =>
            Shrink.Tensors.Functional.Concat(stack.Generate(3).SelectMany(b => b.Named().Select(t => t.Tensor.Reshape(-1))).ToArray()), inputs);
    }

    [Fact]
    public void GradientsThroughAWholeLearngeneVitPassAGradientCheck()
    {
        var model = new LearngeneVit(GenesTestUtil.Tiny(3), 2, seed: 5);
        GenesTestUtil.Randomize(model.Learngenes, 12);
        var images = GenesTestUtil.Images(2, 4);
        model.Freeze(n => !n.StartsWith("learngenes."));   // check the learngenes; the rest is ordinary ViT code
        var inputs = model.Learngenes.Parameters().ToArray<Tensor>();
        GradCheck.Check("LearngeneVit w.r.t. learngenes", _ => model.Forward(images), inputs);
    }

    [Fact]
    public void FrozenLearngenesReceiveNoGradient()
    {
        var model = new LearngeneVit(GenesTestUtil.Tiny(4), 3, seed: 1);
        GenesTestUtil.Randomize(model.Learngenes, 2);
        model.Learngenes.FreezeFirst(2);
        model.Forward(GenesTestUtil.Images(2, 1)).Sum().Backward();
        foreach (var p in model.Learngenes[0].Parameters().Concat(model.Learngenes[1].Parameters()))
        {
            Assert.False(p.RequiresGrad);
            Assert.Null(p.Grad);
        }
        Assert.All(model.Learngenes[2].Parameters(), p => Assert.True(p.Grad is not null && p.Grad.ToArray().Any(v => v != 0)));
        model.Learngenes.FreezeFirst(0);
        Assert.All(model.Learngenes.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Learngenes.FreezeFirst(4));
    }

    [Fact]
    public void InitialisationFollowsTheDocumentedRules()
    {
        var config = GenesTestUtil.Tiny(4);
        var small = new LearngeneStack(config, 2, init: LearngeneInit.SmallRandom, seed: 9);
        var zeros = new LearngeneStack(config, 2, init: LearngeneInit.Zeros, seed: 9);
        var blockLike = new LearngeneStack(config, 2, init: LearngeneInit.BlockLike, seed: 9);
        foreach (var s in new[] { small, zeros, blockLike })
        {
            // A₁: a fresh timm block (γ = 1, β = 0, zero biases, weights ~ N(0, 0.02²)), whatever the rule.
            Assert.All(s[0].Norm1.Weight!.ToArray(), v => Assert.Equal(1f, v));
            Assert.All(s[0].Norm2.Bias!.ToArray(), v => Assert.Equal(0f, v));
            Assert.All(s[0].Attn.Qkv.Bias!.ToArray(), v => Assert.Equal(0f, v));
            var w = s[0].Mlp.Fc1.Weight.ToArray();
            double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
            Assert.InRange(std, 0.012, 0.03);
        }
        Assert.All(small[1].Norm1.Weight!.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(small[1].Norm2.Bias!.ToArray(), v => Assert.Equal(0f, v));
        Assert.Contains(small[1].Attn.Proj.Weight.ToArray(), v => v != 0);
        Assert.All(zeros[1].Parameters().SelectMany(p => p.ToArray()), v => Assert.Equal(0f, v));
        Assert.All(blockLike[1].Norm1.Weight!.ToArray(), v => Assert.Equal(1f, v));
        // The same (seed, n) gives the same start in every stack; A₂ differs from A₁.
        GenesTestUtil.Identical(small[0].Mlp.Fc2.Weight, zeros[0].Mlp.Fc2.Weight, "A₁ across init rules");
        GenesTestUtil.Identical(small[1].Mlp.Fc2.Weight, blockLike[1].Mlp.Fc2.Weight, "A₂ weights, SmallRandom vs BlockLike");
        Assert.NotEqual(small[0].Mlp.Fc2.Weight.ToArray(), small[1].Mlp.Fc2.Weight.ToArray());
    }

    [Fact]
    public void GrowingGivesTheSameLearngenesAsBuildingThemAtOnce()
    {
        var config = GenesTestUtil.Tiny(4);
        var grown = new LearngeneStack(config, 1, seed: 4);
        grown.AddLearngene(); grown.AddLearngene();
        var built = new LearngeneStack(config, 3, seed: 4);
        Assert.Equal(3, grown.Count);
        Assert.Equal(built.StateDict().Keys, grown.StateDict().Keys);
        foreach (var (name, t) in built.StateDict()) GenesTestUtil.Identical(t, grown.StateDict()[name], name);
        Assert.Equal(["0.norm1.weight", "0.norm1.bias", "0.attn.qkv.weight", "0.attn.qkv.bias", "0.attn.proj.weight", "0.attn.proj.bias",
                      "0.norm2.weight", "0.norm2.bias", "0.mlp.fc1.weight", "0.mlp.fc1.bias", "0.mlp.fc2.weight", "0.mlp.fc2.bias"],
            built.StateDict().Keys.Where(k => k.StartsWith("0.")));
    }

    [Fact]
    public void AddingAZeroLearngeneKeepsTheModelsFunctionExactly()
    {
        var model = new LearngeneVit(GenesTestUtil.Tiny(4), 1, init: LearngeneInit.Zeros, seed: 2);
        var x = GenesTestUtil.Images(3, 8);
        Tensor before, after;
        using (Tensor.NoGrad()) before = model.Forward(x);
        model.Learngenes.AddLearngene();
        using (Tensor.NoGrad()) after = model.Forward(x);
        GenesTestUtil.Identical(before, after, "logits before/after adding a zero learngene");
    }

    [Fact]
    public void MaterializeGivesTimmNamesAndIndependentCopies()
    {
        var stack = new LearngeneStack(GenesTestUtil.Tiny(3), 2);
        var state = stack.Materialize(3);
        var vit = new VisionTransformer(GenesTestUtil.Tiny(3));
        Assert.Equal(vit.StateDict().Keys.Where(k => k.StartsWith("blocks.")).Order(), state.Keys.Order());
        Assert.All(state.Values, t => Assert.False(t.RequiresGrad));
        var before = state["blocks.2.mlp.fc1.weight"].ToArray();
        stack[0].Mlp.Fc1.Weight.Fill_(5f);
        Assert.Equal(before, state["blocks.2.mlp.fc1.weight"].ToArray());
        Assert.Equal(2L * 3 * 2 * stack.BlockParameterCount, stack.GenerationFlops(3));
        Assert.Equal(stack[0].ParameterCount(), stack.BlockParameterCount);
    }
}
