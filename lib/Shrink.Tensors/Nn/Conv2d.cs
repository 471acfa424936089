namespace Shrink.Tensors.Nn;

/// <summary>
/// 2-D convolution (PyTorch <c>nn.Conv2d</c>): x (B, C_in, H, W) → (B, C_out, H', W') with weight
/// (C_out, C_in/groups, k, k) and bias (C_out). Initialised as PyTorch: Kaiming-uniform with a = √5 for the weight,
/// U(−1/√fan_in, 1/√fan_in) for the bias, fan_in = C_in/groups · k².
/// </summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    /// <summary>Weight (C_out, C_in/groups, k, k).</summary>
    public Parameter Weight { get; }
    /// <summary>Bias (C_out) or null.</summary>
    public Parameter? Bias { get; }
    /// <summary>Input channels.</summary>
    public int InChannels { get; }
    /// <summary>Output channels.</summary>
    public int OutChannels { get; }
    /// <summary>Square kernel side.</summary>
    public int KernelSize { get; }
    /// <summary>Step between windows.</summary>
    public int Stride { get; }
    /// <summary>Zero padding on each side.</summary>
    public int Padding { get; }
    /// <summary>Spacing between kernel taps.</summary>
    public int Dilation { get; }
    /// <summary>Channel groups (C_in for depthwise).</summary>
    public int Groups { get; }

    /// <summary>Creates the layer with PyTorch's default initialisation drawn from <paramref name="generator"/>.</summary>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true, Generator? generator = null)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride <= 0 || padding < 0 || dilation <= 0 || groups <= 0)
            throw new ArgumentException($"Conv2d: invalid arguments (in={inChannels}, out={outChannels}, kernel={kernelSize}, stride={stride}, padding={padding}, dilation={dilation}, groups={groups}).");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: groups={groups} must divide in_channels={inChannels} and out_channels={outChannels}.");
        InChannels = inChannels; OutChannels = outChannels; KernelSize = kernelSize; Stride = stride; Padding = padding; Dilation = dilation; Groups = groups;
        Weight = RegisterParameter("weight", Tensor.Empty(outChannels, inChannels / groups, kernelSize, kernelSize));
        Init.KaimingUniform_(Weight, a: Math.Sqrt(5), generator: generator);
        if (bias)
        {
            Bias = RegisterParameter("bias", Tensor.Empty(outChannels));
            double bound = 1 / Math.Sqrt(inChannels / groups * kernelSize * kernelSize);
            Init.Uniform_(Bias, -bound, bound, generator);
        }
        else RegisterParameter("bias", (Parameter?)null);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Functional.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);

    /// <inheritdoc/>
    public override string ExtraRepr() =>
        $"{InChannels}, {OutChannels}, kernel_size=({KernelSize}, {KernelSize}), stride=({Stride}, {Stride})" +
        (Padding != 0 ? $", padding=({Padding}, {Padding})" : "") + (Dilation != 1 ? $", dilation=({Dilation}, {Dilation})" : "") +
        (Groups != 1 ? $", groups={Groups}" : "") + (Bias is null ? ", bias=False" : "");
}
