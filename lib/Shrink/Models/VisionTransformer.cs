using Shrink.Tensors;
using Shrink.Tensors.Nn;
using F = Shrink.Tensors.Functional;

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
}

/// <summary>
/// Splits images into non-overlapping p×p patches and embeds each linearly (timm <c>PatchEmbed</c>):
/// a Conv2d with kernel = stride = p, weight <c>proj.weight</c> (D, C, p, p). Computed as patchify + one GEMM,
/// which is the same arithmetic as the convolution with no im2col buffer.
/// </summary>
public sealed class PatchEmbed : Module<Tensor, Tensor>
{
    /// <summary>The patch projection (timm name <c>proj</c>).</summary>
    public Conv2d Proj { get; }
    /// <summary>Patch side p.</summary>
    public int PatchSize { get; }

    /// <summary>Creates the embedding for p×p patches of <paramref name="inChannels"/>-channel images into <paramref name="embedDim"/> features.</summary>
    public PatchEmbed(int patchSize, int inChannels, int embedDim, Generator? generator = null)
    {
        PatchSize = patchSize;
        Proj = RegisterModule("proj", new Conv2d(inChannels, embedDim, patchSize, stride: patchSize, generator: generator));
    }

    /// <summary>(B, C, H, W) → (B, N, D), N = (H/p)(W/p), patches in row-major order.</summary>
    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != Proj.InChannels || x.Shape[2] % PatchSize != 0 || x.Shape[3] % PatchSize != 0)
            throw new ArgumentException($"PatchEmbed: expected images (B, {Proj.InChannels}, H, W) with H and W multiples of {PatchSize}, got {ShapeUtil.Format([.. x.Shape])}.");
        int b = x.Shape[0], c = x.Shape[1], gh = x.Shape[2] / PatchSize, gw = x.Shape[3] / PatchSize, p = PatchSize;
        var patches = x.Reshape(b, c, gh, p, gw, p)        // (B, C, H/p, p, W/p, p)
            .Permute(0, 2, 4, 1, 3, 5)                      // (B, H/p, W/p, C, p, p)
            .Reshape(b, gh * gw, c * p * p);                // (B, N, C·p·p)
        var w = Proj.Weight.Reshape(Proj.OutChannels, c * p * p);  // (D, C·p·p), a view
        return F.Linear(patches, w, Proj.Bias);             // (B, N, D)
    }
}

/// <summary>
/// Multi-head self-attention (timm <c>Attention</c>): packed <c>qkv</c> Linear(D, 3D) laid out [q; k; v] along the
/// output axis with heads contiguous, softmax(q kᵀ/√d_h) v per head, then <c>proj</c> Linear(D, D). After head pruning
/// the inner width is H·d_h &lt; D: qkv is Linear(D, 3·H·d_h) and proj Linear(H·d_h, D), d_h unchanged.
/// </summary>
public sealed class Attention : Module<Tensor, Tensor>
{
    /// <summary>Packed query/key/value projection.</summary>
    public Linear Qkv { get; }
    /// <summary>Output projection.</summary>
    public Linear Proj { get; }
    /// <summary>Number of heads H.</summary>
    public int NumHeads { get; }
    /// <summary>Width of one head d_h (timm <c>head_dim</c>).</summary>
    public int HeadDim { get; }
    /// <summary>Inner width H·d_h (D for an unpruned layer).</summary>
    public int InnerDim => NumHeads * HeadDim;
    private readonly float _attnDrop;
    private readonly Dropout _projDrop;

