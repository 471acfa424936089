namespace Shrink.Tensors;

/// <summary>
/// Neural-network functions (PyTorch's <c>torch.nn.functional</c>): layers, losses, attention, convolution and
/// pooling, each with its backward rule beside its forward. Write <c>using F = Shrink.Tensors.Functional;</c> to read
/// code the way PyTorch papers write it (<c>F.CrossEntropy(logits, y)</c>). One op family per file: Ops/*.cs.
/// </summary>
public static partial class Functional
{
}
