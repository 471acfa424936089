using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// A parameter with its pruning mask: <paramref name="Name"/> is the parameter's dotted name (<c>fc1.weight</c>),
/// <paramref name="Mask"/> the persistent buffer <c>fc1.weight_mask</c> (1 = kept, 0 = pruned) of the same shape, on the
/// parameter's device, by reference.
/// </summary>
public sealed record MaskedParameter(string Name, Parameter Parameter, Tensor Mask)
{
    /// <summary>Number of coordinates the mask keeps (Σ m ≠ 0).</summary>
    public long Kept => Mask.count_nonzero().item<long>();
}
