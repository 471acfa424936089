using System.Globalization;
using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>
/// Hyperparameters of <see cref="ResNetCnn"/>, a CIFAR-style ResNet (He et al. 2016, §4.2): a 3×3 stem, then
/// <see cref="Stages"/> stages of <see cref="BlocksPerStage"/> basic blocks with widths
/// <see cref="Width"/>·2^s (s = 0, 1, …), the first block of every stage after the first halving the resolution, then
/// global average pooling and a linear head. Depth (weighted layers) = 2·Stages·BlocksPerStage + 2, so the classic
/// 3-stage nets are resnet8 (1 block per stage), resnet14 (2), resnet20 (3).
/// </summary>
/// <param name="InChannels">Image channels: 1 for Fashion-MNIST, 3 for CIFAR-10.</param>
/// <param name="NumClasses">Outputs of the head.</param>
/// <param name="Width">Channels of the stem and of the first stage; stage s has Width·2^s.</param>
/// <param name="BlocksPerStage">Basic blocks per stage (n in the 6n + 2 depth of CIFAR ResNets).</param>
/// <param name="Stages">Number of stages (layer1 … layerS).</param>
/// <param name="ImageSize">Nominal square input size used by <see cref="ResNetCnn.Flops"/> (the model itself accepts any size).</param>
/// <param name="ZeroInitResidual">Start every block's last BatchNorm at γ = 0, so each block starts as the identity (torchvision's <c>zero_init_residual</c>).</param>
public sealed record ResNetCnnConfig(
    int InChannels = 1,
    int NumClasses = 10,
    int Width = 16,
    int BlocksPerStage = 1,
    int Stages = 3,
    int ImageSize = 28,
    bool ZeroInitResidual = false)
{
    /// <summary>Weighted layers: stem conv + 2 per basic block + the head, 2·Stages·BlocksPerStage + 2.</summary>
    public int Depth => 2 * Stages * BlocksPerStage + 2;

    /// <summary>Channels of stage <paramref name="stage"/> (0-based): Width·2^stage.</summary>
    public int StageWidth(int stage) => Width << stage;

    /// <summary>
    /// The name in timm's grammar: <c>resnet{depth}_w{width}</c>, with <c>_s{stages}</c> appended when Stages ≠ 3
    /// (input channels, classes and image size are creation arguments, as in <c>timm.create_model(name, in_chans=…, num_classes=…)</c>).
    /// </summary>
    public string Name => Stages == 3 ? $"resnet{Depth}_w{Width}" : $"resnet{Depth}_w{Width}_s{Stages}";

    private static readonly Regex NamePattern = new(@"^resnet(\d+)_w(\d+)(?:_s(\d+))?$", RegexOptions.CultureInvariant);

    /// <summary>
    /// The configuration named <paramref name="name"/> (<c>resnet{depth}_w{width}[_s{stages}]</c>, depth = 2·stages·n + 2),
    /// e.g. <c>resnet8_w16</c> (≈ 78k parameters for 1×28×28), <c>resnet14_w16</c>, <c>resnet20_w16</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The name does not follow the grammar or its depth is not 2·stages·n + 2.</exception>
    public static ResNetCnnConfig FromName(string name, int inChannels = 1, int numClasses = 10, int imageSize = 28)
    {
        var m = NamePattern.Match(name);
        if (!m.Success)
            throw new ArgumentException($"ResNetCnn: unknown model name '{name}'; expected resnet{{depth}}_w{{width}}[_s{{stages}}], e.g. {string.Join(", ", ResNetCnn.ModelNames)}.");
        int depth = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        int width = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        int stages = m.Groups[3].Success ? int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : 3;
        if (stages < 1 || depth < 2 + 2 * stages || (depth - 2) % (2 * stages) != 0)
            throw new ArgumentException($"ResNetCnn: '{name}' has depth {depth}, which is not 2·{stages}·n + 2 for a positive n (e.g. {2 * stages + 2}, {4 * stages + 2}, {6 * stages + 2}).");
        return new ResNetCnnConfig(inChannels, numClasses, width, (depth - 2) / (2 * stages), stages, imageSize).Validated();
    }

    /// <summary>This configuration if every value is in range.</summary>
    /// <exception cref="ArgumentException">A non-positive size or count; the message names it.</exception>
    public ResNetCnnConfig Validated()
    {
        if (InChannels < 1 || NumClasses < 1 || Width < 1 || BlocksPerStage < 1 || Stages < 1 || ImageSize < 1)
            throw new ArgumentException($"ResNetCnnConfig: every size must be positive, got {this}.");
        if (Stages > 16) throw new ArgumentException($"ResNetCnnConfig: Stages = {Stages} is too many (at most 16).");
        return this;
    }
}

