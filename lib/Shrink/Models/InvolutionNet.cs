using System.Globalization;
using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>
/// Hyperparameters of <see cref="InvolutionNet"/>, a small RedNet (Li et al. 2021): a 3×3 conv stem, then
/// <see cref="Stages"/> stages of <see cref="BlocksPerStage"/> involution bottlenecks with mid widths
/// <see cref="Width"/>·2^s and output widths Width·2^s·<see cref="Expansion"/>, global pooling and a linear head.
/// Depth (weighted layers, counting an involution as one) = 3·Stages·BlocksPerStage + 2.
/// </summary>
/// <param name="InChannels">Image channels.</param>
/// <param name="NumClasses">Outputs of the head.</param>
/// <param name="Width">Channels of the stem and mid (involution) channels of the first stage; stage s has Width·2^s.</param>
/// <param name="BlocksPerStage">Bottlenecks per stage.</param>
/// <param name="Stages">Number of stages (layer1 … layerS); stage s ≥ 1 halves the resolution in its first block.</param>
/// <param name="Expansion">Output channels of a bottleneck = mid channels × Expansion (RedNet and ResNet: 4).</param>
/// <param name="KernelSize">Involution kernel K (odd). RedNet uses 7; the default 3 keeps the unfolded (B, C·K², L) tensor small on a CPU.</param>
/// <param name="GroupChannels">Channels sharing one generated kernel (reference: 16); must divide every mid width.</param>
/// <param name="ReductionRatio">Reduction r of the kernel-generation branch (reference: 4).</param>
/// <param name="ImageSize">Nominal square input size used by <see cref="InvolutionNet.Flops"/>.</param>
public sealed record InvolutionNetConfig(
    int InChannels = 1,
    int NumClasses = 10,
    int Width = 16,
    int BlocksPerStage = 1,
    int Stages = 3,
    int Expansion = 4,
    int KernelSize = 3,
    int GroupChannels = 16,
    int ReductionRatio = 4,
    int ImageSize = 28)
{
    /// <summary>3·Stages·BlocksPerStage + 2 (stem, three layers per bottleneck, head).</summary>
    public int Depth => 3 * Stages * BlocksPerStage + 2;

    /// <summary>Mid (involution) channels of stage <paramref name="stage"/>: Width·2^stage.</summary>
    public int MidWidth(int stage) => Width << stage;

    /// <summary>Output channels of stage <paramref name="stage"/>: Width·2^stage·Expansion.</summary>
    public int StageWidth(int stage) => MidWidth(stage) * Expansion;

    /// <summary>
    /// The name in timm's grammar: <c>rednet{depth}_w{width}</c>, then <c>_k{K}</c> when K ≠ 3, <c>_e{expansion}</c> when ≠ 4,
    /// <c>_s{stages}</c> when ≠ 3; e.g. <c>rednet11_w16</c>, <c>rednet11_w16_k7</c>.
    /// </summary>
    public string Name => $"rednet{Depth}_w{Width}" + (KernelSize != 3 ? $"_k{KernelSize}" : "")
        + (Expansion != 4 ? $"_e{Expansion}" : "") + (Stages != 3 ? $"_s{Stages}" : "");

    private static readonly Regex NamePattern = new(@"^rednet(\d+)_w(\d+)(?:_k(\d+))?(?:_e(\d+))?(?:_s(\d+))?$", RegexOptions.CultureInvariant);

    /// <summary>The configuration named <paramref name="name"/> (see <see cref="Name"/>; depth = 3·stages·n + 2).</summary>
    /// <exception cref="ArgumentException">The name does not follow the grammar or the depth does not fit.</exception>
    public static InvolutionNetConfig FromName(string name, int inChannels = 1, int numClasses = 10, int imageSize = 28)
    {
        var m = NamePattern.Match(name);
        if (!m.Success)
            throw new ArgumentException($"InvolutionNet: unknown model name '{name}'; expected rednet{{depth}}_w{{width}}[_k{{K}}][_e{{expansion}}][_s{{stages}}], e.g. {string.Join(", ", InvolutionNet.ModelNames)}.");
        int Group(int i, int fallback) => m.Groups[i].Success ? int.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) : fallback;
        int depth = Group(1, 0), width = Group(2, 0), k = Group(3, 3), expansion = Group(4, 4), stages = Group(5, 3);
        if (stages < 1 || depth < 2 + 3 * stages || (depth - 2) % (3 * stages) != 0)
            throw new ArgumentException($"InvolutionNet: '{name}' has depth {depth}, which is not 3·{stages}·n + 2 for a positive n (e.g. {3 * stages + 2}, {6 * stages + 2}).");
        return new InvolutionNetConfig(inChannels, numClasses, width, (depth - 2) / (3 * stages), stages, expansion, k, ImageSize: imageSize).Validated();
    }

    /// <summary>This configuration if it is consistent.</summary>
    /// <exception cref="ArgumentException">A non-positive size, an even kernel, or a mid width not divisible by GroupChannels or smaller than ReductionRatio.</exception>
    public InvolutionNetConfig Validated()
    {
        if (InChannels < 1 || NumClasses < 1 || Width < 1 || BlocksPerStage < 1 || Stages < 1 || Stages > 16 || Expansion < 1
            || KernelSize < 1 || GroupChannels < 1 || ReductionRatio < 1 || ImageSize < 1)
            throw new ArgumentException($"InvolutionNetConfig: every size must be positive (and Stages ≤ 16), got {this}.");
        if (KernelSize % 2 == 0) throw new ArgumentException($"InvolutionNetConfig: KernelSize must be odd, got {KernelSize}.");
        if (Width % GroupChannels != 0)
            throw new ArgumentException($"InvolutionNetConfig: Width {Width} must be a multiple of GroupChannels {GroupChannels} (each involution has Width·2^s channels in groups of {GroupChannels}).");
        if (Width < ReductionRatio)
            throw new ArgumentException($"InvolutionNetConfig: Width {Width} must be at least ReductionRatio {ReductionRatio}.");
        return this;
    }
}

