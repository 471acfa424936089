using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// Unstructured magnitude pruning (Han et al. 2015; Frankle &amp; Carbin 2019; open_lth's <c>sparse_global</c>): of the
/// prunable weights each mask still keeps, remove the k = ⌈p·n⌉ with the smallest |w| — over all prunable tensors at once
/// (<see cref="PruningScope.Global"/>: afterwards every surviving |w| ≥ every pruned |w|) or tensor by tensor
/// (<see cref="PruningScope.Layerwise"/>). Masks become persistent buffers next to the weights (<see cref="PruningMask"/>)
/// and only ever lose coordinates, so the masks of successive levels nest. With <see cref="PruningMethod.Random"/> in the
/// hyperparameters the same counts are removed at random (<see cref="RandomPruner"/>).
/// </summary>
public static class MagnitudePruner
{
    /// <summary>
    /// Prunes <paramref name="model"/> in place as <paramref name="hparams"/> says (by <see cref="PruningHparams.Method"/>)
    /// and returns the sparsity measured from the weights afterwards.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid hyperparameters, an ignore entry that matches nothing, or no prunable weights.</exception>
    public static Sparsity Prune(nn.Module model, PruningHparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        if (hparams.Method == PruningMethod.Random) return RandomPruner.Prune(model, hparams);
        return MaskSelection.Prune(model, hparams, (_, w) => w.abs());   // |w|, same shape
    }
}