/// <summary>
/// The ResNet basic block (torchvision <c>BasicBlock</c>, expansion 1):
/// y = ReLU(BN₂(Conv₂(ReLU(BN₁(Conv₁(x))))) + shortcut(x)), both convolutions 3×3 without bias, the first with the
/// block's stride; shortcut(x) = x, or BN(Conv1×1_stride(x)) (<c>downsample.0</c>, <c>downsample.1</c>) when the
/// stride or the channel count changes (torchvision's option B).
/// Parameter names: <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c>, <c>downsample.0</c>, <c>downsample.1</c>.
/// </summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    /// <summary>3×3 convolution C_in → C_out with the block's stride.</summary>
    public Conv2d Conv1 => conv1;
    /// <summary>BatchNorm after <see cref="Conv1"/>.</summary>
    public BatchNorm2d Bn1 => bn1;
    /// <summary>3×3 convolution C_out → C_out, stride 1.</summary>
    public Conv2d Conv2 => conv2;
    /// <summary>BatchNorm after <see cref="Conv2"/> (γ = 0 at start with zero-init-residual).</summary>
    public BatchNorm2d Bn2 => bn2;
    /// <summary>Projection shortcut (1×1 conv with stride, BatchNorm), or null for the identity.</summary>
    public Sequential? Downsample => downsample;

    /// <summary>A block C_in → C_out with the given stride; weights are set by <see cref="ModelInit.TorchvisionConvNet"/>.</summary>
    public BasicBlock(int inChannels, int outChannels, int stride) : base(nameof(BasicBlock))
    {
        conv1 = ModelInit.Conv(inChannels, outChannels, 3, stride, 1);
        bn1 = nn.BatchNorm2d(outChannels);
        conv2 = ModelInit.Conv(outChannels, outChannels, 3, 1, 1);
        bn2 = nn.BatchNorm2d(outChannels);
        downsample = stride != 1 || inChannels != outChannels
            ? nn.Sequential(ModelInit.Conv(inChannels, outChannels, 1, stride, 0), nn.BatchNorm2d(outChannels))
            : null;
        RegisterComponents();
    }

    /// <summary>(B, C_in, H, W) → (B, C_out, ⌊(H − 1)/s⌋ + 1, ⌊(W − 1)/s⌋ + 1).</summary>
    public override Tensor forward(Tensor input)
    {
        var y = nn.functional.relu(bn1.forward(conv1.forward(input)));           // (B, C_out, H/s, W/s)
        y = bn2.forward(conv2.forward(y));                                       // (B, C_out, H/s, W/s)
        var shortcut = downsample is null ? input : downsample.forward(input);  // (B, C_out, H/s, W/s)
        return nn.functional.relu(y + shortcut);                                 // (B, C_out, H/s, W/s)
    }
}

/// <summary>
/// A small CIFAR-style ResNet, the convolutional teacher of LIB-KD (papers/distillation.md §3): its inductive biases are
/// locality and translation equivariance (shared 3×3 kernels), in contrast to the involution teacher
/// (<see cref="InvolutionNet"/>) and the ViT student.
/// <para>
/// x (B, C, H, W) → stem: ReLU(BN(Conv3×3(x))) (<c>conv1</c>, <c>bn1</c>) → stages <c>layer1</c> … <c>layerS</c> of
/// <see cref="BasicBlock"/>s (<c>layer1.0.conv1</c>, <c>layer2.0.downsample.0</c>, …), stage s with Width·2^s channels and
/// stride 2 in its first block for s ≥ 1 → global average pooling → <c>fc</c> (logits (B, classes)).
/// There is no max-pool in the stem (CIFAR variant), so 28×28 inputs give 28, 14, 7 resolution stages.
/// Names and initialisation follow torchvision's <c>resnet.py</c> (Kaiming-normal fan-out convolutions, BN γ = 1, β = 0,
/// PyTorch-default Linear), so state dicts move to and from PyTorch with no mapping table.
/// </para>
/// <code>
/// var teacher = ResNetCnn.Create("resnet8_w16", inChannels: 1, numClasses: 10, seed: 0);
/// var logits = teacher.forward(images);   // (B, 10)
/// </code>
/// </summary>
public sealed class ResNetCnn : StagedConvNet, IModelCost
{
    /// <summary>Model names of the recommended configurations (see <see cref="ResNetCnnConfig.FromName"/> for the grammar).</summary>
    public static IReadOnlyList<string> ModelNames { get; } = ["resnet8_w16", "resnet14_w16", "resnet20_w16", "resnet8_w32"];

    /// <summary>The configuration this model was built from.</summary>
    public ResNetCnnConfig Config { get; }

