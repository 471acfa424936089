namespace Shrink.Models;

/// <summary>
/// Hyperparameters of a <see cref="VisionTransformer"/> (timm's arguments, C# casing). Defaults describe a
/// ViT-Tiny-like model for 28×28 single-channel images with 4×4 patches.
/// </summary>
public sealed record VitConfig
{
    /// <summary>Input side length (square images).</summary>
    public int ImageSize { get; init; } = 28;
    /// <summary>Patch side length; ImageSize must be a multiple of it.</summary>
    public int PatchSize { get; init; } = 4;
    /// <summary>Input channels (1 for Fashion-MNIST, 3 for CIFAR-10).</summary>
    public int InChannels { get; init; } = 1;
    /// <summary>Number of classes of the classification head(s).</summary>
    public int NumClasses { get; init; } = 10;
    /// <summary>Token width D.</summary>
    public int EmbedDim { get; init; } = 192;
    /// <summary>Number of transformer blocks.</summary>
    public int Depth { get; init; } = 12;
    /// <summary>Attention heads; EmbedDim must be a multiple of it.</summary>
    public int NumHeads { get; init; } = 3;
    /// <summary>MLP hidden width as a multiple of EmbedDim (timm <c>mlp_ratio</c>).</summary>
    public double MlpRatio { get; init; } = 4.0;
    /// <summary>Bias in the packed qkv projection (timm default true).</summary>
    public bool QkvBias { get; init; } = true;
    /// <summary>Prepend a learned class token and classify from it (otherwise: global average pooling of the patch tokens).</summary>
    public bool ClassToken { get; init; } = true;
    /// <summary>DeiT: a learned distillation token with its own head <c>head_dist</c>.</summary>
    public bool DistillationToken { get; init; }
    /// <summary>
    /// Co-advise / multi-teacher students: the number of distillation tokens, each with its own head (one per teacher).
    /// 0 (default) means "as <see cref="DistillationToken"/> says" (0 or 1); a value ≥ 1 gives that many tokens whatever
    /// <see cref="DistillationToken"/> says. The first token and head keep timm's names <c>dist_token</c> and
    /// <c>head_dist</c>; token m ≥ 1 (0-based) is <c>dist_token_{m}</c> with head <c>head_dist_{m}</c>. Tokens sit in
    /// this order right after the class token.
    /// </summary>
    public int NumDistillationTokens { get; init; }
    /// <summary>Dropout after the position embedding and in the MLP (timm <c>drop_rate</c>).</summary>
    public float DropRate { get; init; }
    /// <summary>Dropout on the attention probabilities (timm <c>attn_drop_rate</c>).</summary>
    public float AttnDropRate { get; init; }
    /// <summary>Stochastic depth: the drop-path rate rises linearly from 0 at block 0 to this value at the last block (timm <c>drop_path_rate</c>).</summary>
    public float DropPathRate { get; init; }
    /// <summary>LayerNorm epsilon; timm's ViTs use 1e−6.</summary>
    public float LayerNormEps { get; init; } = 1e-6f;

    /// <summary>
    /// Heads of each block after structured pruning (<see cref="Pruning.StructuredPruning"/>), or null (default) when
    /// every block has <see cref="NumHeads"/>. Each head keeps the width <see cref="HeadDim"/> = EmbedDim / NumHeads, so a
    /// block with h heads has qkv (3·h·d_h, D) and proj (D, h·d_h).
    /// </summary>
    public IReadOnlyList<int>? BlockNumHeads { get; init; }
    /// <summary>MLP hidden width of each block after structured pruning, or null (default) when every block has <see cref="MlpHidden"/>.</summary>
    public IReadOnlyList<int>? BlockMlpHidden { get; init; }

    /// <summary>Width of one attention head d_h = EmbedDim / NumHeads (timm's <c>head_dim</c>), unchanged by head pruning.</summary>
    public int HeadDim => EmbedDim / NumHeads;
    /// <summary>Number of heads of block <paramref name="block"/>: <see cref="BlockNumHeads"/>[block] or <see cref="NumHeads"/>.</summary>
    public int HeadsOf(int block) => BlockNumHeads is { } h ? h[block] : NumHeads;
    /// <summary>MLP hidden width of block <paramref name="block"/>: <see cref="BlockMlpHidden"/>[block] or <see cref="MlpHidden"/>.</summary>
    public int MlpHiddenOf(int block) => BlockMlpHidden is { } m ? m[block] : MlpHidden;

    /// <summary>Number of patch tokens N = (ImageSize / PatchSize)².</summary>
    public int NumPatches => (ImageSize / PatchSize) * (ImageSize / PatchSize);
    /// <summary>The number of distillation tokens (and distillation heads): <see cref="NumDistillationTokens"/> when ≥ 1, else 1 with <see cref="DistillationToken"/>, else 0.</summary>
    public int DistillationTokenCount => NumDistillationTokens > 0 ? NumDistillationTokens : DistillationToken ? 1 : 0;
    /// <summary>Class and distillation tokens in front of the patch tokens.</summary>
    public int NumPrefixTokens => (ClassToken ? 1 : 0) + DistillationTokenCount;
    /// <summary>MLP hidden width.</summary>
    public int MlpHidden => (int)(EmbedDim * MlpRatio);

    /// <summary>This configuration if it describes a buildable model.</summary>
    /// <exception cref="ArgumentException">A size that does not fit (the message names it): the image not a multiple of the
    /// patch, EmbedDim not a multiple of NumHeads, distillation tokens without the class token, per-block lists of the wrong
    /// length, a non-positive size or a rate outside [0, 1).</exception>
    public VitConfig Validate()
    {
        if (ImageSize < 1 || PatchSize < 1 || InChannels < 1 || NumClasses < 1 || EmbedDim < 1 || Depth < 1 || NumHeads < 1 || MlpRatio <= 0)
            throw new ArgumentException($"VitConfig: every size must be positive, got {this}.");
        if (ImageSize % PatchSize != 0) throw new ArgumentException($"VitConfig: image size {ImageSize} is not a multiple of patch size {PatchSize}.");
        if (EmbedDim % NumHeads != 0) throw new ArgumentException($"VitConfig: EmbedDim {EmbedDim} is not a multiple of NumHeads {NumHeads}.");
        if (NumDistillationTokens < 0) throw new ArgumentException($"VitConfig: NumDistillationTokens must be ≥ 0, got {NumDistillationTokens}.");
        if (!ClassToken && DistillationTokenCount > 0) throw new ArgumentException("VitConfig: a distillation token needs the class token.");
        if (BlockNumHeads is { } bh && (bh.Count != Depth || bh.Any(h => h < 1)))
            throw new ArgumentException($"VitConfig: BlockNumHeads must list {Depth} head counts ≥ 1, got [{string.Join(", ", bh)}].");
        if (BlockMlpHidden is { } bm && (bm.Count != Depth || bm.Any(m => m < 1)))
            throw new ArgumentException($"VitConfig: BlockMlpHidden must list {Depth} widths ≥ 1, got [{string.Join(", ", bm)}].");
        foreach (var (name, rate) in new[] { ("DropRate", DropRate), ("AttnDropRate", AttnDropRate), ("DropPathRate", DropPathRate) })
            if (!(rate >= 0f && rate < 1f)) throw new ArgumentException($"VitConfig: {name} must be in [0, 1), got {rate}.");
        if (!(LayerNormEps > 0f)) throw new ArgumentException($"VitConfig: LayerNormEps must be positive, got {LayerNormEps}.");
        return this;
    }
}
