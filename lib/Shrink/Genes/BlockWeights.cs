using Shrink.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Shrink.Genes;

/// <summary>
/// Every tensor of one pre-norm ViT block, under timm's block-relative names — the parameters of
/// <c>blocks.{l}</c> in a <see cref="Models.VisionTransformer"/>, here produced by a <see cref="LearngeneStack"/>
/// (W_l = Σ_n a(l, n)·A_n, on the autograd tape) instead of stored. <see cref="Forward"/> runs the block with them using
/// the same operations, in the same order, as <see cref="Models.Block"/>, so a model with these weights and a
/// <see cref="Models.VisionTransformer"/> holding copies of them compute the same numbers. The tensors live wherever the
/// learngenes live (any device); nothing here allocates on a fixed device.
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
    /// x ← x + proj(attention(qkv(LN₁(x))))      // softmax(q kᵀ/√d_h) v per head
    /// x ← x + fc2(GELU(fc1(LN₂(x))))            // exact erf GELU
    /// </code>
    /// </summary>
    public Tensor Forward(Tensor x, int numHeads, double eps) => ForwardIntermediates(x, numHeads, eps).Output;

    /// <summary>
    /// <see cref="Forward"/>, also returning the packed qkv projection (B, T, 3D), [q; k; v] along the last axis with heads
    /// contiguous, and, when <paramref name="returnAttention"/>, the attention probabilities (B, H, T, T), both on the
    /// autograd tape (as <see cref="Block.ForwardIntermediates"/>). The attention is <c>scaled_dot_product_attention</c>
    /// (fused) unless the probabilities are requested or <paramref name="fused"/> is false (the fused CPU kernel has no
    /// double backward); then it is the explicit softmax(q kᵀ/√d_h) v, with <see cref="Attention"/>'s operations.
    /// </summary>
    /// <exception cref="ArgumentException">x is not (B, T, D) with this block's D, or D is not a multiple of <paramref name="numHeads"/>.</exception>
    public LayerOutput ForwardIntermediates(Tensor x, int numHeads, double eps, bool returnAttention = false, bool fused = true)
    {
        ArgumentNullException.ThrowIfNull(x);
        long d = Norm1Weight.shape[0];
        if (x.dim() != 3 || x.shape[2] != d)
            throw new ArgumentException($"BlockWeights.Forward: expected tokens (B, T, {d}), got ({string.Join(", ", x.shape)}).");
        if (numHeads < 1 || d % numHeads != 0)
            throw new ArgumentException($"BlockWeights.Forward: the width {d} is not a multiple of {numHeads} heads.");
        long b = x.shape[0], t = x.shape[1], dh = d / numHeads;
        long[] normalized = [d];
        var h = F.layer_norm(x, normalized, Norm1Weight, Norm1Bias, eps);                 // (B, T, D)
        var packed = F.linear(h, QkvWeight, QkvBias);                                    // (B, T, 3D)
        var heads = packed.reshape(b, t, 3, numHeads, dh).permute(2, 0, 3, 1, 4);        // (3, B, H, T, d_h)
        Tensor q = heads[0], k = heads[1], v = heads[2];                                  // (B, H, T, d_h) each
        Tensor o, attention = null!;
        if (fused && !returnAttention)
            o = F.scaled_dot_product_attention(q, k, v);                                  // (B, H, T, d_h)
        else
        {
            attention = q.matmul(k.transpose(-2, -1)).mul(1.0 / Math.Sqrt(dh)).softmax(-1);   // (B, H, T, T)
            o = attention.matmul(v);                                                      // (B, H, T, d_h)
        }
        o = o.transpose(1, 2).reshape(b, t, d);                                           // (B, T, D)
        x = x + F.linear(o, ProjWeight, ProjBias);                                        // (B, T, D)
        h = F.layer_norm(x, normalized, Norm2Weight, Norm2Bias, eps);                     // (B, T, D)
        var hidden = F.gelu(F.linear(h, Fc1Weight, Fc1Bias));                             // (B, T, M)
        x = x + F.linear(hidden, Fc2Weight, Fc2Bias);                                     // (B, T, D)
        return new LayerOutput(x, packed, returnAttention ? attention : null);
    }
}