    /// <summary>Channels of the pooled features fed to the head (timm <c>num_features</c>): Width·2^(Stages − 1).</summary>
    public int NumFeatures => Config.StageWidth(Config.Stages - 1);

    /// <summary>Builds the model and initialises every weight from <paramref name="seed"/> as torchvision's ResNet (<see cref="ModelInit.TorchvisionConvNet"/>).</summary>
    public ResNetCnn(ResNetCnnConfig? config = null, ulong seed = 0) : this(seed, (config ?? new ResNetCnnConfig()).Validated())
    {
    }

    private ResNetCnn(ulong seed, ResNetCnnConfig c) : base("ResNetCnn", c.InChannels, c.Width)
    {
        Config = c;
        var stages = new List<Sequential>();
        int inC = c.Width;
        for (int s = 0; s < c.Stages; s++)
        {
            int outC = c.StageWidth(s);
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int i = 0; i < c.BlocksPerStage; i++)
            {
                blocks.Add(new BasicBlock(inC, outC, s > 0 && i == 0 ? 2 : 1));
                inC = outC;
            }
            stages.Add(nn.Sequential(blocks));
        }
        SetStagesAndHead(stages, NumFeatures, c.NumClasses);
        ModelInit.TorchvisionConvNet(this, ModelInit.Generator(seed), c.ZeroInitResidual);
    }

    /// <summary>The model named <paramref name="name"/> in timm's grammar, e.g. <c>resnet8_w16</c> (see <see cref="ResNetCnnConfig.FromName"/>), initialised from <paramref name="seed"/>.</summary>
    public static ResNetCnn Create(string name, int inChannels = 1, int numClasses = 10, int imageSize = 28, ulong seed = 0) =>
        new(ResNetCnnConfig.FromName(name, inChannels, numClasses, imageSize), seed);

    /// <inheritdoc/>
    /// <remarks>
    /// Stem C_in·W·9 + 2W; each block C_in·C_out·9 + C_out²·9 + 4·C_out, plus C_in·C_out + 2·C_out for a projection shortcut;
    /// head D·K + K.
    /// </remarks>
    public long AnalyticParameterCount
    {
        get
        {
            var c = Config;
            long n = LayerCost.Conv2dParameters(c.InChannels, c.Width, 3, bias: false) + LayerCost.BatchNormParameters(c.Width);
            foreach (var (inC, outC, stride, _) in Blocks(c.ImageSize))
            {
                n += LayerCost.Conv2dParameters(inC, outC, 3, bias: false) + LayerCost.BatchNormParameters(outC);
                n += LayerCost.Conv2dParameters(outC, outC, 3, bias: false) + LayerCost.BatchNormParameters(outC);
                if (stride != 1 || inC != outC) n += LayerCost.Conv2dParameters(inC, outC, 1, bias: false) + LayerCost.BatchNormParameters(outC);
            }
            return n + LayerCost.LinearParameters(NumFeatures, c.NumClasses);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// MACs per image of size S×S: stem S²·W·C_in·9; each block with output size s×s: s²·C_out·C_in·9 + s²·C_out²·9
    /// (+ s²·C_out·C_in for a projection shortcut); head D·K. Counted: convolutions and the linear head only.
    /// </remarks>
    public long Flops(int batch = 1)
    {
        var c = Config;
        long macs = LayerCost.Conv2dMacs(c.InChannels, c.Width, 3, c.ImageSize, c.ImageSize);
        foreach (var (inC, outC, stride, outSize) in Blocks(c.ImageSize))
        {
            macs += LayerCost.Conv2dMacs(inC, outC, 3, outSize, outSize) + LayerCost.Conv2dMacs(outC, outC, 3, outSize, outSize);
            if (stride != 1 || inC != outC) macs += LayerCost.Conv2dMacs(inC, outC, 1, outSize, outSize);
        }
        macs += LayerCost.LinearMacs(NumFeatures, c.NumClasses);
        return 2 * macs * batch;
    }

    /// <summary>(C_in, C_out, stride, output size) of every block in order, for a square input of <paramref name="size"/>.</summary>
    private IEnumerable<(int InC, int OutC, int Stride, int OutSize)> Blocks(int size)
    {
        var c = Config;
        int inC = c.Width;
        for (int s = 0; s < c.Stages; s++)
            for (int i = 0; i < c.BlocksPerStage; i++)
            {
                int stride = s > 0 && i == 0 ? 2 : 1;
                size = LayerCost.ConvOutputSize(size, 3, stride, 1);
                yield return (inC, c.StageWidth(s), stride, size);
                inC = c.StageWidth(s);
            }
    }
}
