using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tensors.Nn;

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
/// (trunc-normal(0.02) weights, zero bias) from <c>headSeed</c>, identically in both modes. The recomposed models share
/// no storage with the source.
/// </summary>
public static class Recomposition
{
    /// <summary>The model for <paramref name="mode"/>: <see cref="Unrolled"/> or <see cref="Constrained"/>.</summary>
    public static Module<Tensor, Tensor> Build(LearngeneVit source, int depth, int learngenes, RecompositionMode mode, int? numClasses = null, ulong headSeed = 0) =>
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
        LearngeneVit model;
        using (TensorScope.Suspend())
        using (Tensor.NoGrad())
        {
            model = new LearngeneVit(config, learngenes, source.Learngenes.Basis, source.Learngenes.Indexing, source.Learngenes.Init, headSeed);
            for (int n = 0; n < learngenes; n++)
                foreach (var (name, p) in source.Learngenes[n].NamedParameters())
                    model.Learngenes[n].GetParameter(name).CopyFrom(p);
            CopyOuter(source, model.PatchEmbed, model.ClsToken, model.PosEmbed, model.Norm, model.Head, config, headSeed);
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
        VisionTransformer model;
        using (TensorScope.Suspend())
        using (Tensor.NoGrad())
        {
            model = new VisionTransformer(config, headSeed);
            var blocks = source.Learngenes.Materialize(depth, learngenes);
            foreach (var (name, t) in blocks) model.GetParameter(name).CopyFrom(t);
            CopyOuter(source, model.PatchEmbed, model.ClsToken, model.PosEmbed, model.Norm, model.Head, config, headSeed);
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

    /// <summary>Copies patch embedding, class token, position embedding and final norm; the head too when the class count is unchanged, else initialises it from <paramref name="headSeed"/>.</summary>
    private static void CopyOuter(LearngeneVit source, PatchEmbed patch, Parameter? cls, Parameter pos, LayerNorm norm, Linear head, VitConfig config, ulong headSeed)
    {
        foreach (var (name, p) in source.PatchEmbed.NamedParameters()) patch.GetParameter(name).CopyFrom(p);
        if (cls is not null) cls.CopyFrom(source.ClsToken!);
        pos.CopyFrom(source.PosEmbed);
        foreach (var (name, p) in source.Norm.NamedParameters()) norm.GetParameter(name).CopyFrom(p);
        if (config.NumClasses == source.Config.NumClasses)
            foreach (var (name, p) in source.Head.NamedParameters()) head.GetParameter(name).CopyFrom(p);
        else
        {
            var g = new Generator(headSeed ^ 0x48454144UL);   // "HEAD"
            Init.TruncNormal_(head.Weight, std: 0.02, generator: g);
            Init.Zeros_(head.Bias!);
        }
    }
}
