using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tensors.Nn;
using F = Shrink.Tensors.Functional;

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
/// Supported configurations: class token or global average pooling; no distillation tokens, no dropout, no drop-path
/// (the constructor says so when asked for them).
/// </para>
/// </summary>
public sealed class LearngeneVit : Module<Tensor, Tensor>, IModelCost
{
    /// <summary>Builds the model with <paramref name="learngenes"/> learngenes (see <see cref="LearngeneStack"/> for their init) and timm's init of the rest.</summary>
    /// <param name="config">Width, heads, MLP ratio, patches, classes; <see cref="VitConfig.Depth"/> is L, the number of generated blocks.</param>
    /// <param name="learngenes">k ≥ 1.</param>
    /// <param name="basis">The coefficient basis (Chebyshev by default).</param>
    /// <param name="indexing">φ_n (paper, default) or φ_{n−1} (TLEG).</param>
    /// <param name="init">How A_n, n ≥ 2, starts.</param>
    /// <param name="seed">Seeds the embeddings, norm and head (one generator) and each learngene (its own generator).</param>
    /// <exception cref="ArgumentException">An unsupported or inconsistent configuration; the message names the setting.</exception>
    public LearngeneVit(VitConfig config, int learngenes, LearngeneBasis basis = LearngeneBasis.Chebyshev,
        LearngeneIndexing indexing = LearngeneIndexing.Paper, LearngeneInit init = LearngeneInit.SmallRandom, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(config);
        Check(config);
        if (learngenes < 1) throw new ArgumentException($"LearngeneVit: at least one learngene is needed, got {learngenes}.");
        Config = config;
        var g = new Generator(seed);
        int d = config.EmbedDim;
        PatchEmbed = RegisterModule("patch_embed", new PatchEmbed(config.PatchSize, config.InChannels, d, g));
        ClsToken = config.ClassToken ? RegisterParameter("cls_token", Tensor.Zeros(1, 1, d)) : null;
        PosEmbed = RegisterParameter("pos_embed", Tensor.Zeros(1, config.NumPatches + config.NumPrefixTokens, d));
        Learngenes = RegisterModule("learngenes", new LearngeneStack(config, learngenes, basis, indexing, init, seed));
        Norm = RegisterModule("norm", new LayerNorm(d, config.LayerNormEps));
        Head = RegisterModule("head", new Linear(d, config.NumClasses, true, g));
        Shrink.Tensors.Nn.Init.TruncNormal_(PosEmbed, std: 0.02, generator: g);
        if (ClsToken is not null) Shrink.Tensors.Nn.Init.TruncNormal_(ClsToken, std: 0.02, generator: g);
        Shrink.Tensors.Nn.Init.TruncNormal_(Head.Weight, std: 0.02, generator: g);
        Shrink.Tensors.Nn.Init.Zeros_(Head.Bias!);
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
    }

    /// <summary>The configuration; <see cref="VitConfig.Depth"/> is the number of generated blocks L.</summary>
    public VitConfig Config { get; }

    /// <summary>Patch embedding (timm <c>patch_embed</c>).</summary>
    public PatchEmbed PatchEmbed { get; }

    /// <summary>Class token (1, 1, D), or null with global average pooling.</summary>
    public Parameter? ClsToken { get; }

    /// <summary>Learned position embedding (1, T, D).</summary>
    public Parameter PosEmbed { get; }

    /// <summary>The learngenes A₁ … A_k and the coefficients (child <c>learngenes</c>).</summary>
    public LearngeneStack Learngenes { get; }

    /// <summary>Final LayerNorm.</summary>
    public LayerNorm Norm { get; }

    /// <summary>Classification head.</summary>
    public Linear Head { get; }

    /// <summary>Depth L (blocks generated per forward pass).</summary>
    public int Depth => Config.Depth;

    /// <summary>The number of learngenes k.</summary>
    public int Count => Learngenes.Count;

    /// <summary>Images (B, C, H, W) → logits (B, classes).</summary>
    public override Tensor Forward(Tensor x) => ForwardFeatures(x).Logits;

    /// <summary>
    /// Images (B, C, H, W) → logits and, when requested, every block's output tokens (B, T, D) and attention probabilities
    /// (B, H, T, T), all on the autograd tape (as <see cref="VisionTransformer.ForwardFeatures"/>).
    /// </summary>
    public VitOutput ForwardFeatures(Tensor x, bool returnBlockOutputs = false, bool returnAttentions = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        int b = x.Shape[0];
        var tokens = PatchEmbed.Forward(x);                                          // (B, N, D)
        if (ClsToken is not null) tokens = F.Concat([ClsToken.Expand(b, -1, -1), tokens], axis: 1);   // (B, T, D)
        tokens = tokens + PosEmbed;
        var outputs = new List<Tensor>(); var attentions = new List<Tensor>();
        foreach (var weights in Learngenes.Generate(Depth))
        {
            tokens = weights.Forward(tokens, Config.NumHeads, Config.LayerNormEps, out var attn, returnAttentions);
            if (returnBlockOutputs) outputs.Add(tokens);
            if (attn is not null) attentions.Add(attn);
        }
        tokens = Norm.Forward(tokens);                                               // (B, T, D)
        var pooled = ClsToken is not null ? tokens.Select(1, 0) : tokens.Mean(1);    // (B, D)
        return new VitOutput(Head.Forward(pooled), null, outputs, attentions);
    }

    /// <summary>
    /// The "w/o const" form of this model: a <see cref="VisionTransformer"/> of the same configuration whose
    /// <c>blocks.{l−1}.*</c> are independent copies of the generated W_l, with this model's embeddings, norm and head
    /// copied. It computes the same function; all its parameters are trainable. (= <see cref="Recomposition.Unrolled"/> at
    /// this depth with all learngenes.)
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
    public long GenerationFlops => Learngenes.GenerationFlops(Depth);

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
    public override string ExtraRepr() => $"depth={Depth}, learngenes={Count}, basis={Learngenes.Basis}, indexing={Learngenes.Indexing}";
}
