using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static Shrink.Tests.Models.ModelTestUtil;
using static TorchSharp.torch;

namespace Shrink.Tests.Models;

public class VisionTransformerTests
{
    private static readonly VitConfig Tiny = new() { ImageSize = 8, PatchSize = 4, EmbedDim = 16, Depth = 2, NumHeads = 2, MlpRatio = 2, NumClasses = 3 };

    private static Tensor Randn(ulong seed, params long[] shape) => randn(shape, generator: Seed.Generator(seed));

    [Fact]
    public void ParameterNamesFollowTimm()
    {
        var model = new VisionTransformer(Tiny with { DistillationToken = true });
        var keys = model.state_dict().Keys.ToList();
        Assert.Equal(
            ["cls_token", "dist_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
             "blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias",
             "blocks.0.attn.proj.weight", "blocks.0.attn.proj.bias", "blocks.0.norm2.weight", "blocks.0.norm2.bias",
             "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias", "blocks.0.mlp.fc2.weight", "blocks.0.mlp.fc2.bias"],
            keys.Take(17));
        Assert.Contains("norm.weight", keys);
        Assert.Contains("head.weight", keys);
        Assert.Contains("head_dist.bias", keys);
        Assert.Empty(model.named_buffers());
        AssertShape(model.PosEmbed, 1, 4 + 2, 16);
        AssertShape(model.PatchEmbed.Proj.weight!, 16, 1, 4, 4);
        AssertShape(model.Blocks[0].Attn.Qkv.weight!, 48, 16);
        Assert.Equal(1e-6, model.Blocks[0].Norm1.eps, 1e-12);
    }

    [Fact]
    public void ForwardIntermediatesShapesAndOrder()
    {
        var model = new VisionTransformer(Tiny with { Depth = 3 });
        var x = Randn(1, 5, 1, 8, 8);
        var all = model.ForwardIntermediates(x, Intermediates.BlockOutputs | Intermediates.Attentions | Intermediates.Qkv);
        AssertShape(all.Logits, 5, 3);
        Assert.Null(all.DistillationLogits);
        Assert.Empty(all.DistillationHeads);
        Assert.Equal(3, all.BlockOutputs.Count);
        AssertShape(all.BlockOutputs[1], 5, 5, 16);
        AssertShape(all.Attentions[0], 5, 2, 5, 5);
        AssertShape(all.Qkv[2], 5, 5, 48);
        Assert.All(Values(all.Attentions[0].sum(-1)), s => Assert.Equal(1f, s, 5));

        // indices select blocks; entry i belongs to indices[i]; what is not asked for is empty.
        var some = model.ForwardIntermediates(x, Intermediates.BlockOutputs | Intermediates.Qkv, [2, 0]);
        Assert.Equal(2, some.BlockOutputs.Count);
        Assert.Empty(some.Attentions);
        Assert.Equal(Values(all.BlockOutputs[2]), Values(some.BlockOutputs[0]), new FloatTolerance(1e-5f));   // explicit vs fused attention
        Assert.Equal(Values(all.Qkv[0]), Values(some.Qkv[1]));
        var none = model.ForwardIntermediates(x);
        Assert.Empty(none.BlockOutputs); Assert.Empty(none.Attentions); Assert.Empty(none.Qkv);
        Assert.Equal(Values(all.Logits), Values(none.Logits), new FloatTolerance(1e-5f));
        Assert.Contains("block index 3", Assert.Throws<ArgumentOutOfRangeException>(() => model.ForwardIntermediates(x, Intermediates.Qkv, [3])).Message);
    }

    [Fact]
    public void FusedAndExplicitAttentionAgreeAndExplicitHasADoubleBackward()
    {
        var model = new VisionTransformer(Tiny, seed: 2);
        var x = Randn(3, 2, 1, 8, 8);
        var fused = Values(model.forward(x));
        model.FusedAttention = false;
        Assert.All(model.Blocks, b => Assert.False(b.Attn.FusedAttention));
        Assert.Equal(fused, Values(model.forward(x)), new FloatTolerance(1e-5f));

        // Hessian-vector product by double backward on the explicit path: H·v for the head weight, v = 1.
        var w = model.Head.weight!;
        var loss = nn.functional.cross_entropy(model.forward(x), Targets(0, 2));
        var g = autograd.grad([loss], [w], create_graph: true, retain_graph: true)[0];
        var hv = autograd.grad([(g * ones_like(g)).sum()], [w])[0];
        AssertShape(hv, 3, 16);
        Assert.True(Values(hv).All(float.IsFinite));
        Assert.Contains(Values(hv), v => v != 0);
    }