    /// <summary>
    /// Creates the layer for width <paramref name="dim"/> with <paramref name="numHeads"/> heads of width
    /// <paramref name="headDim"/> (0, the default: dim / numHeads as in timm; a pruned layer passes the original d_h).
    /// </summary>
    public Attention(int dim, int numHeads, bool qkvBias = true, float attnDrop = 0f, float projDrop = 0f, Generator? generator = null, int headDim = 0)
    {
        if (numHeads < 1) throw new ArgumentException($"Attention: num_heads must be ≥ 1, got {numHeads}.");
        if (headDim == 0 && dim % numHeads != 0) throw new ArgumentException($"Attention: dim {dim} is not a multiple of num_heads {numHeads}.");
        if (headDim < 0) throw new ArgumentException($"Attention: head_dim must be ≥ 0 (0 = dim / num_heads), got {headDim}.");
        NumHeads = numHeads; HeadDim = headDim == 0 ? dim / numHeads : headDim; _attnDrop = attnDrop;
        Qkv = RegisterModule("qkv", new Linear(dim, 3 * InnerDim, qkvBias, generator));
        Proj = RegisterModule("proj", new Linear(InnerDim, dim, true, generator));
        _projDrop = RegisterModule("proj_drop", new Dropout(projDrop));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Forward(x, out _);

    /// <summary>
    /// (B, N, D) → (B, N, D); <paramref name="attention"/> receives the probabilities (B, H, N, N) when requested.
    /// They stay on the autograd tape, so attention-distillation losses can train through them.
    /// </summary>
    public Tensor Forward(Tensor x, out Tensor? attention, bool returnAttention = false) => Forward(x, out attention, out _, returnAttention, false);

    /// <summary>
    /// As <see cref="Forward(Tensor, out Tensor?, bool)"/>, and <paramref name="qkv"/> receives the packed projection
    /// output (B, N, 3D) — [q; k; v] along the last axis, heads contiguous — when <paramref name="returnQkv"/>; it stays
    /// on the autograd tape (MiniLMv2-style relation distillation reads q, k and v from it).
    /// </summary>
    public Tensor Forward(Tensor x, out Tensor? attention, out Tensor? qkv, bool returnAttention, bool returnQkv)
    {
        int b = x.Shape[0], n = x.Shape[1], h = NumHeads, dh = HeadDim, d = InnerDim;
        var packed = Qkv.Forward(x);                        // (B, N, 3·H·d_h), [q; k; v] with heads contiguous
        qkv = returnQkv ? packed : null;
        Tensor o;
        if (_attnDrop > 0 && Training)
        {
            // Dropout on the probabilities needs them as a tensor of their own: the unfused path.
            var heads = packed.Reshape(b, n, 3, h, dh).Permute(2, 0, 3, 1, 4);      // (3, B, H, N, d_h)
            Tensor q = heads.Select(0, 0), k = heads.Select(0, 1), v = heads.Select(0, 2);
            var p = (q.MatMul(k.MT) * (1f / MathF.Sqrt(dh))).Softmax(-1);          // (B, H, N, N)
            attention = returnAttention ? p : null;
            o = F.Dropout(p, _attnDrop, true).MatMul(v)             // (B, H, N, d_h)
                .Transpose(1, 2).Reshape(b, n, d);                               // (B, N, H·d_h)
        }
        else
        {
            // Fused: per (batch, head) slice, scores, softmax and P·v in cache, reading q, k, v from qkv in place.
            (o, attention) = F.ScaledDotProductAttentionPacked(packed, h, returnWeights: returnAttention);   // (B, N, D)
        }
        return _projDrop.Forward(Proj.Forward(o));
    }
}

/// <summary>The transformer MLP (timm <c>Mlp</c>): fc1 → GELU (exact erf) → dropout → fc2 → dropout.</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    /// <summary>D → hidden.</summary>
    public Linear Fc1 { get; }
    /// <summary>hidden → D.</summary>
    public Linear Fc2 { get; }
    private readonly Dropout _drop;

    /// <summary>Creates the MLP.</summary>
    public Mlp(int dim, int hidden, float drop = 0f, Generator? generator = null)
    {
        Fc1 = RegisterModule("fc1", new Linear(dim, hidden, true, generator));
        Fc2 = RegisterModule("fc2", new Linear(hidden, dim, true, generator));
        _drop = RegisterModule("drop", new Dropout(drop));
    }

    /// <summary>(…, D) → (…, D).</summary>
    public override Tensor Forward(Tensor x) => _drop.Forward(Fc2.Forward(_drop.Forward(Fc1.Forward(x).Gelu())));
}

