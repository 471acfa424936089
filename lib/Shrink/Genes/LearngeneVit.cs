using Shrink.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SeedMixer = Shrink.Torch.Seed;

namespace Shrink.Genes;

/// <summary>
/// A Vision Transformer of depth L whose blocks are generated from learngenes on every forward pass (the paper's
/// decomposed model, and the "w/ const" recomposed model):
/// <code>
/// tokens = [cls, patch_embed(x)] + pos_embed                    // (B, T, D), ordinary parameters
/// for l = 1 … L:  W_l = Σ_{n=1..k} a(l, n)·A_n;  tokens = block(tokens; W_l)   // a(l, n) = φ_{m(n)}((l − 1)/L), fixed
/// logits = head(norm(tokens)[:, 0])                              // ordinary parameters
/// </code>
/// The patch embedding, class token, position embedding, final norm and head are ordinary parameters with timm's names
/// (<c>patch_embed.proj.weight</c>, <c>cls_token</c>, <c>pos_embed</c>, <c>norm</c>, <c>head</c>); the learngenes are the child
/// <c>learngenes</c> (<see cref="LearngeneStack"/>: <c>learngenes.{n−1}.attn.qkv.weight</c> holds A_n's qkv weight). Only
/// the A_n and those ordinary parameters are stored and trained; the W_l exist only on the autograd tape, so gradients
/// reach the A_n through them. The block is timm's pre-norm block (<see cref="BlockWeights.Forward"/>) with the same
/// operations as <see cref="VisionTransformer"/>, so <see cref="Unroll"/> gives a <see cref="VisionTransformer"/> that
/// computes the same function.
/// <para>
/// Everything is device-agnostic: built on the CPU (a pure function of the seed), moved with <c>.to(device)</c>, and the
/// generated weights and coefficients follow the learngenes.
/// </para>
/// <para>
/// Supported configurations: class token or global average pooling; no distillation tokens, no dropout, no drop-path
/// (the constructor says so when asked for them).
/// </para>
/// </summary>
public sealed class LearngeneVit : nn.Module<Tensor, Tensor>, IModelCost
{
    /// <summary>The stream name of the embeddings' and head's generator in <see cref="Torch.Seed.Mix"/>: "GENE-VIT".</summary>
    public const ulong SeedStream = 0x47454E452D564954UL;

    // Fields named as timm's state dict; RegisterComponents registers them (own parameters first, then the children).
    private readonly PatchEmbed patch_embed;
    private readonly Parameter? cls_token;
    private readonly Parameter pos_embed;
    private readonly LearngeneStack learngenes;
    private readonly LayerNorm norm;
    private readonly Linear head;

    /// <summary>Builds the model with <paramref name="learngenes"/> learngenes (see <see cref="LearngeneStack"/> for their init) and timm's init of the rest, on the CPU.</summary>
    /// <param name="config">Width, heads, MLP ratio, patches, classes; <see cref="VitConfig.Depth"/> is L, the number of generated blocks.</param>
    /// <param name="learngenes">k ≥ 1.</param>
    /// <param name="basis">The coefficient basis (Chebyshev by default).</param>
    /// <param name="indexing">φ_n (paper, default) or φ_{n−1} (TLEG).</param>
    /// <param name="init">How A_n, n ≥ 2, starts.</param>
    /// <param name="seed">
    /// Seeds the embeddings, norm and head (one generator, <see cref="Torch.Seed.Generator(ulong, ReadOnlySpan{ulong})"/> of
    /// (seed, "GENE-VIT")) and each learngene (its own generator, <see cref="LearngeneStack.LearngeneSeed"/>).
    /// </param>
    /// <exception cref="ArgumentException">An unsupported or inconsistent configuration; the message names the setting.</exception>
    public LearngeneVit(VitConfig config, int learngenes, LearngeneBasis basis = LearngeneBasis.Chebyshev,
        LearngeneIndexing indexing = LearngeneIndexing.Paper, LearngeneInit init = LearngeneInit.SmallRandom, ulong seed = 0)
        : base(nameof(LearngeneVit))
    {
        ArgumentNullException.ThrowIfNull(config);
        Check(config);
        if (learngenes < 1) throw new ArgumentException($"LearngeneVit: at least one learngene is needed, got {learngenes}.");
        Config = config;
        int d = config.EmbedDim;
        patch_embed = new PatchEmbed(config.PatchSize, config.InChannels, d);
        cls_token = config.ClassToken ? new Parameter(zeros(1, 1, d)) : null;                        // (1, 1, D)
        pos_embed = new Parameter(zeros(1, config.NumPatches + config.NumPrefixTokens, d));          // (1, T, D)
        this.learngenes = new LearngeneStack(config, learngenes, basis, indexing, init, seed);
        norm = nn.LayerNorm(d, config.LayerNormEps);
        head = nn.Linear(d, config.NumClasses);
        RegisterComponents();
        InitOuter(SeedMixer.Generator(seed, SeedStream));
    }

