using Shrink.Models;
using Shrink.Torch;
using static TorchSharp.torch;

namespace Shrink.Tests.Distillation;

/// <summary>The ViT additions distillation needs: several distillation tokens (Co-advise) and per-block intermediates (qkv, maps, tokens).</summary>
public class VitDistillationTokenTests
{
    private static readonly VitConfig Tiny = new() { ImageSize = 8, PatchSize = 4, EmbedDim = 16, Depth = 2, NumHeads = 2, MlpRatio = 2, NumClasses = 3 };

    public VitDistillationTokenTests() => TorchNative.EnsureLoaded();

    private static float[] Values(Tensor t) => DistillationLossTests.Values(t);

    private static Tensor Images(ulong seed) => randn([2, 1, 8, 8], generator: Seed.Generator(seed));

    [Fact]
    public void SeveralDistillationTokensHaveNamedHeadsAndEvalAveragesAllHeads()
    {
        var model = new VisionTransformer(Tiny with { NumDistillationTokens = 3 }, seed: 1);
        var keys = model.state_dict().Keys.ToList();
        Assert.Equal(["cls_token", "dist_token", "dist_token_1", "dist_token_2"], keys.Where(k => k.Contains("_token", StringComparison.Ordinal)));
        Assert.Contains("head_dist.weight", keys);
        Assert.Contains("head_dist_1.weight", keys);
        Assert.Contains("head_dist_2.bias", keys);
        Assert.Equal([1L, 4 + 4, 16], model.PosEmbed.shape);
        Assert.Equal(model.ParameterCount(), model.AnalyticParameterCount);
        model.eval();
        var x = Images(2);
        using var _ = no_grad();
        var o = model.ForwardIntermediates(x);
        Assert.Equal(3, o.DistillationHeads.Count);
        Assert.Same(o.DistillationLogits, o.DistillationHeads[0]);
        var heads = new[] { o.Logits, o.DistillationHeads[0], o.DistillationHeads[1], o.DistillationHeads[2] }.Select(Values).ToArray();
        var prediction = Values(model.forward(x));
        for (int i = 0; i < prediction.Length; i++) Assert.Equal(heads.Average(h => (double)h[i]), prediction[i], 5);
        // the heads differ (each reads its own token)
        Assert.NotEqual(heads[1], heads[2]);
    }

    [Fact]
    public void OneTokenViaEitherSettingIsTheSameDeiT()
    {
        var a = new VisionTransformer(Tiny with { DistillationToken = true }, seed: 4);
        var b = new VisionTransformer(Tiny with { NumDistillationTokens = 1 }, seed: 4);
        Assert.Equal(a.state_dict().Keys, b.state_dict().Keys);
        foreach (var (k, v) in a.state_dict()) Assert.Equal(Values(v), Values(b.state_dict()[k]));
        Assert.Throws<ArgumentException>(() => new VisionTransformer(Tiny with { NumDistillationTokens = 1, ClassToken = false }));
    }

    [Fact]
    public void QkvIsThePackedProjectionTheAttentionReads()
    {
        var model = new VisionTransformer(Tiny with { DistillationToken = true }, seed: 3);
        model.eval();
        var x = Images(5);
        var plain = model.ForwardIntermediates(x);
        var full = model.ForwardIntermediates(x, Intermediates.BlockOutputs | Intermediates.Attentions | Intermediates.Qkv);
        for (int i = 0; i < Values(plain.Logits).Length; i++) Assert.Equal(Values(plain.Logits)[i], Values(full.Logits)[i], 5);
        Assert.Empty(plain.Qkv);
        Assert.Empty(plain.BlockOutputs);
        Assert.Equal(2, full.Qkv.Count);
        Assert.Equal([2L, 6, 48], full.Qkv[1].shape);
        // block 1's qkv = qkv(norm1(block 0 output)), and softmax(q kᵀ/√d_h) of head 1 is its attention map
        var expected = Values(model.Blocks[1].Attn.Qkv.forward(model.Blocks[1].Norm1.forward(full.BlockOutputs[0])));
        var actual = Values(full.Qkv[1]);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
        var qkv = full.Qkv[1];
        var q = qkv.narrow(2, 8, 8); var k = qkv.narrow(2, 16 + 8, 8);   // head 1 of q and of k (head width 8)
        var attn = Values((q.matmul(k.transpose(-2, -1)) * (1.0 / Math.Sqrt(8))).softmax(-1));
        var returned = Values(full.Attentions[1].select(1, 1));
        for (int i = 0; i < attn.Length; i++) Assert.Equal(attn[i], returned[i], 5);
        // indices select blocks: entry i belongs to indices[i] (block 0 may now take the fused attention path: equal to 5 decimals)
        var only1 = model.ForwardIntermediates(x, Intermediates.Qkv | Intermediates.BlockOutputs, [1]);
        Assert.Single(only1.Qkv);
        Assert.Single(only1.BlockOutputs);
        var (f1, o1) = (Values(full.Qkv[1]), Values(only1.Qkv[0]));
        for (int i = 0; i < f1.Length; i++) Assert.Equal(f1[i], o1[i], 5);
        // gradients flow through the returned qkv
        full.Qkv[0].sum().backward();
        Assert.NotNull(model.Blocks[0].Attn.Qkv.weight!.grad);
    }
}
