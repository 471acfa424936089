using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Pruning;

/// <summary>
/// The selection both pruners share: among the coordinates each mask still keeps, remove the k with the lowest score,
/// k = ⌈p·n⌉ of the n remaining (per tensor, or over all tensors for <see cref="PruningScope.Global"/>); ties are broken by
/// tensor order and then position, so exactly k go. The new masks are ⊆ the old ones (levels nest) and are written with
/// <see cref="PruningMask.Set"/>, which also zeroes the weights.
/// </summary>
internal static class MaskSelection
{
    public static Sparsity Prune(Module model, PruningHparams hp, Func<int, Parameter, float[]> scores)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(hp);
        hp.Validate();
        var targets = Prunable.Parameters(model, hp.Ignore);
        if (targets.Count == 0) throw new ArgumentException("Pruning: the model has no prunable weights (Linear or Conv2d) left after the ignore list.");
        var masks = new float[targets.Count][];
        var score = new float[targets.Count][];
        for (int t = 0; t < targets.Count; t++)
        {
            var (name, w) = targets[t];
            masks[t] = PruningMask.Get(model, name)?.ToArray() ?? Enumerable.Repeat(1f, w.Numel).ToArray();
            score[t] = scores(t, w);
        }

        if (hp.Scope == PruningScope.Global)
        {
            var pool = new List<(float Score, int Tensor, int Index)>();
            for (int t = 0; t < targets.Count; t++)
                for (int i = 0; i < masks[t].Length; i++)
                    if (masks[t][i] != 0f) pool.Add((score[t][i], t, i));
            RemoveLowest(pool, hp.Fraction, masks);
        }
        else
        {
            for (int t = 0; t < targets.Count; t++)
            {
                var pool = new List<(float Score, int Tensor, int Index)>();
                for (int i = 0; i < masks[t].Length; i++)
                    if (masks[t][i] != 0f) pool.Add((score[t][i], t, i));
                RemoveLowest(pool, hp.FractionFor(targets[t].Name), masks);
            }
        }
        using (TensorScope.Suspend())
            for (int t = 0; t < targets.Count; t++)
                PruningMask.Set(model, targets[t].Name, Tensor.FromArray(masks[t], [.. targets[t].Weight.Shape]));
        return Sparsity.Measure(model, hp.Ignore);
    }

    /// <summary>Number removed from a pool of <paramref name="remaining"/> at fraction <paramref name="fraction"/>: ⌈p·n⌉ (open_lth), computed so that p·n an integer in exact arithmetic is not rounded up by float error.</summary>
    public static int CountToRemove(double fraction, int remaining)
    {
        double x = fraction * remaining;
        double r = Math.Round(x);
        return (int)(Math.Abs(x - r) < 1e-9 * Math.Max(1, remaining) ? r : Math.Ceiling(x));
    }

    private static void RemoveLowest(List<(float Score, int Tensor, int Index)> pool, double fraction, float[][] masks)
    {
        int k = CountToRemove(fraction, pool.Count);
        if (k == 0) return;
        pool.Sort((a, b) =>
        {
            int c = a.Score.CompareTo(b.Score);
            if (c != 0) return c;
            c = a.Tensor.CompareTo(b.Tensor);
            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });
        for (int j = 0; j < k; j++) masks[pool[j].Tensor][pool[j].Index] = 0f;
    }
}
