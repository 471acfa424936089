using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>What <see cref="Attention.ForwardIntermediates"/> and <see cref="Block.ForwardIntermediates"/> return.</summary>
/// <param name="Output">The layer's output (B, N, D).</param>
/// <param name="Qkv">The packed qkv projection (B, N, 3·H·d_h), [q; k; v] along the last axis, heads contiguous.</param>
/// <param name="Attention">The attention probabilities (B, H, N, N) when requested, else null.</param>
public sealed record LayerOutput(Tensor Output, Tensor Qkv, Tensor? Attention);

/// <summary>
/// Multi-head self-attention (timm <c>Attention</c>): packed <c>qkv</c> Linear(D, 3D) laid out [q; k; v] along the
/// output axis with heads contiguous, softmax(q kᵀ/√d_h) v per head, then <c>proj</c> Linear(D, D). After head pruning
/// the inner width is H·d_h &lt; D: qkv is Linear(D, 3·H·d_h) and proj Linear(H·d_h, D), d_h unchanged.
/// <para>
/// The product runs in libtorch's fused <c>scaled_dot_product_attention</c> unless the probabilities are asked for,
/// attention dropout is active, or <see cref="FusedAttention"/> is off; then it runs explicitly. The fused CPU kernel has
/// no double backward, so exact Hessian-vector products switch it off.
/// </para>
/// </summary>
public sealed class Attention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Dropout attn_drop;
    private readonly Linear proj;
    private readonly Dropout proj_drop;
    private readonly float _attnDrop;

    /// <summary>Packed query/key/value projection.</summary>
    public Linear Qkv => qkv;
    /// <summary>Output projection.</summary>
    public Linear Proj => proj;
    /// <summary>Number of heads H.</summary>
    public int NumHeads { get; }
    /// <summary>Width of one head d_h (timm <c>head_dim</c>).</summary>
    public int HeadDim { get; }
    /// <summary>Inner width H·d_h (D for an unpruned layer).</summary>
    public int InnerDim => NumHeads * HeadDim;
    /// <summary>Use the fused kernel when nothing needs the probabilities (default true); false always runs the explicit softmax path, which has a double backward.</summary>
    public bool FusedAttention { get; set; } = true;

    /// <summary>
    /// Creates the layer for width <paramref name="dim"/> with <paramref name="numHeads"/> heads of width
    /// <paramref name="headDim"/> (0, the default: dim / numHeads as in timm; a pruned layer passes the original d_h).
    /// </summary>
    public Attention(int dim, int numHeads, bool qkvBias = true, float attnDrop = 0f, float projDrop = 0f, int headDim = 0) : base(nameof(Attention))
    {
        if (numHeads < 1) throw new ArgumentException($"Attention: num_heads must be ≥ 1, got {numHeads}.");
        if (headDim == 0 && dim % numHeads != 0) throw new ArgumentException($"Attention: dim {dim} is not a multiple of num_heads {numHeads}.");
        if (headDim < 0) throw new ArgumentException($"Attention: head_dim must be ≥ 0 (0 = dim / num_heads), got {headDim}.");
        NumHeads = numHeads; HeadDim = headDim == 0 ? dim / numHeads : headDim; _attnDrop = attnDrop;
        qkv = nn.Linear(dim, 3 * InnerDim, hasBias: qkvBias);
        attn_drop = nn.Dropout(attnDrop);
        proj = nn.Linear(InnerDim, dim);
        proj_drop = nn.Dropout(projDrop);
        RegisterComponents();
    }

    /// <summary>(B, N, D) → (B, N, D).</summary>
    public override Tensor forward(Tensor x) => ForwardIntermediates(x).Output;

    /// <summary>
    /// (B, N, D) → the output (B, N, D), the packed qkv projection (B, N, 3·H·d_h) and, with
    /// <paramref name="returnAttention"/>, the probabilities (B, H, N, N) — all on the autograd tape, so attention and
    /// relation distillation train through them.
    /// </summary>
    public LayerOutput ForwardIntermediates(Tensor x, bool returnAttention = false)
    {
        long b = x.shape[0], n = x.shape[1];
        var packed = qkv.forward(x);                                                       // (B, N, 3·H·d_h)
        var heads = packed.reshape(b, n, 3, NumHeads, HeadDim).permute(2, 0, 3, 1, 4);   // (3, B, H, N, d_h)
        Tensor q = heads[0], k = heads[1], v = heads[2];                                   // (B, H, N, d_h)
        Tensor o, p = null!;
        if (FusedAttention && !returnAttention && !(training && _attnDrop > 0))
            o = nn.functional.scaled_dot_product_attention(q, k, v);                       // (B, H, N, d_h)
        else
        {
            p = q.matmul(k.transpose(-2, -1)).mul(1.0 / Math.Sqrt(HeadDim)).softmax(-1);   // (B, H, N, N)
            o = attn_drop.forward(p).matmul(v);                                            // (B, H, N, d_h)
        }
        var merged = o.transpose(1, 2).reshape(b, n, InnerDim);                            // (B, N, H·d_h)
        var y = proj_drop.forward(proj.forward(merged));                                   // (B, N, D)
        return new LayerOutput(y, packed, returnAttention ? p : null);
    }
}
