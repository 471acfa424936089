namespace Shrink.Tensors.Nn;

/// <summary>
/// Fully connected layer y = x·Wᵀ + b (PyTorch <c>nn.Linear</c>): x (…, in) → y (…, out), weight W (out, in),
/// bias b (out). Initialised as PyTorch: W by Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in), then
/// b from U(−1/√in, 1/√in), both drawn from <c>generator</c> in that order.
/// </summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <summary>Weight W, shape (out_features, in_features); state-dict name <c>weight</c>.</summary>
    public Parameter Weight { get; }

    /// <summary>Bias b, shape (out_features), or null when built with <c>bias: false</c>; state-dict name <c>bias</c>.</summary>
    public Parameter? Bias { get; }

    /// <summary>Size of each input row.</summary>
    public int InFeatures { get; }

    /// <summary>Size of each output row.</summary>
    public int OutFeatures { get; }

    /// <summary>Creates the layer with PyTorch's default initialisation drawn from <paramref name="generator"/> (default <see cref="Generator.Default"/>).</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"Linear: features must be positive, got in = {inFeatures}, out = {outFeatures}.");
        InFeatures = inFeatures; OutFeatures = outFeatures;
        using (TensorScope.Suspend())
        {
            Weight = RegisterParameter("weight", Tensor.Empty(outFeatures, inFeatures));
            Init.KaimingUniform_(Weight, a: Math.Sqrt(5), generator: generator);
            if (bias)
            {
                Bias = RegisterParameter("bias", Tensor.Empty(outFeatures));
                double bound = 1 / Math.Sqrt(inFeatures);
                Init.Uniform_(Bias, -bound, bound, generator);
            }
            else Bias = RegisterParameter("bias", (Parameter?)null);
        }
    }

    /// <summary>y = x·Wᵀ + b: (…, in) → (…, out).</summary>
    /// <exception cref="ArgumentException">The last axis of <paramref name="input"/> is not in_features; the message names both shapes.</exception>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank == 0 || input.Shape[^1] != InFeatures)
            throw new ArgumentException($"Linear: input shape {ShapeUtil.Format([.. input.Shape])} does not end in in_features = {InFeatures} (weight shape {ShapeUtil.Format([.. Weight.Shape])}).");
        return Functional.Linear(input, Weight, Bias);
    }

    /// <inheritdoc/>
    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is null ? "False" : "True")}";
}
