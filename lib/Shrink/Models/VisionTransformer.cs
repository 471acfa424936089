using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

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
/// The seed fixes the initial weights (<see cref="ModelInit.TimmVit"/>); dropout, attention dropout and stochastic depth
/// draw from torch's default generator when they run, which the trainer reseeds every step
/// (<see cref="Shrink.Torch.Seed.ManualSeed"/>) so a resumed run is bit-identical.
/// <see cref="forward"/> returns <see cref="VitOutput.Prediction"/>: in a distilled model that is the average of
/// the heads (DeiT at inference). Distillation losses need every head and the intermediates: use
/// <see cref="ForwardIntermediates"/> (timm's <c>forward_intermediates</c>).
/// </summary>
public sealed class VisionTransformer : nn.Module<Tensor, Tensor>, IModelCost
{
    private readonly PatchEmbed patch_embed;
    private readonly Parameter? cls_token;
    private readonly Parameter? dist_token;
    private readonly Parameter pos_embed;
    private readonly Dropout pos_drop;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm norm;
    private readonly Linear head;
    private readonly Linear? head_dist;
    private readonly List<Linear> _headDists = [];
    private bool _fusedAttention = true;

    /// <summary>The configuration the model was built from.</summary>
    public VitConfig Config { get; }
    /// <summary>Patch embedding.</summary>
    public PatchEmbed PatchEmbed => patch_embed;
    /// <summary>Class token (1, 1, D), or null.</summary>
    public Parameter? ClsToken => cls_token;
    /// <summary>The first distillation token (1, 1, D) (<c>dist_token</c>), or null.</summary>
    public Parameter? DistToken => dist_token;
    /// <summary>Every distillation token (1, 1, D) in sequence order: <c>dist_token</c>, <c>dist_token_1</c>, …; empty without distillation tokens.</summary>
    public IReadOnlyList<Parameter> DistTokens =>
        [.. Enumerable.Range(0, Config.DistillationTokenCount).Select(m => m == 0 ? dist_token! : get_parameter(DistTokenName(m))!)];
    /// <summary>Learned position embedding (1, N + prefix tokens, D).</summary>
    public Parameter PosEmbed => pos_embed;
    /// <summary>The transformer blocks.</summary>
    public ModuleList<Block> Blocks => blocks;
    /// <summary>Final LayerNorm.</summary>
    public LayerNorm Norm => norm;
    /// <summary>Classification head on the class token (or pooled tokens).</summary>
    public Linear Head => head;
    /// <summary>The first distillation head (on <c>dist_token</c>), or null.</summary>
    public Linear? HeadDist => head_dist;
    /// <summary>Every distillation head in token order: <c>head_dist</c>, <c>head_dist_1</c>, …; empty without distillation tokens.</summary>
    public IReadOnlyList<Linear> HeadDists => _headDists;

    /// <summary>
    /// Whether the blocks may use libtorch's fused attention kernel (default true). The fused CPU kernel has no double
    /// backward: exact Hessian-vector products set this to false, which sets every block's <see cref="Attention.FusedAttention"/>.
    /// </summary>
    public bool FusedAttention
    {
        get => _fusedAttention;
        set { _fusedAttention = value; foreach (var block in blocks) block.Attn.FusedAttention = value; }
    }

