using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Pruning;

/// <summary>
/// A parameter with its pruning mask: <paramref name="Name"/> is the parameter's dotted name (<c>fc1.weight</c>),
/// <paramref name="Mask"/> the buffer <c>fc1.weight_mask</c> (1 = kept, 0 = pruned) of the same shape, by reference.
/// </summary>
public sealed record MaskedParameter(string Name, Parameter Parameter, Tensor Mask)
{
    /// <summary>Number of coordinates the mask keeps (Σ m).</summary>
    public int Kept
    {
        get
        {
            int n = 0;
            foreach (var v in Mask.Contiguous().AsSpan()) if (v != 0f) n++;
            return n;
        }
    }
}
