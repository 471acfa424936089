namespace Shrink.Tensors.Nn;

/// <summary>
/// Inverted dropout (PyTorch <c>nn.Dropout</c>): in training mode each element is zeroed with probability p and the
/// survivors scaled by 1/(1 − p); in evaluation mode the identity. Masks come from <see cref="Generator"/> (seeded).
/// </summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    /// <summary>Probability of zeroing an element.</summary>
    public float P { get; }
    private readonly Generator? _generator;

    /// <summary>Creates the layer; masks are drawn from <paramref name="generator"/> (default <see cref="Generator.Default"/>).</summary>
    public Dropout(float p = 0.5f, Generator? generator = null)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: p must be in [0, 1], got {p}.");
        P = p; _generator = generator;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Dropout(input, P, Training, _generator);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"p={P:G}";
}
