namespace Shrink.Tensors.Nn;

/// <summary>Returns its input unchanged (PyTorch <c>nn.Identity</c>); a placeholder where a layer is switched off (e.g. a removed head).</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    /// <summary>y = x (the same tensor).</summary>
    public override Tensor Forward(Tensor input) => input;
}