    /// <summary>Builds the model and initialises it from <paramref name="seed"/> with timm's init (<see cref="ModelInit.TimmVit"/>).</summary>
    /// <exception cref="ArgumentException">The configuration does not validate (<see cref="VitConfig.Validate"/>).</exception>
    public VisionTransformer(VitConfig config, ulong seed = 0) : base(nameof(VisionTransformer))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config.Validate();
        int d = config.EmbedDim, distCount = config.DistillationTokenCount;
        patch_embed = new PatchEmbed(config.PatchSize, config.InChannels, d);
        cls_token = config.ClassToken ? nn.Parameter(zeros(1, 1, d)) : null;
        dist_token = distCount > 0 ? nn.Parameter(zeros(1, 1, d)) : null;
        pos_embed = nn.Parameter(zeros(1, config.NumPatches + config.NumPrefixTokens, d));
        pos_drop = nn.Dropout(config.DropRate);
        blocks = nn.ModuleList(Enumerable.Range(0, config.Depth).Select(i => new Block(d, config.HeadsOf(i), config.MlpHiddenOf(i),
            config.QkvBias, config.DropRate, config.AttnDropRate, DropPathRate(config, i), config.LayerNormEps, config.HeadDim)).ToArray());
        norm = nn.LayerNorm(d, config.LayerNormEps);
        head = nn.Linear(d, config.NumClasses);
        head_dist = distCount > 0 ? nn.Linear(d, config.NumClasses) : null;
        RegisterComponents();
        if (head_dist is not null) _headDists.Add(head_dist);
        for (int m = 1; m < distCount; m++)
        {
            register_parameter(DistTokenName(m), nn.Parameter(zeros(1, 1, d)));
            var h = nn.Linear(d, config.NumClasses);
            register_module(HeadDistName(m), h);
            _headDists.Add(h);
        }
        ModelInit.TimmVit(this, ModelInit.Generator(seed));
    }

    /// <summary>Stochastic-depth rate of block <paramref name="i"/>: rising linearly from 0 at block 0 to DropPathRate at the last (timm's <c>dpr</c>).</summary>
    public static float DropPathRate(VitConfig config, int i) =>
        config.Depth > 1 ? config.DropPathRate * i / (config.Depth - 1) : config.DropPathRate;

    /// <summary>Parameter name of distillation token <paramref name="m"/> (0-based): <c>dist_token</c> for the first (timm), <c>dist_token_{m}</c> after it.</summary>
    public static string DistTokenName(int m) => m == 0 ? "dist_token" : $"dist_token_{m}";

    /// <summary>Module name of distillation head <paramref name="m"/> (0-based): <c>head_dist</c> for the first (timm), <c>head_dist_{m}</c> after it.</summary>
    public static string HeadDistName(int m) => m == 0 ? "head_dist" : $"head_dist_{m}";

    /// <summary>Images (B, C, H, W) → prediction logits (B, classes) (<see cref="VitOutput.Prediction"/>).</summary>
    public override Tensor forward(Tensor x) => ForwardIntermediates(x).Prediction;

    /// <summary>
    /// Images (B, C, H, W) → every head's logits and, as <paramref name="what"/> asks, the output tokens (B, T, D),
    /// attention probabilities (B, H, T, T) and packed qkv projections (B, T, 3·H·d_h) of the blocks in
    /// <paramref name="indices"/> (null: every block; entry i of each list belongs to block indices[i]) — the activations
    /// feature, attention and relation distillation read (timm's <c>forward_intermediates</c>, taken before the final norm).
    /// All stay on the autograd tape. Asking for more changes no value computed.
    /// </summary>
    /// <exception cref="ArgumentException">The images do not fit the configuration.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside 0 … Depth − 1.</exception>
    public VitOutput ForwardIntermediates(Tensor x, Intermediates what = Intermediates.None, IReadOnlyList<int>? indices = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.dim() != 4 || x.shape[2] != Config.ImageSize || x.shape[3] != Config.ImageSize)
            throw new ArgumentException($"VisionTransformer: expected images (B, {Config.InChannels}, {Config.ImageSize}, {Config.ImageSize}), got {ModelInit.Format(x.shape)}.");
        var selected = indices ?? [.. Enumerable.Range(0, Config.Depth)];
        foreach (int i in selected)
            if (i < 0 || i >= Config.Depth)
                throw new ArgumentOutOfRangeException(nameof(indices), $"VisionTransformer: block index {i} is outside 0 … {Config.Depth - 1} (depth {Config.Depth}).");
        bool wantMaps = what.HasFlag(Intermediates.Attentions);
        long b = x.shape[0];

        var tokens = patch_embed.forward(x);                                                   // (B, N, D)
        var prefix = new List<Tensor>();
        if (cls_token is not null) prefix.Add(cls_token.expand(b, -1, -1));                   // (B, 1, D)
        prefix.AddRange(DistTokens.Select(t => t.expand(b, -1, -1)));                          // M × (B, 1, D)
        if (prefix.Count > 0) tokens = cat([.. prefix, tokens], 1);                           // (B, T, D)
        tokens = pos_drop.forward(tokens + pos_embed);                                          // (B, T, D)
        var kept = new LayerOutput?[Config.Depth];
        for (int i = 0; i < Config.Depth; i++)
        {
            var o = blocks[i].ForwardIntermediates(tokens, wantMaps && selected.Contains(i));   // (B, T, D)
            tokens = o.Output;
            if (selected.Contains(i)) kept[i] = o;
        }
        tokens = norm.forward(tokens);                                                          // (B, T, D)
        var pooled = cls_token is not null ? tokens.select(1, 0) : tokens.mean([1]);           // (B, D)
        var logits = head.forward(pooled);                                                      // (B, K)
        var dist = _headDists.Select((h, m) => h.forward(tokens.select(1, 1 + m))).ToList();  // M × (B, K)

        List<Tensor> Take(Intermediates flag, Func<LayerOutput, Tensor> get) =>
            what.HasFlag(flag) ? [.. selected.Select(i => get(kept[i]!))] : [];
        return new VitOutput(logits, dist.FirstOrDefault(), Take(Intermediates.BlockOutputs, o => o.Output), Take(Intermediates.Attentions, o => o.Attention!))
        {
            DistillationHeads = dist,
            Qkv = Take(Intermediates.Qkv, o => o.Qkv),
        };
    }

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
            long blockParams = 0;
            for (int i = 0; i < c.Depth; i++)
            {
                int inner = c.HeadsOf(i) * c.HeadDim, m = c.MlpHiddenOf(i);
                blockParams += 4L * d + LayerCost.LinearParameters(d, 3 * inner, c.QkvBias) + LayerCost.LinearParameters(inner, d)
                               + LayerCost.LinearParameters(d, m) + LayerCost.LinearParameters(m, d);
            }
            return LayerCost.Conv2dParameters(c.InChannels, d, c.PatchSize) + (long)c.NumPrefixTokens * d + (long)t * d
                   + blockParams + 2L * d + heads * LayerCost.LinearParameters(d, c.NumClasses);
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
}
