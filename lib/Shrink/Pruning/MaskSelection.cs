using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// The selection both pruners share: among the coordinates each mask still keeps, remove the k with the lowest score,
/// k = ⌈p·n⌉ of the n remaining (per tensor, or over all tensors for <see cref="PruningScope.Global"/>); ties are broken by
/// tensor order and then position (a stable sort of the scores laid out in that order), so exactly k go. The new masks
/// are ⊆ the old ones (levels nest) and are written with <see cref="PruningMask.Set"/>, which also zeroes the weights.
/// The selection runs on the weights' device.
/// </summary>
internal static class MaskSelection
{
    /// <summary>Prunes with the scores <paramref name="scores"/>(tensor index, weight) returns (a tensor of the weight's shape); lowest go first.</summary>
    public static Sparsity Prune(nn.Module model, PruningHparams hp, Func<int, Parameter, Tensor> scores)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(hp);
        hp.Validate();
        var targets = Prunable.Parameters(model, hp.Ignore);
        if (targets.Count == 0) throw new ArgumentException("Pruning: the model has no prunable weights (Linear or Conv2d) left after the ignore list.");
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var device = targets[0].Weight.device;
            var masks = new Tensor[targets.Count];
            var score = new Tensor[targets.Count];
            for (int t = 0; t < targets.Count; t++)
            {
                var (name, w) = targets[t];
                masks[t] = PruningMask.Get(model, name)?.to(device).flatten().clone() ?? ones(w.numel(), ScalarType.Float32, device);   // (n_t,)
                score[t] = scores(t, w).detach().to(device).flatten().to(ScalarType.Float32);                                            // (n_t,)
            }

            if (hp.Scope == PruningScope.Global)
            {
                var flatMask = cat(masks, 0);                        // (Σ n_t,) laid out in tensor order, then position
                RemoveLowest(cat(score, 0), flatMask, hp.Fraction);
                var sizes = masks.Select(m => m.numel()).ToArray();
                masks = flatMask.split(sizes, 0).ToArray();
            }
            else
            {
                for (int t = 0; t < targets.Count; t++) RemoveLowest(score[t], masks[t], hp.FractionFor(targets[t].Name));
            }
            for (int t = 0; t < targets.Count; t++)
                PruningMask.Set(model, targets[t].Name, masks[t].view(targets[t].Weight.shape));
        }
        return Sparsity.Measure(model, hp.Ignore);
    }

    /// <summary>Number removed from a pool of <paramref name="remaining"/> at fraction <paramref name="fraction"/>: ⌈p·n⌉ (open_lth), computed so that p·n an integer in exact arithmetic is not rounded up by float error.</summary>
    public static long CountToRemove(double fraction, long remaining)
    {
        double x = fraction * remaining;
        double r = Math.Round(x);
        return (long)(Math.Abs(x - r) < 1e-9 * Math.Max(1, remaining) ? r : Math.Ceiling(x));
    }

    /// <summary>Zeroes, in <paramref name="mask"/> (flat), the ⌈p·n⌉ kept coordinates with the lowest score; ties by position.</summary>
    private static void RemoveLowest(Tensor score, Tensor mask, double fraction)
    {
        var kept = mask.ne(0).nonzero().squeeze(1);                             // (n,) positions still kept, ascending
        long k = CountToRemove(fraction, kept.numel());
        if (k == 0) return;
        var (_, order) = score.index_select(0, kept).sort(0, descending: false, stable: true);   // (n,)
        var removed = kept.index_select(0, order.narrow(0, 0, k));               // (k,)
        mask.index_fill_(0, removed, 0);
    }
}