/// <summary>
/// A pre-norm transformer block (timm <c>Block</c>): x ← x + DropPath(Attn(LN₁(x))); x ← x + DropPath(MLP(LN₂(x))).
/// </summary>
public sealed class Block : Module<Tensor, Tensor>
{
    /// <summary>LayerNorm before attention.</summary>
    public LayerNorm Norm1 { get; }
    /// <summary>Self-attention.</summary>
    public Attention Attn { get; }
    /// <summary>LayerNorm before the MLP.</summary>
    public LayerNorm Norm2 { get; }
    /// <summary>Feed-forward network.</summary>
    public Mlp Mlp { get; }
    /// <summary>Stochastic-depth rate of this block.</summary>
    public float DropPath { get; }

    /// <summary>Creates a block; <paramref name="headDim"/> 0 means dim / numHeads (see <see cref="Attention"/>).</summary>
    public Block(int dim, int numHeads, int mlpHidden, bool qkvBias, float drop, float attnDrop, float dropPath, float eps, Generator? generator = null, int headDim = 0)
    {
        Norm1 = RegisterModule("norm1", new LayerNorm(dim, eps));
        Attn = RegisterModule("attn", new Attention(dim, numHeads, qkvBias, attnDrop, drop, generator, headDim));
        Norm2 = RegisterModule("norm2", new LayerNorm(dim, eps));
        Mlp = RegisterModule("mlp", new Mlp(dim, mlpHidden, drop, generator));
        DropPath = dropPath;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => Forward(x, out _);

    /// <summary>(B, N, D) → (B, N, D), optionally returning the attention probabilities (B, H, N, N).</summary>
    public Tensor Forward(Tensor x, out Tensor? attention, bool returnAttention = false) => Forward(x, out attention, out _, returnAttention, false);

    /// <summary>(B, N, D) → (B, N, D), optionally returning the attention probabilities (B, H, N, N) and the packed qkv projection (B, N, 3D).</summary>
    public Tensor Forward(Tensor x, out Tensor? attention, out Tensor? qkv, bool returnAttention, bool returnQkv)
    {
        x = x + ApplyDropPath(Attn.Forward(Norm1.Forward(x), out attention, out qkv, returnAttention, returnQkv));
        return x + ApplyDropPath(Mlp.Forward(Norm2.Forward(x)));
    }

    /// <summary>Stochastic depth: in training, zero the whole residual branch of each sample with probability p and scale survivors by 1/(1 − p).</summary>
    private Tensor ApplyDropPath(Tensor branch)
    {
        if (!Training || DropPath == 0f) return branch;
        var g = Generator.Default;
        int b = branch.Shape[0];
        var keep = new float[b];
        for (int i = 0; i < b; i++) keep[i] = g.NextDouble() >= DropPath ? 1f / (1f - DropPath) : 0f;
        var shape = new int[branch.Rank]; Array.Fill(shape, 1); shape[0] = b;
        return branch * Tensor.FromArray(keep, shape);
    }
}

/// <summary>
/// What <see cref="VisionTransformer.ForwardFeatures"/> returns: head logits and, on request, per-block tokens, attention
/// maps and packed qkv projections.
/// </summary>
/// <param name="Logits">The class head's logits (B, K).</param>
/// <param name="DistillationLogits">The first distillation head's logits (B, K) (<c>head_dist</c>), or null.</param>
/// <param name="BlockOutputs">Every block's output tokens (B, T, D) when requested, else empty.</param>
/// <param name="Attentions">Every block's attention probabilities (B, H, T, T) when requested, else empty.</param>
public sealed record VitOutput(Tensor Logits, Tensor? DistillationLogits, IReadOnlyList<Tensor> BlockOutputs, IReadOnlyList<Tensor> Attentions)
{
    /// <summary>Every distillation head's logits (B, K), in token order (the first is <see cref="DistillationLogits"/>); empty for a model without distillation tokens.</summary>
    public IReadOnlyList<Tensor> DistillationHeads { get; init; } = DistillationLogits is null ? [] : [DistillationLogits];