    [Fact]
    public void DistilledModelPredictsWithTheMeanOfTheHeads()
    {
        var model = new VisionTransformer(Tiny with { DistillationToken = true }, seed: 3);
        model.eval();
        var x = Randn(2, 2, 1, 8, 8);
        var o = model.ForwardIntermediates(x);
        Assert.NotNull(o.DistillationLogits);
        Assert.Equal(Values((o.Logits + o.DistillationLogits!) * 0.5f), Values(model.forward(x)));

        var coAdvise = new VisionTransformer(Tiny with { NumDistillationTokens = 3 }, seed: 3);
        var keys = coAdvise.state_dict().Keys.ToList();
        Assert.Contains("dist_token_2", keys);
        Assert.Contains("head_dist_2.weight", keys);
        Assert.Equal(3, coAdvise.DistTokens.Count);
        Assert.Equal(3, coAdvise.HeadDists.Count);
        var c = coAdvise.ForwardIntermediates(x);
        Assert.Equal(3, c.DistillationHeads.Count);
        var mean = (c.Logits + c.DistillationHeads[0] + c.DistillationHeads[1] + c.DistillationHeads[2]) * 0.25f;
        Assert.Equal(Values(mean), Values(c.Prediction), new FloatTolerance(1e-6f));
        Assert.Equal(coAdvise.AnalyticParameterCount, coAdvise.ParameterCount());
    }

    [Fact]
    public void PatchEmbeddingIsTheConvolutionFlattenedRowMajor()
    {
        var model = new VisionTransformer(Tiny, seed: 5);
        var x = Randn(4, 2, 1, 8, 8);
        var viaConv = nn.functional.conv2d(x, model.PatchEmbed.Proj.weight!, model.PatchEmbed.Proj.bias, strides: [4, 4]);   // (B, D, 2, 2)
        var tokens = model.PatchEmbed.forward(x);                                                                               // (B, 4, D)
        AssertShape(tokens, 2, 4, 16);
        Assert.Equal(Values(viaConv.permute(0, 2, 3, 1).reshape(2, 4, 16)), Values(tokens));
    }

    [Fact]
    public void SameSeedSameModelAndBackwardReachesEveryParameter()
    {
        var cfg = Tiny with { DropPathRate = 0.1f, DropRate = 0.1f, AttnDropRate = 0.1f };
        var a = new VisionTransformer(cfg, seed: 7);
        var b = new VisionTransformer(cfg, seed: 7);
        var c = new VisionTransformer(cfg, seed: 8);
        foreach (var (name, t) in a.state_dict()) Assert.Equal(Values(t), Values(b.state_dict()[name]));
        Assert.NotEqual(Values(a.Blocks[1].Mlp.Fc2.weight!), Values(c.Blocks[1].Mlp.Fc2.weight!));
        // timm init: weights trunc-normal(0.02), biases 0, LayerNorm 1/0.
        var w = Values(VitModels.Create("vit_micro_patch4_28", seed: 1).Blocks[0].Mlp.Fc1.weight!);
        double std = Math.Sqrt(w.Select(v => (double)v * v).Average());
        Assert.InRange(std, 0.019, 0.021);
        Assert.All(Values(a.Blocks[0].Attn.Qkv.bias!), v => Assert.Equal(0f, v));
        Assert.All(Values(a.Norm.weight!), v => Assert.Equal(1f, v));

        var x = Randn(9, 4, 1, 8, 8);
        nn.functional.cross_entropy(a.forward(x), Targets(0, 1, 2, 0)).backward();
        foreach (var (name, p) in a.named_parameters())
            Assert.True(p.grad is not null, $"{name} got no gradient");
    }