/// <summary>
/// RedNet's bottleneck (mmcls <c>Bottleneck</c> with its 3×3 conv replaced by <see cref="Involution"/>):
/// y = ReLU(BN₃(Conv1×1(ReLU(BN₂(Inv(ReLU(BN₁(Conv1×1(x)))))))) + shortcut(x)), C_in → mid → mid → C_out, the stride on the
/// involution; shortcut(x) = x, or BN(Conv1×1_stride(x)) when the stride or the channel count changes.
/// Parameter names: <c>conv1</c>, <c>bn1</c>, <c>conv2</c> (the involution: <c>conv2.conv1.conv</c>, <c>conv2.conv1.bn</c>,
/// <c>conv2.conv2.conv</c>), <c>bn2</c>, <c>conv3</c>, <c>bn3</c>, <c>downsample.0</c>, <c>downsample.1</c>.
/// </summary>
public sealed class InvolutionBottleneck : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Involution conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential? downsample;

    /// <summary>1×1 convolution C_in → mid (no bias).</summary>
    public Conv2d Conv1 => conv1;
    /// <summary>BatchNorm after <see cref="Conv1"/>.</summary>
    public BatchNorm2d Bn1 => bn1;
    /// <summary>The K×K involution on mid channels, carrying the block's stride.</summary>
    public Involution Conv2 => conv2;
    /// <summary>BatchNorm after the involution.</summary>
    public BatchNorm2d Bn2 => bn2;
    /// <summary>1×1 convolution mid → C_out (no bias).</summary>
    public Conv2d Conv3 => conv3;
    /// <summary>BatchNorm after <see cref="Conv3"/>.</summary>
    public BatchNorm2d Bn3 => bn3;
    /// <summary>Projection shortcut (1×1 conv with stride, BatchNorm), or null for the identity.</summary>
    public Sequential? Downsample => downsample;

    /// <summary>A bottleneck C_in → mid → C_out with the given stride and involution settings; weights are set by <see cref="ModelInit.TorchvisionConvNet"/>.</summary>
    public InvolutionBottleneck(int inChannels, int midChannels, int outChannels, int stride, int kernelSize, int groupChannels, int reductionRatio)
        : base(nameof(InvolutionBottleneck))
    {
        conv1 = ModelInit.Conv(inChannels, midChannels, 1, 1, 0);
        bn1 = nn.BatchNorm2d(midChannels);
        conv2 = new Involution(midChannels, kernelSize, stride, groupChannels, reductionRatio);
        bn2 = nn.BatchNorm2d(midChannels);
        conv3 = ModelInit.Conv(midChannels, outChannels, 1, 1, 0);
        bn3 = nn.BatchNorm2d(outChannels);
        downsample = stride != 1 || inChannels != outChannels
            ? nn.Sequential(ModelInit.Conv(inChannels, outChannels, 1, stride, 0), nn.BatchNorm2d(outChannels))
            : null;
        RegisterComponents();
    }

    /// <summary>(B, C_in, H, W) → (B, C_out, H/s, W/s).</summary>
    public override Tensor forward(Tensor input)
    {
        var y = nn.functional.relu(bn1.forward(conv1.forward(input)));           // (B, mid, H, W)
        y = nn.functional.relu(bn2.forward(conv2.forward(y)));                   // (B, mid, H/s, W/s)
        y = bn3.forward(conv3.forward(y));                                       // (B, C_out, H/s, W/s)
        var shortcut = downsample is null ? input : downsample.forward(input);  // (B, C_out, H/s, W/s)
        return nn.functional.relu(y + shortcut);                                 // (B, C_out, H/s, W/s)
    }
}

