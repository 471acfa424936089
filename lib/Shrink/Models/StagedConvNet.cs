using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>
/// The skeleton the convolutional teachers share (<see cref="ResNetCnn"/>, <see cref="InvolutionNet"/>), named as in
/// torchvision and timm: stem ReLU(BN(Conv3×3(x))) (<c>conv1</c>, <c>bn1</c>) → stages <c>layer1</c> … <c>layerS</c>
/// (built by the subclass) → global average pooling → <c>fc</c>.
/// <para>
/// Construction order fixes the order of parameters and of random draws: the stem is built by this constructor, then the
/// subclass builds its stages and calls <see cref="SetStagesAndHead"/>, which builds <c>fc</c> last; then the subclass
/// initialises every weight from its seed (<see cref="ModelInit.TorchvisionConvNet"/>). BatchNorm running statistics are
/// buffers (<c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>), in the state dict and moved by <c>.to()</c>.
/// </para>
/// </summary>
public abstract class StagedConvNet : nn.Module<Tensor, Tensor>
{
    private readonly string _kind;
    private readonly int _inChannels;
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly List<Sequential> _layers = [];
    private Linear fc = null!;

    /// <summary>Builds the stem C_in → <paramref name="width"/> (3×3 convolution without bias, BatchNorm).</summary>
    protected StagedConvNet(string kind, int inChannels, int width) : base(kind)
    {
        _kind = kind;
        _inChannels = inChannels;
        conv1 = ModelInit.Conv(inChannels, width, 3, 1, 1);
        bn1 = nn.BatchNorm2d(width);
        register_module("conv1", conv1);
        register_module("bn1", bn1);
    }

    /// <summary>Stem 3×3 convolution C_in → Width (no bias).</summary>
    public Conv2d Conv1 => conv1;
    /// <summary>Stem BatchNorm.</summary>
    public BatchNorm2d Bn1 => bn1;
    /// <summary>The stages <c>layer1</c> … <c>layerS</c>.</summary>
    public IReadOnlyList<Sequential> Layers => _layers;
    /// <summary>Classifier head, pooled features → classes.</summary>
    public Linear Fc => fc;

    /// <summary>Registers <paramref name="stages"/> as <c>layer1</c> … and builds the head <c>fc</c> (<paramref name="numFeatures"/> → <paramref name="numClasses"/>).</summary>
    protected void SetStagesAndHead(IEnumerable<Sequential> stages, int numFeatures, int numClasses)
    {
        foreach (var stage in stages)
        {
            _layers.Add(stage);
            register_module($"layer{_layers.Count}", stage);
        }
        fc = nn.Linear(numFeatures, numClasses);
        register_module("fc", fc);
    }

    /// <summary>The last feature map before pooling (timm <c>forward_features</c>): (B, C, H, W) → (B, NumFeatures, h, w).</summary>
    /// <exception cref="ArgumentException">The input is not (B, InChannels, H, W); the message names its shape.</exception>
    public Tensor ForwardFeatures(Tensor x)
    {
        ModelInit.CheckImages(_kind, x, _inChannels);
        var y = nn.functional.relu(bn1.forward(conv1.forward(x)));    // (B, W, H, W')
        foreach (var layer in _layers) y = layer.forward(y);           // (B, C_s, H/2^s, W/2^s)
        return y;
    }

    /// <summary>Global average pooling then <c>fc</c> (timm <c>forward_head</c>); with <paramref name="preLogits"/>, the pooled (B, D) features.</summary>
    public Tensor ForwardHead(Tensor features, bool preLogits = false)
    {
        var pooled = features.mean([2, 3]);                           // (B, D)
        return preLogits ? pooled : fc.forward(pooled);               // (B, K)
    }

    /// <summary>Logits (B, NumClasses) of images (B, InChannels, H, W).</summary>
    public override Tensor forward(Tensor input) => ForwardHead(ForwardFeatures(input));
}