    /// <summary>Every block's packed qkv projection (B, T, 3D) — [q; k; v] along the last axis, heads contiguous — when requested, else empty.</summary>
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

/// <summary>
/// Vision Transformer (Dosovitskiy et al.; timm <c>VisionTransformer</c>, with DeiT's distillation token as an option),
/// parameter names as in timm: <c>patch_embed.proj</c>, <c>cls_token</c>, <c>dist_token</c>, <c>pos_embed</c>,
/// <c>blocks.{i}.…</c>, <c>norm</c>, <c>head</c>, <c>head_dist</c>.
/// <code>
/// tokens = [cls, (dist, dist_1, …), patch_embed(x)] + pos_embed   // (B, T, D), T = N + prefix tokens
/// tokens = blocks(tokens); tokens = norm(tokens)
/// logits = head(tokens[:, 0]); logits_dist = head_dist(tokens[:, 1]); logits_dist_m = head_dist_m(tokens[:, 1 + m])
/// </code>
/// Several distillation tokens (<see cref="VitConfig.NumDistillationTokens"/>) make a Co-advise student: one token and
/// head per teacher, the prediction averaging all heads.
/// The seed fixes the initial weights; dropout, attention dropout and stochastic depth draw from
/// <see cref="Generator.Default"/> when they run, which the trainer reseeds every step so a resumed run is bit-identical.
/// <see cref="Forward"/> returns <see cref="VitOutput.Prediction"/>: in a distilled model that is the average of
/// the two heads (DeiT at inference). Distillation losses need both heads: use <see cref="ForwardFeatures"/>.
/// </summary>
public sealed class VisionTransformer : Module<Tensor, Tensor>, IModelCost
{
    /// <summary>The configuration the model was built from.</summary>
    public VitConfig Config { get; }
    /// <summary>Patch embedding.</summary>
    public PatchEmbed PatchEmbed { get; }
    /// <summary>Class token (1, 1, D), or null.</summary>
    public Parameter? ClsToken { get; }
    /// <summary>The first distillation token (1, 1, D) (<c>dist_token</c>), or null.</summary>
    public Parameter? DistToken { get; }
    /// <summary>Every distillation token (1, 1, D) in sequence order: <c>dist_token</c>, <c>dist_token_1</c>, …; empty without distillation tokens.</summary>
    public IReadOnlyList<Parameter> DistTokens { get; }
    /// <summary>Learned position embedding (1, N + prefix tokens, D).</summary>
    public Parameter PosEmbed { get; }
    /// <summary>The transformer blocks.</summary>
    public ModuleList<Block> Blocks { get; }
    /// <summary>Final LayerNorm.</summary>
    public LayerNorm Norm { get; }
    /// <summary>Classification head on the class token (or pooled tokens).</summary>
    public Linear Head { get; }
    /// <summary>The first distillation head (on <c>dist_token</c>), or null.</summary>
    public Linear? HeadDist { get; }
    /// <summary>Every distillation head in token order: <c>head_dist</c>, <c>head_dist_1</c>, …; empty without distillation tokens.</summary>
    public IReadOnlyList<Linear> HeadDists { get; }
    private readonly Dropout _posDrop;

