using Shrink.Tensors;
using Shrink.Tensors.Nn;
using F = Shrink.Tensors.Functional;

namespace Shrink.Models;

/// <summary>
/// The skeleton the convolutional teachers share (<see cref="ResNetCnn"/>, <see cref="InvolutionNet"/>), named as in
/// torchvision and timm: stem ReLU(BN(Conv3×3(x))) (<c>conv1</c>, <c>bn1</c>) → stages <c>layer1</c> … <c>layerS</c>
/// (built by the subclass) → global average pooling → <c>fc</c>.
/// <para>
/// Construction order fixes the order of parameters and of random draws: the stem is built by this constructor, then the
/// subclass builds its stages and calls <see cref="SetStagesAndHead"/>, which builds <c>fc</c> last.
/// </para>
/// </summary>
public abstract class StagedConvNet : Module<Tensor, Tensor>
{
    private readonly string _kind;
    private readonly int _inChannels;

    /// <summary>Builds the stem C_in → <paramref name="width"/> (3×3 convolution without bias, BatchNorm) from <paramref name="generator"/>.</summary>
    protected StagedConvNet(string kind, int inChannels, int width, Generator generator)
    {
        _kind = kind;
        _inChannels = inChannels;
        Conv1 = RegisterModule("conv1", ModelInit.Conv(inChannels, width, 3, 1, 1, generator));
        Bn1 = RegisterModule("bn1", new BatchNorm2d(width));
    }

    /// <summary>Stem 3×3 convolution C_in → Width (no bias).</summary>
    public Conv2d Conv1 { get; }
    /// <summary>Stem BatchNorm.</summary>
    public BatchNorm2d Bn1 { get; }
    /// <summary>The stages <c>layer1</c> … <c>layerS</c>.</summary>
    public IReadOnlyList<Sequential> Layers { get; private set; } = [];
    /// <summary>Classifier head, pooled features → classes.</summary>
    public Linear Fc { get; private set; } = null!;

    /// <summary>Registers <paramref name="stages"/> as <c>layer1</c> … and builds the head <c>fc</c> (<paramref name="numFeatures"/> → <paramref name="numClasses"/>).</summary>
    protected void SetStagesAndHead(IEnumerable<Sequential> stages, int numFeatures, int numClasses, Generator generator)
    {
        var layers = new List<Sequential>();
        foreach (var stage in stages) layers.Add(RegisterModule($"layer{layers.Count + 1}", stage));
        Layers = layers;
        Fc = RegisterModule("fc", new Linear(numFeatures, numClasses, generator: generator));
    }

    /// <summary>The last feature map before pooling (timm <c>forward_features</c>): (B, C, H, W) → (B, NumFeatures, h, w).</summary>
    /// <exception cref="ArgumentException">The input is not (B, InChannels, H, W); the message names its shape.</exception>
    public Tensor ForwardFeatures(Tensor x)
    {
        ModelInit.CheckImages(_kind, x, _inChannels);
        var y = Bn1.Forward(Conv1.Forward(x)).Relu();
        foreach (var layer in Layers) y = layer.Forward(y);
        return y;
    }

    /// <summary>Global average pooling then <c>fc</c> (timm <c>forward_head</c>); with <paramref name="preLogits"/>, the pooled (B, D) features.</summary>
    public Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        var pooled = F.GlobalAvgPool2d(features);                        // (B, D)
        return preLogits ? pooled : Fc.Forward(pooled);
    }

    /// <summary>Logits (B, NumClasses) of images (B, InChannels, H, W).</summary>
    public override Tensor Forward(Tensor input) => ForwardHead(ForwardFeatures(input));
}
