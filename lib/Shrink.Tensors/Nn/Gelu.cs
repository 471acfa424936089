namespace Shrink.Tensors.Nn;

/// <summary>GELU activation (PyTorch <c>nn.GELU</c>): "none" (default, exact) x·Φ(x); "tanh": ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
public sealed class Gelu : Module<Tensor, Tensor>
{
    /// <summary>"none" (exact erf form, the timm/ViT default) or "tanh".</summary>
    public string Approximate { get; }

    /// <summary>Creates the activation; <paramref name="approximate"/> is "none" or "tanh".</summary>
    public Gelu(string approximate = "none")
    {
        if (approximate is not ("none" or "tanh")) throw new ArgumentException($"Gelu: approximate must be \"none\" or \"tanh\", got \"{approximate}\".");
        Approximate = approximate;
    }

    /// <summary>Element-wise GELU.</summary>
    public override Tensor Forward(Tensor input) => input.Gelu(Approximate);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"approximate='{Approximate}'";
}