    /// <summary>Builds and initialises the model (timm's init: trunc-normal(0.02) for tokens, position embedding and Linear weights, zero biases, LayerNorm 1/0).</summary>
    public VisionTransformer(VitConfig config, ulong seed = 0)
    {
        Config = config;
        if (config.ImageSize % config.PatchSize != 0) throw new ArgumentException($"VisionTransformer: image size {config.ImageSize} is not a multiple of patch size {config.PatchSize}.");
        if (!config.ClassToken && config.DistillationTokenCount > 0) throw new ArgumentException("VisionTransformer: a distillation token needs the class token.");
        if (config.NumDistillationTokens < 0) throw new ArgumentException($"VisionTransformer: NumDistillationTokens must be ≥ 0, got {config.NumDistillationTokens}.");
        var g = new Generator(seed);
        int d = config.EmbedDim;
        PatchEmbed = RegisterModule("patch_embed", new PatchEmbed(config.PatchSize, config.InChannels, d, g));
        ClsToken = config.ClassToken ? RegisterParameter("cls_token", Tensor.Zeros(1, 1, d)) : null;
        int distCount = config.DistillationTokenCount;
        var distTokens = new List<Parameter>();
        for (int m = 0; m < distCount; m++) distTokens.Add(RegisterParameter(DistTokenName(m), Tensor.Zeros(1, 1, d)));
        DistTokens = distTokens;
        DistToken = distCount > 0 ? distTokens[0] : null;
        PosEmbed = RegisterParameter("pos_embed", Tensor.Zeros(1, config.NumPatches + config.NumPrefixTokens, d));
        _posDrop = RegisterModule("pos_drop", new Dropout(config.DropRate));
        if (config.BlockNumHeads is { } bh && (bh.Count != config.Depth || bh.Any(h => h < 1)))
            throw new ArgumentException($"VisionTransformer: BlockNumHeads must list {config.Depth} head counts ≥ 1, got [{string.Join(", ", bh)}].");
        if (config.BlockMlpHidden is { } bm && (bm.Count != config.Depth || bm.Any(m => m < 1)))
            throw new ArgumentException($"VisionTransformer: BlockMlpHidden must list {config.Depth} widths ≥ 1, got [{string.Join(", ", bm)}].");
        if (config.EmbedDim % config.NumHeads != 0) throw new ArgumentException($"VisionTransformer: EmbedDim {config.EmbedDim} is not a multiple of NumHeads {config.NumHeads}.");
        var blocks = new List<Block>();
        for (int i = 0; i < config.Depth; i++)
        {
            float dpr = config.Depth > 1 ? config.DropPathRate * i / (config.Depth - 1) : config.DropPathRate;
            blocks.Add(new Block(d, config.HeadsOf(i), config.MlpHiddenOf(i), config.QkvBias, config.DropRate, config.AttnDropRate, dpr, config.LayerNormEps, g, config.HeadDim));
        }
        Blocks = RegisterModule("blocks", new ModuleList<Block>(blocks));
        Norm = RegisterModule("norm", new LayerNorm(d, config.LayerNormEps));
        Head = RegisterModule("head", new Linear(d, config.NumClasses, true, g));
        var headDists = new List<Linear>();
        for (int m = 0; m < distCount; m++) headDists.Add(RegisterModule(HeadDistName(m), new Linear(d, config.NumClasses, true, g)));
        HeadDists = headDists;
        HeadDist = distCount > 0 ? headDists[0] : null;

        // timm init_weights: trunc_normal(std=.02) on pos_embed, cls/dist tokens (timm: cls 1e-6 normal; DeiT: .02), Linear weights; zero biases.
        Init.TruncNormal_(PosEmbed, std: 0.02, generator: g);
        if (ClsToken is not null) Init.TruncNormal_(ClsToken, std: 0.02, generator: g);
        foreach (var token in DistTokens) Init.TruncNormal_(token, std: 0.02, generator: g);
        foreach (var m in Modules())
            if (m is Linear lin)
            {
                Init.TruncNormal_(lin.Weight, std: 0.02, generator: g);
                if (lin.Bias is not null) Init.Zeros_(lin.Bias);
            }
    }

    /// <summary>Parameter name of distillation token <paramref name="m"/> (0-based): <c>dist_token</c> for the first (timm), <c>dist_token_{m}</c> after it.</summary>
    public static string DistTokenName(int m) => m == 0 ? "dist_token" : $"dist_token_{m}";

    /// <summary>Module name of distillation head <paramref name="m"/> (0-based): <c>head_dist</c> for the first (timm), <c>head_dist_{m}</c> after it.</summary>
    public static string HeadDistName(int m) => m == 0 ? "head_dist" : $"head_dist_{m}";

    /// <summary>Images (B, C, H, W) → prediction logits (B, classes).</summary>
    public override Tensor Forward(Tensor x) => ForwardFeatures(x).Prediction;

