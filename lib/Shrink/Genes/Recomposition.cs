using Shrink.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SeedMixer = Shrink.Torch.Seed;

namespace Shrink.Genes;

/// <summary>
/// Builds models of any depth L' from the first k learngenes of a decomposed model, with no training (the paper's Eq. 9):
/// <code>
/// W_l = Σ_{n=1..k} a(l, n)·A_n,   a(l, n) = φ_{m(n)}((l − 1)/L'),   l = 1 … L'
/// </code>
/// — the coefficients recomputed with the new depth, so L' = 4 samples x = 0, ¼, ½, ¾. Two modes
/// (<see cref="RecompositionMode"/>): <see cref="Unrolled"/> ("w/o const", an ordinary <see cref="VisionTransformer"/>
/// whose blocks are the materialised W_l) and <see cref="Constrained"/> ("w/ const", a <see cref="LearngeneVit"/> that keeps
/// generating the W_l from copies of A₁ … A_k). Both copy the source's patch embedding, class token, position
/// embedding and final norm; the head is copied when the class count is unchanged, otherwise a new head is initialised
/// (trunc-normal(0.02) weights, zero bias) from <c>headSeed</c> (<see cref="Torch.Seed.Generator(ulong, ReadOnlySpan{ulong})"/>
/// of (headSeed, "HEAD"), drawn on the CPU), identically in both modes. The new model moves to the source's device and dtype,
/// then every weight is copied by its timm name; the recomposed models share no storage with the source.
/// </summary>
public static class Recomposition
{
    /// <summary>The model for <paramref name="mode"/>: <see cref="Unrolled"/> or <see cref="Constrained"/>.</summary>
    public static nn.Module<Tensor, Tensor> Build(LearngeneVit source, int depth, int learngenes, RecompositionMode mode, int? numClasses = null, ulong headSeed = 0) =>
        mode switch
        {
            RecompositionMode.Unrolled => Unrolled(source, depth, learngenes, numClasses, headSeed),
            RecompositionMode.Constrained => Constrained(source, depth, learngenes, numClasses, headSeed),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), $"Recomposition: unknown mode {mode}."),
        };

    /// <summary>
    /// "w/ const": a <see cref="LearngeneVit"/> of depth <paramref name="depth"/> holding copies of A₁ … A_k
    /// (k = <paramref name="learngenes"/>), same basis and indexing; everything is trainable.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">depth &lt; 1, or k outside 1 … the source's count.</exception>
    public static LearngeneVit Constrained(LearngeneVit source, int depth, int learngenes, int? numClasses = null, ulong headSeed = 0)
    {
        var config = Target(source, depth, learngenes, numClasses);
        var model = new LearngeneVit(config, learngenes, source.Learngenes.Basis, source.Learngenes.Indexing, source.Learngenes.Init, headSeed)
        {
            FusedAttention = source.FusedAttention,
        };
        NewHead(source, model.Head, config, headSeed);
        MoveLike(source, model);
        using (NewDisposeScope())
        using (no_grad())
        {
            for (int n = 0; n < learngenes; n++)
                CopyByName(source.Learngenes[n], model.Learngenes[n], $"learngenes.{n}.");
            CopyOuter(source, model.PatchEmbed, model.ClsToken, model.PosEmbed, model.Norm, model.Head, config);
        }
        return model;
    }

    /// <summary>
    /// "w/o const": a <see cref="VisionTransformer"/> of depth <paramref name="depth"/> whose <c>blocks.{l−1}.*</c> are the
    /// materialised W_l from A₁ … A_k (k = <paramref name="learngenes"/>), independent tensors, all trainable.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">depth &lt; 1, or k outside 1 … the source's count.</exception>
    public static VisionTransformer Unrolled(LearngeneVit source, int depth, int learngenes, int? numClasses = null, ulong headSeed = 0)
    {
        var config = Target(source, depth, learngenes, numClasses);
        var model = new VisionTransformer(config, headSeed) { FusedAttention = source.FusedAttention };
        NewHead(source, model.Head, config, headSeed);
        MoveLike(source, model);
        using (NewDisposeScope())
        using (no_grad())
        {
            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
            foreach (var (name, t) in source.Learngenes.Materialize(depth, learngenes))
            {
                if (!parameters.TryGetValue(name, out var target))
                    throw new InvalidOperationException($"Recomposition: the VisionTransformer has no parameter '{name}' to receive W_l.");
                Copy(t, target, name);
            }
            CopyOuter(source, model.PatchEmbed, model.ClsToken, model.PosEmbed, model.Norm, model.Head, config);
        }
        return model;
    }

    /// <summary>
    /// Parameters and FLOPs of the depth-<paramref name="depth"/>, k-learngene model of <paramref name="config"/> (its depth
    /// is ignored) in <paramref name="mode"/> — see <see cref="RecompositionCost"/>. Equal to the built model's
    /// <c>ParameterCount()</c> and <c>Flops()</c>.
    /// </summary>
    public static RecompositionCost Cost(VitConfig config, int depth, int learngenes, RecompositionMode mode)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), $"Recomposition: the depth L' must be ≥ 1, got {depth}.");
        if (learngenes < 1) throw new ArgumentOutOfRangeException(nameof(learngenes), $"Recomposition: k must be ≥ 1, got {learngenes}.");
        var c = config with { Depth = depth };
        long p = LearngeneStack.BlockParameters(c), e = LearngeneVit.EmbeddingParameters(c);
        return mode switch
        {
            RecompositionMode.Unrolled => new RecompositionCost(depth, learngenes, mode, e + depth * p, LearngeneVit.VitFlops(c), 0),
            RecompositionMode.Constrained => new RecompositionCost(depth, learngenes, mode, e + learngenes * p, LearngeneVit.VitFlops(c), 2L * depth * learngenes * p),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), $"Recomposition: unknown mode {mode}."),
        };
    }

    /// <summary>The costs of every (L', k) pair in both modes, depth-major: for each L', for each k, unrolled then constrained.</summary>
    public static IReadOnlyList<RecompositionCost> CostGrid(VitConfig config, IEnumerable<int> depths, IEnumerable<int> learngenes)
    {
        ArgumentNullException.ThrowIfNull(depths);
        ArgumentNullException.ThrowIfNull(learngenes);
        var ks = learngenes.ToArray();
        var list = new List<RecompositionCost>();
        foreach (int l in depths)
            foreach (int k in ks)
            {
                list.Add(Cost(config, l, k, RecompositionMode.Unrolled));
                list.Add(Cost(config, l, k, RecompositionMode.Constrained));
            }
        return list;
    }

    private static VitConfig Target(LearngeneVit source, int depth, int learngenes, int? numClasses)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), $"Recomposition: the depth L' must be ≥ 1, got {depth}.");
        if (learngenes < 1 || learngenes > source.Count)
            throw new ArgumentOutOfRangeException(nameof(learngenes), $"Recomposition: cannot use {learngenes} learngenes, the source holds {source.Count} (k must be in 1 … {source.Count}).");
        if (numClasses is < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), $"Recomposition: numClasses must be ≥ 1, got {numClasses}.");
        return source.Config with { Depth = depth, NumClasses = numClasses ?? source.Config.NumClasses };
    }

    /// <summary>Copies patch embedding, class token, position embedding and final norm, and the head when the class count is unchanged (call under no_grad).</summary>
    private static void CopyOuter(LearngeneVit source, PatchEmbed patch, Parameter? cls, Parameter pos, LayerNorm norm, Linear head, VitConfig config)
    {
        CopyByName(source.PatchEmbed, patch, "patch_embed.");
        if (cls is not null) Copy(source.ClsToken!, cls, "cls_token");
        Copy(source.PosEmbed, pos, "pos_embed");
        CopyByName(source.Norm, norm, "norm.");
        if (config.NumClasses == source.Config.NumClasses) CopyByName(source.Head, head, "head.");
    }

    /// <summary>For a changed class count, initialises the (CPU, float32) new head from <paramref name="headSeed"/>: trunc-normal(0.02) weight, zero bias.</summary>
    private static void NewHead(LearngeneVit source, Linear head, VitConfig config, ulong headSeed)
    {
        if (config.NumClasses == source.Config.NumClasses) return;
        using var _ = no_grad();
        ModelInit.TruncNormal(head.weight!, 0.02, SeedMixer.Generator(headSeed, HeadSeedStream));
        nn.init.zeros_(head.bias!);
    }

    /// <summary>The stream name of a new head's generator in <see cref="Torch.Seed.Mix"/>: "HEAD".</summary>
    public const ulong HeadSeedStream = 0x48454144UL;

    /// <summary>Copies every parameter of <paramref name="from"/> into the parameter of the same name of <paramref name="to"/> (call under no_grad).</summary>
    private static void CopyByName(nn.Module from, nn.Module to, string prefix)
    {
        var targets = to.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        foreach (var (name, p) in from.named_parameters())
        {
            if (!targets.TryGetValue(name, out var target))
                throw new InvalidOperationException($"Recomposition: the new model has no parameter '{prefix}{name}'.");
            Copy(p, target, prefix + name);
        }
    }

    private static void Copy(Tensor from, Tensor to, string name)
    {
        if (!from.shape.SequenceEqual(to.shape))
            throw new InvalidOperationException($"Recomposition: '{name}' has shape ({string.Join(", ", from.shape)}) in the source and ({string.Join(", ", to.shape)}) in the new model.");
        to.copy_(from);
    }

    /// <summary>Moves the CPU-built <paramref name="model"/> to the device and dtype of the source's parameters before anything is copied, so no value is rounded (it stays in training mode, as built).</summary>
    private static void MoveLike(LearngeneVit source, nn.Module model)
    {
        var reference = source.PosEmbed;
        if (reference.device_type != DeviceType.CPU || reference.dtype != ScalarType.Float32) model.to(reference.device, reference.dtype);
    }
}