/// <summary>
/// A small RedNet-style involution network, the second LIB-KD teacher (papers/distillation.md §3; Co-advise uses RedNet-101):
/// its kernels are generated per pixel from the input and shared across channels (spatial-specific, channel-agnostic),
/// unlike the CNN teacher (<see cref="ResNetCnn"/>).
/// <para>
/// x (B, C, H, W) → stem ReLU(BN(Conv3×3(x))) (<c>conv1</c>, <c>bn1</c>) → stages <c>layer1</c> … <c>layerS</c> of
/// <see cref="InvolutionBottleneck"/>s → global average pooling → <c>fc</c>. Stage s has mid width Width·2^s and output
/// width Width·2^s·Expansion; its first block has stride 2 for s ≥ 1. Input sizes must stay divisible by 2 at every
/// strided stage (28 → 14 → 7 works; see <see cref="Involution.forward"/>).
/// </para>
/// <code>
/// var teacher = InvolutionNet.Create("rednet11_w16", seed: 0);   // ≈ 81k parameters, K = 3
/// </code>
/// </summary>
public sealed class InvolutionNet : StagedConvNet, IModelCost
{
    /// <summary>Names of the recommended configurations (see <see cref="InvolutionNetConfig.FromName"/>).</summary>
    public static IReadOnlyList<string> ModelNames { get; } = ["rednet11_w16", "rednet20_w16", "rednet11_w16_k5", "rednet11_w16_k7"];

    /// <summary>The configuration this model was built from.</summary>
    public InvolutionNetConfig Config { get; }

    /// <summary>Channels of the pooled features (timm <c>num_features</c>): Width·2^(Stages − 1)·Expansion.</summary>
    public int NumFeatures => Config.StageWidth(Config.Stages - 1);

    /// <summary>Builds the model and initialises every weight from <paramref name="seed"/> (<see cref="ModelInit.TorchvisionConvNet"/>).</summary>
    public InvolutionNet(InvolutionNetConfig? config = null, ulong seed = 0) : this(seed, (config ?? new InvolutionNetConfig()).Validated())
    {
    }

    private InvolutionNet(ulong seed, InvolutionNetConfig c) : base("InvolutionNet", c.InChannels, c.Width)
    {
        Config = c;
        var stages = new List<Sequential>();
        foreach (var (s, blocks) in StageBlocks())
            stages.Add(nn.Sequential(blocks.Select(b => (nn.Module<Tensor, Tensor>)new InvolutionBottleneck(
                b.InC, c.MidWidth(s), c.StageWidth(s), b.Stride, c.KernelSize, c.GroupChannels, c.ReductionRatio))));
        SetStagesAndHead(stages, NumFeatures, c.NumClasses);
        ModelInit.TorchvisionConvNet(this, ModelInit.Generator(seed));
    }