    /// <summary>
    /// Parameters from the configuration: patch projection D·C·p² + D; tokens and position embedding (T·D with
    /// T = N + prefix tokens); per block 2 LayerNorms (4D), qkv 3D² (+3D), proj D² + D, fc1 D·M + M, fc2 M·D + D;
    /// final norm 2D; each head D·K + K. A pruned block with h heads and hidden width M_i has inner width
    /// I = h·d_h in place of D in qkv (3·I·D + 3I) and proj (I·D + D), and M_i in place of M.
    /// </summary>
    public long AnalyticParameterCount
    {
        get
        {
            var c = Config;
            int d = c.EmbedDim, t = c.NumPatches + c.NumPrefixTokens, heads = 1 + c.DistillationTokenCount;
            long blocks = 0;
            for (int i = 0; i < c.Depth; i++)
            {
                int inner = c.HeadsOf(i) * c.HeadDim, m = c.MlpHiddenOf(i);
                blocks += 4L * d + LayerCost.LinearParameters(d, 3 * inner, c.QkvBias) + LayerCost.LinearParameters(inner, d)
                          + LayerCost.LinearParameters(d, m) + LayerCost.LinearParameters(m, d);
            }
            return LayerCost.Conv2dParameters(c.InChannels, d, c.PatchSize) + (long)c.NumPrefixTokens * d + (long)t * d
                   + blocks + 2L * d + heads * LayerCost.LinearParameters(d, c.NumClasses);
        }
    }

    /// <summary>
    /// Forward FLOPs (2 × multiply-adds) for <paramref name="batch"/> images: patch projection N·D·C·p²; per block over
    /// T tokens: qkv T·D·3D, scores T²·D, probabilities·values T²·D, proj T·D², MLP 2·T·D·M; heads D·K each.
    /// A pruned block uses its inner width I = h·d_h (qkv T·D·3I, scores and values T²·I each, proj T·I·D) and its own
    /// hidden width M_i. Norms, softmax, GELU and residual adds are not counted (as for the other models).
    /// </summary>
    public long Flops(int batch = 1)
    {
        var c = Config;
        long d = c.EmbedDim, t = c.NumPatches + c.NumPrefixTokens, heads = 1 + c.DistillationTokenCount;
        long macs = c.NumPatches * d * c.InChannels * c.PatchSize * c.PatchSize + heads * d * c.NumClasses;
        for (int i = 0; i < c.Depth; i++)
        {
            long inner = (long)c.HeadsOf(i) * c.HeadDim, m = c.MlpHiddenOf(i);
            macs += t * d * 3 * inner + 2 * t * t * inner + t * inner * d + 2 * t * d * m;
        }
        return 2 * macs * batch;
    }

