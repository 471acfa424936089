using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// Random pruning, the control of magnitude pruning: of the coordinates each mask still keeps, remove k = ⌈p·n⌉ chosen
/// uniformly at random (globally or per tensor, as <see cref="PruningHparams.Scope"/> says), seeded by
/// <see cref="PruningHparams.Seed"/>: every coordinate gets a U(0, 1) score from one generator
/// (<see cref="Torch.Seed.Generator(ulong, ReadOnlySpan{ulong})"/>, drawn on the CPU, so the mask is the same on every
/// device) and the lowest scores go. <see cref="SameSparsity"/> draws open_lth's <c>randomly_prune</c> branch: fresh
/// random masks with exactly the per-tensor counts of given masks.
/// </summary>
public static class RandomPruner
{
    /// <summary>Stream name of <see cref="Prune"/>'s scores ("RANDOM").</summary>
    private const ulong ScoreStream = 0x52414E444F4DUL;

    /// <summary>Stream name of <see cref="SameSparsity"/>'s permutations ("SAMESP").</summary>
    private const ulong SameSparsityStream = 0x53414D455350UL;

    /// <summary>Prunes <paramref name="model"/> in place at random; returns the sparsity measured from the weights.</summary>
    public static Sparsity Prune(nn.Module model, PruningHparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        var g = Torch.Seed.Generator(unchecked((ulong)hparams.Seed), ScoreStream);
        return MaskSelection.Prune(model, hparams, (_, w) => rand(w.shape, ScalarType.Float32, generator: g));   // U(0,1), same shape
    }

    /// <summary>
    /// Random masks with the same shape and the same number of kept coordinates per tensor as <paramref name="masks"/>
    /// (parameter name → mask): for each tensor (in ordinal name order) a uniformly random subset of that size, the first
    /// entries of a random permutation (open_lth's <c>randomly_prune</c>, layerwise strategy). Deterministic in
    /// <paramref name="seed"/>; each mask is returned on its input's device, outside any dispose scope.
    /// </summary>
    public static Dictionary<string, Tensor> SameSparsity(IReadOnlyDictionary<string, Tensor> masks, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(masks);
        var g = Torch.Seed.Generator(seed, SameSparsityStream);
        var result = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        foreach (var name in masks.Keys.OrderBy(k => k, StringComparer.Ordinal))
        {
            var m = masks[name];
            long n = m.numel(), kept = m.count_nonzero().item<long>();
            var order = randperm(n, generator: g);                                    // (n,) on the CPU
            var data = zeros(n, ScalarType.Float32).index_fill_(0, order.narrow(0, 0, kept), 1);   // (n,)
            result[name] = data.view(m.shape).to(m.device).DetachFromDisposeScope();
        }
        return result;
    }
}