    /// <summary>The model named <paramref name="name"/>, e.g. <c>rednet11_w16</c> (see <see cref="InvolutionNetConfig.FromName"/>), initialised from <paramref name="seed"/>.</summary>
    public static InvolutionNet Create(string name, int inChannels = 1, int numClasses = 10, int imageSize = 28, ulong seed = 0) =>
        new(InvolutionNetConfig.FromName(name, inChannels, numClasses, imageSize), seed);

    /// <inheritdoc/>
    /// <remarks>
    /// Stem C_in·W·9 + 2W; each bottleneck C_in·m + 2m + Inv(m) + 2m + m·C_out + 2·C_out (+ C_in·C_out + 2·C_out for a projection),
    /// Inv(m) = m·(m/r) + 2·(m/r) + (m/r)·K²G + K²G with G = m/gc; head D·K + K.
    /// </remarks>
    public long AnalyticParameterCount
    {
        get
        {
            var c = Config;
            long n = LayerCost.Conv2dParameters(c.InChannels, c.Width, 3, bias: false) + LayerCost.BatchNormParameters(c.Width);
            foreach (var (s, blocks) in StageBlocks())
            {
                int mid = c.MidWidth(s), outC = c.StageWidth(s);
                foreach (var (inC, stride) in blocks)
                {
                    n += LayerCost.Conv2dParameters(inC, mid, 1, bias: false) + LayerCost.BatchNormParameters(mid);
                    n += Involution.ParameterCountOf(mid, c.KernelSize, c.GroupChannels, c.ReductionRatio) + LayerCost.BatchNormParameters(mid);
                    n += LayerCost.Conv2dParameters(mid, outC, 1, bias: false) + LayerCost.BatchNormParameters(outC);
                    if (stride != 1 || inC != outC) n += LayerCost.Conv2dParameters(inC, outC, 1, bias: false) + LayerCost.BatchNormParameters(outC);
                }
            }
            return n + LayerCost.LinearParameters(NumFeatures, c.NumClasses);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// MACs per S×S image: stem S²·W·C_in·9; each bottleneck with input size a and output size o = a/stride:
    /// a²·C_in·m (conv1, before the stride) + involution (kernel generation at o²: m·m/r + (m/r)·K²G per pixel, aggregation
    /// o²·m·K²) + o²·m·C_out (conv3) (+ o²·C_in·C_out for a projection); head D·K.
    /// </remarks>
    public long Flops(int batch = 1)
    {
        var c = Config;
        int size = c.ImageSize;
        long macs = LayerCost.Conv2dMacs(c.InChannels, c.Width, 3, size, size);
        foreach (var (s, blocks) in StageBlocks())
        {
            int mid = c.MidWidth(s), outC = c.StageWidth(s);
            foreach (var (inC, stride) in blocks)
            {
                int o = LayerCost.ConvOutputSize(size, c.KernelSize, stride, (c.KernelSize - 1) / 2);
                macs += LayerCost.Conv2dMacs(inC, mid, 1, size, size);
                macs += Involution.MacsOf(mid, c.KernelSize, stride, c.GroupChannels, c.ReductionRatio, size, size);
                macs += LayerCost.Conv2dMacs(mid, outC, 1, o, o);
                if (stride != 1 || inC != outC) macs += LayerCost.Conv2dMacs(inC, outC, 1, o, o);
                size = o;
            }
        }
        macs += LayerCost.LinearMacs(NumFeatures, c.NumClasses);
        return 2 * macs * batch;
    }

    /// <summary>For each stage s: (s, [(C_in, stride) of each block]).</summary>
    private IEnumerable<(int Stage, List<(int InC, int Stride)> Blocks)> StageBlocks()
    {
        var c = Config;
        int inC = c.Width;
        for (int s = 0; s < c.Stages; s++)
        {
            var blocks = new List<(int, int)>();
            for (int i = 0; i < c.BlocksPerStage; i++)
            {
                blocks.Add((inC, s > 0 && i == 0 ? 2 : 1));
                inC = c.StageWidth(s);
            }
            yield return (s, blocks);
        }
    }
}
