namespace Shrink.Tensors.Nn;

/// <summary>
/// A tensor that is a module's learnable weight (PyTorch <c>nn.Parameter</c>): a leaf that requires grad by default
/// and is listed by <c>Module.Parameters()</c>. It shares storage with the tensor it was made from.
/// Parameters are created outside any <see cref="TensorScope"/> so they live as long as their module.
/// </summary>
public sealed class Parameter : Tensor
{
    /// <summary>Wraps <paramref name="data"/> (contiguous) as a parameter.</summary>
    public Parameter(Tensor data, bool requiresGrad = true) : base(data) { RequiresGrad = requiresGrad; }
}
