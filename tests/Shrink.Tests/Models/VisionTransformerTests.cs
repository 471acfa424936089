using Shrink.Models;
using Shrink.Tensors;
using F = Shrink.Tensors.Functional;

namespace Shrink.Tests.Models;

public class VisionTransformerTests
{
    private static readonly VitConfig Tiny = new() { ImageSize = 8, PatchSize = 4, EmbedDim = 16, Depth = 2, NumHeads = 2, MlpRatio = 2, NumClasses = 3 };

    [Fact]
    public void ParameterNamesFollowTimm()
    {
        var model = new VisionTransformer(Tiny with { DistillationToken = true });
        var keys = model.StateDict().Keys.ToList();
        Assert.Equal(
            ["cls_token", "dist_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
             "blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias",
             "blocks.0.attn.proj.weight", "blocks.0.attn.proj.bias", "blocks.0.norm2.weight", "blocks.0.norm2.bias",
             "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias", "blocks.0.mlp.fc2.weight", "blocks.0.mlp.fc2.bias"],
            keys.Take(17));
        Assert.Contains("norm.weight", keys);
        Assert.Contains("head.weight", keys);
        Assert.Contains("head_dist.bias", keys);
        Assert.Equal([1, 4 + 2, 16], model.PosEmbed.Shape);
        Assert.Equal([16, 1, 4, 4], model.PatchEmbed.Proj.Weight.Shape);
        Assert.Equal([48, 16], model.Blocks[0].Attn.Qkv.Weight.Shape);
    }

    [Fact]
    public void ForwardShapesFeaturesAndAttentions()
    {
        var model = new VisionTransformer(Tiny);
        var x = Tensor.Randn([5, 1, 8, 8], new Generator(1));
        var output = model.ForwardFeatures(x, returnBlockOutputs: true, returnAttentions: true);
        Assert.Equal([5, 3], output.Logits.Shape);
        Assert.Null(output.DistillationLogits);
        Assert.Equal(2, output.BlockOutputs.Count);
        Assert.Equal([5, 5, 16], output.BlockOutputs[1].Shape);
        Assert.Equal([5, 2, 5, 5], output.Attentions[0].Shape);
        var rowSums = output.Attentions[0].Sum(-1).ToArray();
        Assert.All(rowSums, s => Assert.Equal(1f, s, 5));
    }

    [Fact]
    public void DistilledModelPredictsWithTheMeanOfBothHeads()
    {
        var model = new VisionTransformer(Tiny with { DistillationToken = true }, seed: 3);
        model.Eval();
        var x = Tensor.Randn([2, 1, 8, 8], new Generator(2));
        var o = model.ForwardFeatures(x);
        Assert.NotNull(o.DistillationLogits);
        var mean = ((o.Logits + o.DistillationLogits!) * 0.5f).ToArray();
        Assert.Equal(mean, model.Forward(x).ToArray());
    }

    [Fact]
    public void PatchEmbeddingEqualsTheConvolution()
    {
        var model = new VisionTransformer(Tiny, seed: 5);
        var x = Tensor.Randn([2, 1, 8, 8], new Generator(4));
        var viaConv = model.PatchEmbed.Proj.Forward(x).Flatten(2).Transpose(1, 2).ToArray();   // (B, N, D)
        var viaPatchify = model.PatchEmbed.Forward(x).ToArray();
        for (int i = 0; i < viaConv.Length; i++) Assert.Equal(viaConv[i], viaPatchify[i], 5);
    }

    [Fact]
    public void SameSeedSameModelAndBackwardReachesEveryParameter()
    {
        var a = new VisionTransformer(Tiny with { DropPathRate = 0.1f, DropRate = 0.1f, AttnDropRate = 0.1f }, seed: 7);
        var b = new VisionTransformer(Tiny with { DropPathRate = 0.1f, DropRate = 0.1f, AttnDropRate = 0.1f }, seed: 7);
        Assert.Equal(a.StateDict()["blocks.1.mlp.fc2.weight"].ToArray(), b.StateDict()["blocks.1.mlp.fc2.weight"].ToArray());
        var x = Tensor.Randn([4, 1, 8, 8], new Generator(9));
        F.CrossEntropy(a.Forward(x), [0, 1, 2, 0]).Backward();
        foreach (var (name, p) in a.NamedParameters())
            Assert.True(p.Grad is not null, $"{name} got no gradient");
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
        var e = Assert.Throws<ArgumentException>(() => new VisionTransformer(Tiny).Forward(Tensor.Zeros(1, 1, 9, 9)));
        Assert.Contains("[1, 1, 9, 9]", e.Message);
    }
}