    /// <summary>
    /// timm's init of everything outside the learngenes (<see cref="ModelInit.TimmVit"/>'s rules), drawn in this order:
    /// <c>pos_embed</c>, <c>cls_token</c> trunc-normal(0, 0.02); the patch projection PyTorch's default
    /// U(−1/√fan_in, 1/√fan_in); the head's weight trunc-normal(0, 0.02) and zero bias; the final norm γ = 1, β = 0.
    /// </summary>
    private void InitOuter(torch.Generator g)
    {
        using var _ = no_grad();
        ModelInit.TruncNormal(pos_embed, 0.02, g);
        if (cls_token is not null) ModelInit.TruncNormal(cls_token, 0.02, g);
        ModelInit.PyTorchDefault(patch_embed.Proj.weight!, patch_embed.Proj.bias, g);
        ModelInit.TruncNormal(head.weight!, 0.02, g);
        nn.init.zeros_(head.bias!);
        nn.init.ones_(norm.weight!);
        nn.init.zeros_(norm.bias!);
    }

    /// <summary>Throws when <paramref name="config"/> asks for something a <see cref="LearngeneVit"/> does not implement.</summary>
    internal static void Check(VitConfig config)
    {
        if (config.Depth < 1) throw new ArgumentException($"LearngeneVit: Depth must be ≥ 1, got {config.Depth}.");
        if (config.ImageSize % config.PatchSize != 0) throw new ArgumentException($"LearngeneVit: image size {config.ImageSize} is not a multiple of patch size {config.PatchSize}.");
        if (config.EmbedDim % config.NumHeads != 0) throw new ArgumentException($"LearngeneVit: EmbedDim {config.EmbedDim} is not a multiple of NumHeads {config.NumHeads}.");
        if (config.DistillationTokenCount > 0) throw new ArgumentException("LearngeneVit: distillation tokens are not supported (DistillationToken / NumDistillationTokens must be off); distil through the class head (Hinton KD).");
        if (config.DropRate != 0 || config.AttnDropRate != 0 || config.DropPathRate != 0)
            throw new ArgumentException($"LearngeneVit: dropout and drop-path are not supported (DropRate {config.DropRate}, AttnDropRate {config.AttnDropRate}, DropPathRate {config.DropPathRate}); set them to 0.");
        if (config.BlockNumHeads is not null || config.BlockMlpHidden is not null)
            throw new ArgumentException("LearngeneVit: per-block widths (BlockNumHeads / BlockMlpHidden, from structured pruning) are not supported: every block shares the learngenes' shape.");
    }

    /// <summary>The configuration; <see cref="VitConfig.Depth"/> is the number of generated blocks L.</summary>
    public VitConfig Config { get; }

    /// <summary>Patch embedding (timm <c>patch_embed</c>).</summary>
    public PatchEmbed PatchEmbed => patch_embed;

    /// <summary>Class token (1, 1, D), or null with global average pooling.</summary>
    public Parameter? ClsToken => cls_token;

    /// <summary>Learned position embedding (1, T, D).</summary>
    public Parameter PosEmbed => pos_embed;

    /// <summary>The learngenes A₁ … A_k and the coefficients (child <c>learngenes</c>).</summary>
    public LearngeneStack Learngenes => learngenes;

    /// <summary>Final LayerNorm.</summary>
    public LayerNorm Norm => norm;

    /// <summary>Classification head.</summary>
    public Linear Head => head;

    /// <summary>Depth L (blocks generated per forward pass).</summary>
    public int Depth => Config.Depth;

    /// <summary>The number of learngenes k.</summary>
    public int Count => learngenes.Count;

    /// <summary>
    /// Fused <c>scaled_dot_product_attention</c> (true, default) or the explicit softmax(q kᵀ/√d_h) v in every generated block
    /// (as <see cref="VisionTransformer.FusedAttention"/>): the fused CPU kernel has no double backward, so exact
    /// Hessian-vector products switch this off.
    /// </summary>
    public bool FusedAttention { get; set; } = true;

    /// <summary>Images (B, C, H, W) → logits (B, classes).</summary>
    public override Tensor forward(Tensor x) => ForwardIntermediates(x).Prediction;

