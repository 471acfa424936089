namespace Shrink.Tensors.Nn;

/// <summary>
/// Layer normalisation over the trailing <c>normalizedShape</c> axes (PyTorch <c>nn.LayerNorm</c>):
/// y = (x − mean) / √(var + eps) · γ + β with the biased variance; γ (<c>weight</c>) starts at 1, β (<c>bias</c>) at 0.
/// PyTorch's default eps is 1e−5; timm's ViTs pass 1e−6.
/// </summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    private readonly int[] _normalizedShape;

    /// <summary>γ, shaped like the normalised axes, or null without elementwise affine.</summary>
    public Parameter? Weight { get; }
    /// <summary>β, shaped like the normalised axes, or null.</summary>
    public Parameter? Bias { get; }
    /// <summary>Added to the variance before the square root.</summary>
    public float Eps { get; }

    /// <summary>Normalises over one trailing axis of size <paramref name="normalizedSize"/>.</summary>
    public LayerNorm(int normalizedSize, float eps = 1e-5f, bool elementwiseAffine = true) : this([normalizedSize], eps, elementwiseAffine) { }

    /// <summary>Normalises over the trailing axes <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int[] normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
    {
        _normalizedShape = (int[])normalizedShape.Clone();
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(_normalizedShape));
            Bias = RegisterParameter("bias", Tensor.Zeros(_normalizedShape));
        }
        else { RegisterParameter("weight", (Parameter?)null); RegisterParameter("bias", (Parameter?)null); }
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.LayerNorm(input, _normalizedShape, Weight, Bias, Eps);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{ShapeUtil.Format(_normalizedShape)}, eps={Eps:G}, elementwise_affine={(Weight is null ? "False" : "True")}";
}
