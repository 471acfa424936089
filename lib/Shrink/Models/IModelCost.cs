namespace Shrink.Models;

/// <summary>
/// Analytic cost of a model, computed from its configuration alone (no forward pass), so a notebook can put
/// "parameters" and "FLOPs" next to accuracy for every teacher and student.
/// <para>
/// <b>What is counted.</b> FLOPs = 2 × multiply-accumulates (MACs) of one forward pass, counting only the
/// products of the dense layers: every <c>Conv2d</c> (including 1×1 convolutions and the involution's
/// kernel-generation convolutions), every <c>Linear</c>, every matrix product, and the involution's aggregation
/// Σ_{u,v} W·x (one MAC per output element per kernel tap). Excluded (they are O(activations), not O(weights × activations)):
/// bias additions, normalisation (BatchNorm/LayerNorm), activations, pooling, residual additions and softmax.
/// This is the fvcore/ptflops convention with their "FLOPs" (which are MACs) multiplied by 2.
/// </para>
/// </summary>
public interface IModelCost
{
    /// <summary>
    /// Number of parameter elements from the configuration's closed-form formula; equals <c>Module.ParameterCount()</c>
    /// (which counts the registered tensors), and a test checks that it does. BatchNorm running statistics are buffers,
    /// not parameters, and are not counted.
    /// </summary>
    long AnalyticParameterCount { get; }

    /// <summary>FLOPs (2 × MACs, see <see cref="IModelCost"/>) of one forward pass on <paramref name="batch"/> inputs of the configured input size.</summary>
    long Flops(int batch = 1);
}

/// <summary>
/// Closed-form parameter and multiply-accumulate counts of the layers models are built from (the terms of
/// <see cref="IModelCost"/>). All counts are exact integers.
/// </summary>
public static class LayerCost
{
    /// <summary>Output size of a convolution or pooling window along one axis: ⌊(n + 2p − d·(k − 1) − 1)/s⌋ + 1 (PyTorch).</summary>
    public static int ConvOutputSize(int n, int kernelSize, int stride = 1, int padding = 0, int dilation = 1) =>
        (n + 2 * padding - dilation * (kernelSize - 1) - 1) / stride + 1;

    /// <summary>Parameters of a Conv2d: C_out·(C_in/groups)·k² weights plus C_out biases when <paramref name="bias"/>.</summary>
    public static long Conv2dParameters(int inChannels, int outChannels, int kernelSize, int groups = 1, bool bias = true) =>
        (long)outChannels * (inChannels / groups) * kernelSize * kernelSize + (bias ? outChannels : 0);

    /// <summary>MACs of a Conv2d producing a (C_out, outH, outW) map per image: C_out·outH·outW·(C_in/groups)·k² (bias excluded).</summary>
    public static long Conv2dMacs(int inChannels, int outChannels, int kernelSize, int outH, int outW, int groups = 1) =>
        (long)outChannels * outH * outW * (inChannels / groups) * kernelSize * kernelSize;

    /// <summary>Parameters of a Linear layer: in·out weights plus out biases when <paramref name="bias"/>.</summary>
    public static long LinearParameters(int inFeatures, int outFeatures, bool bias = true) =>
        (long)inFeatures * outFeatures + (bias ? outFeatures : 0);

    /// <summary>MACs of a Linear layer on one row: in·out (bias excluded).</summary>
    public static long LinearMacs(int inFeatures, int outFeatures) => (long)inFeatures * outFeatures;

    /// <summary>Parameters of an affine BatchNorm over C channels: γ and β, 2·C (running mean/variance are buffers).</summary>
    public static long BatchNormParameters(int channels, bool affine = true) => affine ? 2L * channels : 0;
}