    /// <summary>
    /// Images (B, C, H, W) → logits and, as <paramref name="what"/> asks, the output tokens (B, T, D), attention
    /// probabilities (B, H, T, T) and packed qkv projections (B, T, 3D) of the blocks in <paramref name="indices"/>
    /// (0-based; null = all, in order; list entry i belongs to block indices[i]), all on the autograd tape — the same
    /// contract as <see cref="VisionTransformer.ForwardIntermediates"/>. The L blocks' weights are generated once per call.
    /// </summary>
    /// <exception cref="ArgumentException">x is not (B, C, H, W) of the configured channels.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index outside 0 … L − 1.</exception>
    public VitOutput ForwardIntermediates(Tensor x, Intermediates what = Intermediates.None, IReadOnlyList<int>? indices = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 4 || x.shape[1] != Config.InChannels)
            throw new ArgumentException($"LearngeneVit: expected images (B, {Config.InChannels}, H, W), got ({string.Join(", ", x.shape)}).");
        if (indices is not null)
            foreach (int i in indices)
                if (i < 0 || i >= Depth)
                    throw new ArgumentOutOfRangeException(nameof(indices), $"LearngeneVit: block index {i} is outside 0 … {Depth - 1} (depth {Depth}).");
        long b = x.shape[0];
        var tokens = patch_embed.forward(x);                                          // (B, N, D)
        if (cls_token is not null) tokens = cat([cls_token.expand(b, -1, -1), tokens], 1);   // (B, T, D)
        tokens = tokens + pos_embed;                                                  // (B, T, D)
        var selected = indices ?? [.. Enumerable.Range(0, Depth)];
        bool wantMaps = what.HasFlag(Intermediates.Attentions);
        var kept = new LayerOutput?[Depth];
        var layers = learngenes.Generate(Depth);                                      // L × W_l, on the tape
        for (int l = 0; l < Depth; l++)
        {
            var o = layers[l].ForwardIntermediates(tokens, Config.NumHeads, Config.LayerNormEps, wantMaps && selected.Contains(l), FusedAttention);
            tokens = o.Output;                                                        // (B, T, D)
            if (selected.Contains(l)) kept[l] = o;
        }
        tokens = norm.forward(tokens);                                                // (B, T, D)
        var pooled = cls_token is not null ? tokens.select(1, 0) : tokens.mean([1]);   // (B, D)
        var logits = head.forward(pooled);                                            // (B, classes)
        List<Tensor> Take(Intermediates flag, Func<LayerOutput, Tensor> get) =>
            what.HasFlag(flag) ? [.. selected.Select(i => get(kept[i]!))] : [];
        return new VitOutput(logits, null, Take(Intermediates.BlockOutputs, o => o.Output), Take(Intermediates.Attentions, o => o.Attention!))
        {
            Qkv = Take(Intermediates.Qkv, o => o.Qkv),
        };
    }

    /// <summary>
    /// The "w/o const" form of this model: a <see cref="VisionTransformer"/> of the same configuration whose
    /// <c>blocks.{l−1}.*</c> are independent copies of the generated W_l, with this model's embeddings, norm and head
    /// copied, on this model's device. It computes the same function; all its parameters are trainable. (=
    /// <see cref="Recomposition.Unrolled"/> at this depth with all learngenes.)
    /// </summary>
    public VisionTransformer Unroll() => Recomposition.Unrolled(this, Depth, Count);

    /// <summary>
    /// Parameters: patch projection D·C·p² + D; class token D; position embedding T·D; k learngenes of one block's
    /// P parameters each (<see cref="LearngeneStack.BlockParameterCount"/>); final norm 2D; head D·K + K.
    /// </summary>
    public long AnalyticParameterCount => EmbeddingParameters(Config) + Count * LearngeneStack.BlockParameters(Config);

    /// <summary>The parameters outside the blocks: patch projection, class token, position embedding, final norm and head.</summary>
    public static long EmbeddingParameters(VitConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int d = config.EmbedDim, t = config.NumPatches + config.NumPrefixTokens;
        return LayerCost.Conv2dParameters(config.InChannels, d, config.PatchSize) + (long)config.NumPrefixTokens * d + (long)t * d
               + 2L * d + LayerCost.LinearParameters(d, config.NumClasses);
    }

    /// <summary>
    /// Forward FLOPs for <paramref name="batch"/> images, exactly those of a <see cref="VisionTransformer"/> of depth L
    /// (<see cref="VisionTransformer.Flops"/>: patch projection, per block qkv, scores, probabilities·values, proj, MLP;
    /// head). Generating the weights (<see cref="GenerationFlops"/>) is not included: it does not grow with the batch, and
    /// at inference the weights can be generated once.
    /// </summary>
    public long Flops(int batch = 1) => VitFlops(Config, batch);

    /// <summary>FLOPs of generating all L blocks from the k learngenes once: 2·L·k·P.</summary>
    public long GenerationFlops => learngenes.GenerationFlops(Depth);

    /// <summary>Forward FLOPs of a ViT of <paramref name="config"/> (the formula of <see cref="VisionTransformer.Flops"/>).</summary>
    public static long VitFlops(VitConfig config, int batch = 1)
    {
        ArgumentNullException.ThrowIfNull(config);
        long d = config.EmbedDim, t = config.NumPatches + config.NumPrefixTokens, m = config.MlpHidden, heads = 1 + config.DistillationTokenCount;
        long macs = config.NumPatches * d * config.InChannels * config.PatchSize * config.PatchSize
                    + config.Depth * (t * d * 3 * d + 2 * t * t * d + t * d * d + 2 * t * d * m)
                    + heads * d * config.NumClasses;
        return 2 * macs * batch;
    }

    /// <inheritdoc/>
    public override string ToString() => $"LearngeneVit(depth={Depth}, learngenes={Count}, basis={learngenes.Basis}, indexing={learngenes.Indexing})";
}