    /// <summary>
    /// Images (B, C, H, W) → every head's logits and, when requested, every block's output tokens (B, T, D), attention
    /// probabilities (B, H, T, T) and packed qkv projections (B, T, 3D) — the activations that feature, attention and
    /// relation distillation read. All of them stay on the autograd tape. Asking for more changes no value computed.
    /// </summary>
    public VitOutput ForwardFeatures(Tensor x, bool returnBlockOutputs = false, bool returnAttentions = false, bool returnQkv = false)
    {
        int b = x.Shape[0];
        var tokens = PatchEmbed.Forward(x);                                      // (B, N, D)
        if (Config.NumPrefixTokens > 0)
        {
            var prefix = new List<Tensor>();
            if (ClsToken is not null) prefix.Add(ClsToken.Expand(b, -1, -1));   // (B, 1, D)
            foreach (var token in DistTokens) prefix.Add(token.Expand(b, -1, -1));
            prefix.Add(tokens);
            tokens = F.Concat(prefix, axis: 1);                                  // (B, T, D)
        }
        tokens = _posDrop.Forward(tokens + PosEmbed);
        var outputs = new List<Tensor>(); var attentions = new List<Tensor>(); var qkvs = new List<Tensor>();
        foreach (var block in Blocks)
        {
            tokens = block.Forward(tokens, out var attn, out var qkv, returnAttentions, returnQkv);
            if (returnBlockOutputs) outputs.Add(tokens);
            if (attn is not null) attentions.Add(attn);
            if (qkv is not null) qkvs.Add(qkv);
        }
        tokens = Norm.Forward(tokens);                                           // (B, T, D)
        var pooled = ClsToken is not null ? tokens.Select(1, 0) : tokens.Mean(1);   // (B, D)
        var logits = Head.Forward(pooled);                                       // (B, classes)
        var distHeads = new Tensor[HeadDists.Count];
        for (int m = 0; m < distHeads.Length; m++) distHeads[m] = HeadDists[m].Forward(tokens.Select(1, 1 + m));   // (B, classes)
        return new VitOutput(logits, distHeads.Length > 0 ? distHeads[0] : null, outputs, attentions) { DistillationHeads = distHeads, Qkv = qkvs };
    }
}

/// <summary>
/// Named ViT configurations in timm's grammar <c>{family}_{size}_patch{p}_{image}</c>, sized for 28×28 images.
/// <list type="table">
/// <item><term>vit_nano_patch7_28</term><description>D 64, depth 4, 4 heads, MLP 128 — the benchmark's model S (~0.1M parameters).</description></item>
/// <item><term>vit_micro_patch4_28</term><description>D 128, depth 6, 4 heads, MLP 256 (~0.8M parameters): the ≤ 1M model for Fashion-MNIST.</description></item>
/// <item><term>vit_micro_patch7_28</term><description>the same widths on 7×7 patches (16 patches + class token, ~0.8M parameters): about 3× fewer FLOPs per image.</description></item>
/// <item><term>vit_tiny_patch4_28</term><description>ViT-Tiny widths: D 192, depth 12, 3 heads, MLP 768 — the benchmark's model M (~5.4M parameters).</description></item>
/// <item><term>deit_*_distilled_*</term><description>the same widths with DeiT's distillation token and head.</description></item>
/// </list>
/// </summary>
public static class VitModels
{
    private static readonly Dictionary<string, VitConfig> Registry = new()
    {
        ["vit_nano_patch7_28"] = new() { PatchSize = 7, EmbedDim = 64, Depth = 4, NumHeads = 4, MlpRatio = 2 },
        ["vit_micro_patch4_28"] = new() { PatchSize = 4, EmbedDim = 128, Depth = 6, NumHeads = 4, MlpRatio = 2 },
        ["vit_micro_patch7_28"] = new() { PatchSize = 7, EmbedDim = 128, Depth = 6, NumHeads = 4, MlpRatio = 2 },
        ["vit_tiny_patch4_28"] = new() { PatchSize = 4, EmbedDim = 192, Depth = 12, NumHeads = 3, MlpRatio = 4 },
        ["deit_nano_distilled_patch7_28"] = new() { PatchSize = 7, EmbedDim = 64, Depth = 4, NumHeads = 4, MlpRatio = 2, DistillationToken = true },
        ["deit_micro_distilled_patch4_28"] = new() { PatchSize = 4, EmbedDim = 128, Depth = 6, NumHeads = 4, MlpRatio = 2, DistillationToken = true },
        ["deit_tiny_distilled_patch4_28"] = new() { PatchSize = 4, EmbedDim = 192, Depth = 12, NumHeads = 3, MlpRatio = 4, DistillationToken = true },
    };

    /// <summary>The registered names.</summary>
    public static IReadOnlyCollection<string> Names => Registry.Keys;

    /// <summary>The configuration registered as <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static VitConfig Config(string name) =>
        Registry.TryGetValue(name, out var c) ? c : throw new ArgumentException($"Unknown ViT '{name}'. Known: {string.Join(", ", Registry.Keys)}.");

    /// <summary>Builds the model registered as <paramref name="name"/>, optionally adjusted (e.g. <c>c =&gt; c with { NumClasses = 100 }</c>).</summary>
    public static VisionTransformer Create(string name, ulong seed = 0, Func<VitConfig, VitConfig>? configure = null)
    {
        var config = Config(name);
        return new VisionTransformer(configure is null ? config : configure(config), seed);
    }
}
