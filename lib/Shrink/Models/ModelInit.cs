using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Models;

/// <summary>Shared construction helpers of the convolutional models (initialisation as torchvision, input checks).</summary>
internal static class ModelInit
{
    /// <summary>
    /// A bias-free Conv2d initialised as torchvision's ResNet: W ~ N(0, 2/fan_out) with fan_out = C_out·k²
    /// (<c>kaiming_normal_(mode="fan_out", nonlinearity="relu")</c>). The layer's own default draw is overwritten.
    /// </summary>
    public static Conv2d Conv(int inChannels, int outChannels, int kernelSize, int stride, int padding, Generator generator, bool bias = false)
    {
        var conv = new Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: bias, generator: generator);
        using (TensorScope.Suspend())
        {
            Init.KaimingNormal_(conv.Weight, mode: "fan_out", nonlinearity: "relu", generator: generator);
            if (conv.Bias is { } b) Init.Zeros_(b);
        }
        return conv;
    }

    /// <summary>Checks that <paramref name="x"/> is (B, C, H, W) with C = <paramref name="channels"/>; the message names the model and the shape.</summary>
    public static void CheckImages(string model, Tensor x, int channels)
    {
        if (x.Rank != 4 || x.Shape[1] != channels)
            throw new ArgumentException($"{model}: input must be (B, {channels}, H, W); got {ShapeUtil.Format([.. x.Shape])}.");
    }
}
