using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>
/// A pre-norm transformer block (timm <c>Block</c>): x ← x + DropPath(Attn(LN₁(x))); x ← x + DropPath(MLP(LN₂(x))).
/// Stochastic depth (Huang et al. 2016) zeroes a sample's whole residual branch with probability p in training and
/// scales the survivors by 1/(1 − p), drawing from torch's default generator (reseeded every step by the trainer).
/// </summary>
public sealed class Block : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly Attention attn;
    private readonly LayerNorm norm2;
    private readonly Mlp mlp;

    /// <summary>LayerNorm before attention.</summary>
    public LayerNorm Norm1 => norm1;
    /// <summary>Self-attention.</summary>
    public Attention Attn => attn;
    /// <summary>LayerNorm before the MLP.</summary>
    public LayerNorm Norm2 => norm2;
    /// <summary>Feed-forward network.</summary>
    public Mlp Mlp => mlp;
    /// <summary>Stochastic-depth rate of this block.</summary>
    public float DropPath { get; }

    /// <summary>Creates a block; <paramref name="headDim"/> 0 means dim / numHeads (see <see cref="Attention"/>). Weights are set by <see cref="ModelInit.TimmVit"/>.</summary>
    public Block(int dim, int numHeads, int mlpHidden, bool qkvBias = true, float drop = 0f, float attnDrop = 0f, float dropPath = 0f,
        float eps = 1e-6f, int headDim = 0) : base(nameof(Block))
    {
        norm1 = nn.LayerNorm(dim, eps);
        attn = new Attention(dim, numHeads, qkvBias, attnDrop, drop, headDim);
        norm2 = nn.LayerNorm(dim, eps);
        mlp = new Mlp(dim, mlpHidden, drop);
        DropPath = dropPath;
        RegisterComponents();
    }

    /// <summary>(B, N, D) → (B, N, D).</summary>
    public override Tensor forward(Tensor x) => ForwardIntermediates(x).Output;

    /// <summary>(B, N, D) → the block's output (B, N, D), its attention's packed qkv (B, N, 3·H·d_h) and, on request, the attention probabilities (B, H, N, N).</summary>
    public LayerOutput ForwardIntermediates(Tensor x, bool returnAttention = false)
    {
        var a = attn.ForwardIntermediates(norm1.forward(x), returnAttention);   // (B, N, D)
        x = x + DropPathOf(a.Output);                                            // (B, N, D)
        x = x + DropPathOf(mlp.forward(norm2.forward(x)));                       // (B, N, D)
        return a with { Output = x };
    }

    /// <summary>Stochastic depth on a residual branch (B, …): in training, keep each sample with probability 1 − p and scale by 1/(1 − p).</summary>
    private Tensor DropPathOf(Tensor branch)
    {
        if (!training || DropPath == 0f) return branch;
        double keep = 1.0 - DropPath;
        var shape = new long[branch.dim()];
        Array.Fill(shape, 1L);
        shape[0] = branch.shape[0];
        var mask = empty(shape, dtype: branch.dtype, device: branch.device).bernoulli_(keep);   // (B, 1, …, 1)
        return branch * mask.div_(keep);
    }
}
