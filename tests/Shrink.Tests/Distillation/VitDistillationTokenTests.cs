using Shrink.Models;
using Shrink.Tensors;

namespace Shrink.Tests.Distillation;

/// <summary>The ViT additions distillation needs: several distillation tokens (Co-advise) and per-block qkv.</summary>
public class VitDistillationTokenTests
{
    private static readonly VitConfig Tiny = new() { ImageSize = 8, PatchSize = 4, EmbedDim = 16, Depth = 2, NumHeads = 2, MlpRatio = 2, NumClasses = 3 };

    [Fact]
    public void SeveralDistillationTokensHaveNamedHeadsAndEvalAveragesAllHeads()
    {
        var model = new VisionTransformer(Tiny with { NumDistillationTokens = 3 }, seed: 1);
        var keys = model.StateDict().Keys.ToList();
        Assert.Equal(["cls_token", "dist_token", "dist_token_1", "dist_token_2", "pos_embed"], keys.Take(5));
        Assert.Contains("head_dist.weight", keys);
        Assert.Contains("head_dist_1.weight", keys);
        Assert.Contains("head_dist_2.bias", keys);
        Assert.Equal([1, 4 + 4, 16], model.PosEmbed.Shape);
        Assert.Equal(model.ParameterCount(), model.AnalyticParameterCount);
        model.Eval();
        var x = Tensor.Randn([2, 1, 8, 8], new Generator(2));
        var o = model.ForwardFeatures(x);
        Assert.Equal(3, o.DistillationHeads.Count);
        Assert.Same(o.DistillationLogits, o.DistillationHeads[0]);
        var heads = new[] { o.Logits, o.DistillationHeads[0], o.DistillationHeads[1], o.DistillationHeads[2] }.Select(t => t.ToArray()).ToArray();
        var prediction = model.Forward(x).ToArray();
        for (int i = 0; i < prediction.Length; i++) Assert.Equal(heads.Average(h => (double)h[i]), prediction[i], 5);
        // the heads differ (each reads its own token)
        Assert.NotEqual(heads[1], heads[2]);
    }

    [Fact]
    public void OneTokenViaEitherSettingIsTheSameDeiT()
    {
        var a = new VisionTransformer(Tiny with { DistillationToken = true }, seed: 4);
        var b = new VisionTransformer(Tiny with { NumDistillationTokens = 1 }, seed: 4);
        Assert.Equal(a.StateDict().Keys, b.StateDict().Keys);
        foreach (var (k, v) in a.StateDict()) Assert.Equal(v.ToArray(), b.StateDict()[k].ToArray());
        Assert.Throws<ArgumentException>(() => new VisionTransformer(Tiny with { NumDistillationTokens = 1, ClassToken = false }));
    }

    [Fact]
    public void QkvIsThePackedProjectionTheAttentionReads()
    {
        var model = new VisionTransformer(Tiny with { DistillationToken = true }, seed: 3);
        var x = Tensor.Randn([2, 1, 8, 8], new Generator(5));
        var plain = model.ForwardFeatures(x);
        var full = model.ForwardFeatures(x, returnBlockOutputs: true, returnAttentions: true, returnQkv: true);
        Assert.Equal(plain.Logits.ToArray(), full.Logits.ToArray());
        Assert.Empty(plain.Qkv);
        Assert.Equal(2, full.Qkv.Count);
        Assert.Equal([2, 6, 48], full.Qkv[1].Shape);
        // block 1's qkv = qkv(norm1(block 0 output)), and softmax(q kᵀ/√d_h) of head 1 is its attention map
        var expected = model.Blocks[1].Attn.Qkv.Forward(model.Blocks[1].Norm1.Forward(full.BlockOutputs[0])).ToArray();
        var actual = full.Qkv[1].ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
        var qkv = full.Qkv[1];
        var q = qkv.Narrow(2, 8, 8); var k = qkv.Narrow(2, 16 + 8, 8);   // head 1 of q and of k (head width 8)
        var attn = (q.MatMul(k.MT) * (1f / MathF.Sqrt(8))).Softmax(-1).ToArray();
        var returned = full.Attentions[1].Select(1, 1).ToArray();
        for (int i = 0; i < attn.Length; i++) Assert.Equal(attn[i], returned[i], 5);
        // gradients flow through the returned qkv
        full.Qkv[0].Sum().Backward();
        Assert.NotNull(model.Blocks[0].Attn.Qkv.Weight.Grad);
    }
}
