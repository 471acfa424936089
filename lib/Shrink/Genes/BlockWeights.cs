using Shrink.Tensors;
using F = Shrink.Tensors.Functional;

namespace Shrink.Genes;

/// <summary>
/// Every tensor of one pre-norm ViT block, under timm's block-relative names — the parameters of
/// <c>blocks.{l}</c> in a <see cref="Models.VisionTransformer"/>, here produced by a <see cref="LearngeneStack"/>
/// (W_l = Σ_n a(l, n)·A_n, on the autograd tape) instead of stored. <see cref="Forward"/> runs the block with them using
/// the same operations, in the same order, as <see cref="Models.Block"/>, so a model with these weights and a
/// <see cref="Models.VisionTransformer"/> holding copies of them compute the same numbers.
/// </summary>
/// <param name="Norm1Weight"><c>norm1.weight</c> γ₁ (D).</param>
/// <param name="Norm1Bias"><c>norm1.bias</c> β₁ (D).</param>
/// <param name="QkvWeight"><c>attn.qkv.weight</c> (3D, D), [q; k; v] along the output axis, heads contiguous.</param>
/// <param name="QkvBias"><c>attn.qkv.bias</c> (3D), or null without a qkv bias.</param>
/// <param name="ProjWeight"><c>attn.proj.weight</c> (D, D).</param>
/// <param name="ProjBias"><c>attn.proj.bias</c> (D).</param>
/// <param name="Norm2Weight"><c>norm2.weight</c> γ₂ (D).</param>
/// <param name="Norm2Bias"><c>norm2.bias</c> β₂ (D).</param>
/// <param name="Fc1Weight"><c>mlp.fc1.weight</c> (M, D).</param>
/// <param name="Fc1Bias"><c>mlp.fc1.bias</c> (M).</param>
/// <param name="Fc2Weight"><c>mlp.fc2.weight</c> (D, M).</param>
/// <param name="Fc2Bias"><c>mlp.fc2.bias</c> (D).</param>
public sealed record BlockWeights(
    Tensor Norm1Weight, Tensor Norm1Bias, Tensor QkvWeight, Tensor? QkvBias, Tensor ProjWeight, Tensor ProjBias,
    Tensor Norm2Weight, Tensor Norm2Bias, Tensor Fc1Weight, Tensor Fc1Bias, Tensor Fc2Weight, Tensor Fc2Bias)
{
    /// <summary>
    /// The block-relative timm names of a block's tensors, in <see cref="Models.Block"/>'s parameter order:
    /// <c>norm1.weight</c>, <c>norm1.bias</c>, <c>attn.qkv.weight</c>, <c>attn.qkv.bias</c>, <c>attn.proj.weight</c>,
    /// <c>attn.proj.bias</c>, <c>norm2.weight</c>, <c>norm2.bias</c>, <c>mlp.fc1.weight</c>, <c>mlp.fc1.bias</c>,
    /// <c>mlp.fc2.weight</c>, <c>mlp.fc2.bias</c>.
    /// </summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
        "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
    ];

    /// <summary>Builds the record from block-relative names (<see cref="Names"/>); <c>attn.qkv.bias</c> may be absent.</summary>
    /// <exception cref="ArgumentException">A required name is missing (the message names it).</exception>
    public static BlockWeights FromNamed(IReadOnlyDictionary<string, Tensor> named)
    {
        ArgumentNullException.ThrowIfNull(named);
        Tensor Get(string name) => named.TryGetValue(name, out var t) ? t
            : throw new ArgumentException($"BlockWeights: the tensor '{name}' is missing (have: {string.Join(", ", named.Keys)}).");
        return new BlockWeights(Get("norm1.weight"), Get("norm1.bias"), Get("attn.qkv.weight"), named.GetValueOrDefault("attn.qkv.bias"),
            Get("attn.proj.weight"), Get("attn.proj.bias"), Get("norm2.weight"), Get("norm2.bias"),
            Get("mlp.fc1.weight"), Get("mlp.fc1.bias"), Get("mlp.fc2.weight"), Get("mlp.fc2.bias"));
    }

    /// <summary>(block-relative name, tensor) for every tensor, in <see cref="Names"/> order (no <c>attn.qkv.bias</c> when it is null).</summary>
    public IEnumerable<(string Name, Tensor Tensor)> Named()
    {
        yield return ("norm1.weight", Norm1Weight);
        yield return ("norm1.bias", Norm1Bias);
        yield return ("attn.qkv.weight", QkvWeight);
        if (QkvBias is not null) yield return ("attn.qkv.bias", QkvBias);
        yield return ("attn.proj.weight", ProjWeight);
        yield return ("attn.proj.bias", ProjBias);
        yield return ("norm2.weight", Norm2Weight);
        yield return ("norm2.bias", Norm2Bias);
        yield return ("mlp.fc1.weight", Fc1Weight);
        yield return ("mlp.fc1.bias", Fc1Bias);
        yield return ("mlp.fc2.weight", Fc2Weight);
        yield return ("mlp.fc2.bias", Fc2Bias);
    }

    /// <summary>
    /// The pre-norm block (timm <c>Block</c> without dropout or drop-path) with these weights, (B, T, D) → (B, T, D):
    /// <code>
    /// x ← x + proj(attention(qkv(LN₁(x))))      // softmax(q kᵀ/√d_h) v per head, fused
    /// x ← x + fc2(GELU(fc1(LN₂(x))))            // exact erf GELU
    /// </code>
    /// <paramref name="attention"/> receives the probabilities (B, H, T, T) when <paramref name="returnAttention"/>.
    /// </summary>
    public Tensor Forward(Tensor x, int numHeads, float eps, out Tensor? attention, bool returnAttention = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 3 || x.Shape[2] != Norm1Weight.Shape[0])
            throw new ArgumentException($"BlockWeights.Forward: expected tokens (B, T, {Norm1Weight.Shape[0]}), got ({string.Join(", ", x.Shape)}).");
        int[] normalized = [x.Shape[2]];
        var h = F.LayerNorm(x, normalized, Norm1Weight, Norm1Bias, eps);
        var packed = F.Linear(h, QkvWeight, QkvBias);                                        // (B, T, 3D)
        var (o, weights) = F.ScaledDotProductAttentionPacked(packed, numHeads, returnWeights: returnAttention);   // (B, T, D)
        attention = weights;
        x = x + F.Linear(o, ProjWeight, ProjBias);
        h = F.LayerNorm(x, normalized, Norm2Weight, Norm2Bias, eps);
        return x + F.Linear(F.Linear(h, Fc1Weight, Fc1Bias).Gelu(), Fc2Weight, Fc2Bias);
    }
}