    [Fact]
    public void PrunedBlocksHaveTheirOwnWidths()
    {
        var cfg = Tiny with { Depth = 3, BlockNumHeads = [2, 1, 1], BlockMlpHidden = [32, 7, 3] };
        var model = new VisionTransformer(cfg, seed: 1);
        AssertShape(model.Blocks[1].Attn.Qkv.weight!, 24, 16);     // 3·1·d_h, d_h = 8
        AssertShape(model.Blocks[1].Attn.Proj.weight!, 16, 8);
        AssertShape(model.Blocks[2].Mlp.Fc1.weight!, 3, 16);
        Assert.Equal(8, model.Blocks[2].Attn.HeadDim);
        Assert.Equal(model.AnalyticParameterCount, model.ParameterCount());
        var o = model.ForwardIntermediates(Randn(1, 2, 1, 8, 8), Intermediates.Attentions);
        AssertShape(o.Attentions[1], 2, 1, 5, 5);
        Assert.Contains("BlockNumHeads", Assert.Throws<ArgumentException>(() => new VisionTransformer(cfg with { BlockNumHeads = [2, 1] })).Message);
    }

    [Fact]
    public void AnalyticCountsMatchTheModel()
    {
        foreach (var name in VitModels.Names)
        {
            var m = VitModels.Create(name);
            Assert.Equal(m.ParameterCount(), m.AnalyticParameterCount);
        }
        // Tiny: T = 5 tokens, D = 16, M = 32, K = 3, patch 4×4×1, depth 2.
        long macs = 4 * 16 * 16 + 2 * (5 * 16 * 48 + 2 * 25 * 16 + 5 * 16 * 16 + 2 * 5 * 16 * 32) + 16 * 3;
        Assert.Equal(2 * macs * 3, new VisionTransformer(Tiny).Flops(3));
    }

    [Fact]
    public void NamedModelsAndBadInput()
    {
        var m = VitModels.Create("vit_micro_patch4_28");
        Assert.InRange(m.ParameterCount(), 700_000, 1_000_000);
        Assert.Throws<ArgumentException>(() => VitModels.Create("vit_huge_patch14_224"));
        var e = Assert.Throws<ArgumentException>(() => new VisionTransformer(Tiny).forward(zeros(1, 1, 9, 9)));
        Assert.Contains("(1, 1, 9, 9)", e.Message);
        Assert.Contains("(1, 2, 8, 8)", Assert.Throws<ArgumentException>(() => new VisionTransformer(Tiny).forward(zeros(1, 2, 8, 8))).Message);
        Assert.Contains("not a multiple of patch size", Assert.Throws<ArgumentException>(() => new VisionTransformer(Tiny with { ImageSize = 9 })).Message);
        Assert.Contains("needs the class token", Assert.Throws<ArgumentException>(() => new VisionTransformer(Tiny with { DistillationToken = true, ClassToken = false })).Message);
    }
}

/// <summary>
/// Tests that reseed torch's default generator and then draw from it (dropout, drop path). They run alone: a test running
/// in parallel would draw from the same process-wide generator in between (TorchSharp layers draw their default
/// initialisation from it when constructed).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchDefaultGeneratorCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Models: torch default generator";
}

[Collection(TorchDefaultGeneratorCollection.Name)]
public class VisionTransformerStochasticTests
{
    [Fact]
    public void DropoutAndDropPathRepeatAfterTheSameReseed()
    {
        var cfg = new VitConfig { ImageSize = 8, PatchSize = 4, EmbedDim = 16, Depth = 2, NumHeads = 2, MlpRatio = 2, NumClasses = 3, DropPathRate = 0.5f, DropRate = 0.1f, AttnDropRate = 0.1f };
        var a = new VisionTransformer(cfg, seed: 7);
        var b = new VisionTransformer(cfg, seed: 7);
        var x = randn([4, 1, 8, 8], generator: Seed.Generator(9));
        Seed.ManualSeed(1, 2);
        var y1 = Values(a.forward(x));
        Seed.ManualSeed(1, 2);
        var y2 = Values(b.forward(x));
        Assert.Equal(y1, y2);
        Seed.ManualSeed(1, 3);
        Assert.NotEqual(y1, Values(a.forward(x)));
        a.eval();
        var e1 = Values(a.forward(x));
        Assert.NotEqual(y1, e1);
        Assert.Equal(e1, Values(a.forward(x)));   // no randomness in evaluation
    }
}

/// <summary>Compares floats within an absolute tolerance.</summary>
internal sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
    public int GetHashCode(float obj) => 0;
}
