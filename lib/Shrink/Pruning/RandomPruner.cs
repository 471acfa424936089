using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Pruning;

/// <summary>
/// Random pruning, the control of magnitude pruning: of the coordinates each mask still keeps, remove k = ⌈p·n⌉ chosen
/// uniformly at random (globally or per tensor, as <see cref="PruningHparams.Scope"/> says), seeded by
/// <see cref="PruningHparams.Seed"/>. <see cref="SameSparsity"/> draws open_lth's <c>randomly_prune</c> branch: fresh
/// random masks with exactly the per-tensor counts of given masks.
/// </summary>
public static class RandomPruner
{
    /// <summary>Prunes <paramref name="model"/> in place at random; returns the sparsity measured from the weights.</summary>
    public static Sparsity Prune(Module model, PruningHparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        var g = new Generator(unchecked((ulong)hparams.Seed) ^ 0x52414E444F4DUL);   // "RANDOM"
        return MaskSelection.Prune(model, hparams, (_, w) =>
        {
            var v = new float[w.Numel];
            for (int i = 0; i < v.Length; i++) v[i] = g.NextFloat();
            return v;
        });
    }

    /// <summary>
    /// Random masks with the same shape and the same number of kept coordinates per tensor as <paramref name="masks"/>
    /// (parameter name → mask): for each tensor a uniformly random subset of that size (open_lth's
    /// <c>randomly_prune</c>, layerwise strategy). Deterministic in <paramref name="seed"/>.
    /// </summary>
    public static Dictionary<string, Tensor> SameSparsity(IReadOnlyDictionary<string, Tensor> masks, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(masks);
        var g = new Generator(seed);
        var result = new Dictionary<string, Tensor>();
        using var _ = TensorScope.Suspend();
        foreach (var name in masks.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            var m = masks[name];
            int n = m.Numel, kept = 0;
            foreach (var v in m.Contiguous().AsSpan()) if (v != 0f) kept++;
            var order = g.Permutation(n);
            var data = new float[n];
            for (int j = 0; j < kept; j++) data[order[j]] = 1f;
            result[name] = Tensor.FromArray(data, [.. m.Shape]);
        }
        return result;
    }
}
