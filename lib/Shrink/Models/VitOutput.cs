using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>Which per-block activations <see cref="VisionTransformer.ForwardIntermediates"/> returns besides the logits.</summary>
[Flags]
public enum Intermediates
{
    /// <summary>Only the heads' logits.</summary>
    None = 0,
    /// <summary>Every selected block's output tokens (B, T, D).</summary>
    BlockOutputs = 1,
    /// <summary>Every selected block's attention probabilities (B, H, T, T) (forces the explicit attention path there).</summary>
    Attentions = 2,
    /// <summary>Every selected block's packed qkv projection (B, T, 3·H·d_h).</summary>
    Qkv = 4,
}

/// <summary>
/// What <see cref="VisionTransformer.ForwardIntermediates"/> returns: head logits and, on request, per-block tokens,
/// attention maps and packed qkv projections, entry i belonging to the i-th requested block.
/// </summary>
/// <param name="Logits">The class head's logits (B, K).</param>
/// <param name="DistillationLogits">The first distillation head's logits (B, K) (<c>head_dist</c>), or null.</param>
/// <param name="BlockOutputs">The selected blocks' output tokens (B, T, D) when requested, else empty.</param>
/// <param name="Attentions">The selected blocks' attention probabilities (B, H, T, T) when requested, else empty.</param>
public sealed record VitOutput(Tensor Logits, Tensor? DistillationLogits, IReadOnlyList<Tensor> BlockOutputs, IReadOnlyList<Tensor> Attentions)
{
    /// <summary>Every distillation head's logits (B, K), in token order (the first is <see cref="DistillationLogits"/>); empty for a model without distillation tokens.</summary>
    public IReadOnlyList<Tensor> DistillationHeads { get; init; } = DistillationLogits is null ? [] : [DistillationLogits];

    /// <summary>The selected blocks' packed qkv projections (B, T, 3D) — [q; k; v] along the last axis, heads contiguous — when requested, else empty.</summary>
    public IReadOnlyList<Tensor> Qkv { get; init; } = [];

    /// <summary>
    /// The prediction: the class head; for a distilled model the average of the class head and every distillation head,
    /// (z_cls + Σ_m z_dist,m)/(M + 1) — DeiT's inference rule (M = 1) and Co-advise's (M = number of teachers).
    /// </summary>
    public Tensor Prediction => DistillationHeads.Count switch
    {
        0 => Logits,
        1 => (Logits + DistillationHeads[0]) * 0.5f,
        _ => DistillationHeads.Aggregate(Logits, (sum, h) => sum + h) * (1f / (DistillationHeads.Count + 1)),
    };
}
