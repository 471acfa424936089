namespace Shrink.Tensors.Nn;

/// <summary>ReLU activation max(x, 0) (PyTorch <c>nn.ReLU</c>).</summary>
public sealed class Relu : Module<Tensor, Tensor>
{
    /// <summary>Element-wise max(x, 0).</summary>
    public override Tensor Forward(Tensor input) => input.Relu();
}
