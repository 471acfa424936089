using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>
/// Involution (Li et al., "Involution: Inverting the Inherence of Convolution for Visual Recognition", CVPR 2021):
/// a K×K operator whose kernel is generated from the input at every pixel and shared by the channels of a group —
/// spatial-specific and channel-agnostic, the opposite of convolution's inductive bias.
/// <para>
/// This is exactly the reference formulation <c>involution</c> in <c>d-li14/involution</c>
/// (<c>cls/mmcls/models/utils/involution_naive.py</c>; the same code sits under <c>det/</c> and <c>seg/</c>), with
/// C channels, G = C / <see cref="GroupChannels"/> groups, reduction r and stride s:
/// </para>
/// <list type="number">
/// <item>kernel generation: H = conv2(conv1(s &gt; 1 ? AvgPool_{s×s}(X) : X)), where <c>conv1</c> = 1×1 conv C → C/r
/// (no bias) → BN → ReLU and <c>conv2</c> = 1×1 conv C/r → K²·G (with bias); H is (B, G·K², h, w), channel g·K² + u·K + v
/// holding tap (u, v) of group g;</item>
/// <item>aggregation (<see cref="Aggregate"/>):
/// Y[b, g·gc + c, i, j] = Σ_{u,v} H[b, g·K² + u·K + v, i, j] · X[b, g·gc + c, i·s + u − p, j·s + v − p], p = (K − 1)/2,
/// zero padding; computed as in the reference, <c>unfold(X)</c> (B, C·K², L) viewed as (B, G, gc, K², L) times H viewed
/// as (B, G, 1, K², L), summed over the K² axis.</item>
/// </list>
/// Parameter names follow mmcv's <c>ConvModule</c> as in the reference: <c>conv1.conv.weight</c>, <c>conv1.bn.*</c>,
/// <c>conv2.conv.weight</c>, <c>conv2.conv.bias</c>. The reference fixes r = 4 and gc = 16; here they are arguments
/// with those defaults. K must be odd (so the output keeps the ⌈H/s⌉ grid of the kernel map).
/// </summary>
public sealed class Involution : nn.Module<Tensor, Tensor>
{
    private readonly Sequential conv1;
    private readonly Sequential conv2;

    /// <summary>Channels C of input and output.</summary>
    public int Channels { get; }
    /// <summary>Kernel size K (odd).</summary>
    public int KernelSize { get; }
    /// <summary>Stride s of the aggregation (the kernel map is average-pooled by s×s first).</summary>
    public int Stride { get; }
    /// <summary>Channels gc that share one generated kernel.</summary>
    public int GroupChannels { get; }
    /// <summary>Reduction r of the kernel-generation bottleneck (C → C/r).</summary>
    public int ReductionRatio { get; }
    /// <summary>Number of groups G = C / gc, i.e. of distinct kernels per pixel.</summary>
    public int Groups => Channels / GroupChannels;

    /// <summary>Kernel generation, first part: 1×1 conv C → C/r (no bias), BN, ReLU (<c>conv1.conv</c>, <c>conv1.bn</c>, <c>conv1.activate</c>).</summary>
    public Sequential Conv1 => conv1;
    /// <summary>Kernel generation, second part: 1×1 conv C/r → K²·G with bias (<c>conv2.conv</c>).</summary>
    public Sequential Conv2 => conv2;

    /// <summary>
    /// Builds the operator and initialises it from <paramref name="seed"/> (Kaiming-normal fan-out convolutions, zero bias,
    /// as mmcv's ConvModule: <see cref="ModelInit.TorchvisionConvNet"/>); a network that contains it initialises it again with its own draws.
    /// </summary>
    /// <exception cref="ArgumentException">C not divisible by gc, C/r &lt; 1, an even kernel or a non-positive size; the message names the values.</exception>
    public Involution(int channels, int kernelSize = 7, int stride = 1, int groupChannels = 16, int reductionRatio = 4, ulong seed = 0)
        : base(nameof(Involution))
    {
        if (channels < 1 || kernelSize < 1 || stride < 1 || groupChannels < 1 || reductionRatio < 1)
            throw new ArgumentException($"Involution: sizes must be positive, got channels {channels}, kernel {kernelSize}, stride {stride}, group channels {groupChannels}, reduction {reductionRatio}.");
        if (kernelSize % 2 == 0) throw new ArgumentException($"Involution: kernel size must be odd, got {kernelSize}.");
        if (channels % groupChannels != 0)
            throw new ArgumentException($"Involution: channels {channels} must be a multiple of group channels {groupChannels}.");
        if (channels / reductionRatio < 1)
            throw new ArgumentException($"Involution: channels {channels} / reduction {reductionRatio} leaves no channel in the kernel-generation bottleneck.");
        Channels = channels; KernelSize = kernelSize; Stride = stride; GroupChannels = groupChannels; ReductionRatio = reductionRatio;
        int mid = channels / reductionRatio;
        conv1 = nn.Sequential(
            ("conv", ModelInit.Conv(channels, mid, 1, 1, 0)),
            ("bn", nn.BatchNorm2d(mid)),
            ("activate", nn.ReLU()));
        conv2 = nn.Sequential(
            ("conv", ModelInit.Conv(mid, kernelSize * kernelSize * Groups, 1, 1, 0, bias: true)));
        RegisterComponents();
        ModelInit.TorchvisionConvNet(this, ModelInit.Generator(seed));
    }

    /// <summary>The per-pixel kernels H (B, G·K², h, w) generated from x (B, C, H, W); h = ⌊H/s⌋ (= H when s = 1).</summary>
    public Tensor GenerateKernel(Tensor x)
    {
        var src = Stride > 1 ? nn.functional.avg_pool2d(x, Stride, Stride) : x;   // (B, C, h, w)
        return conv2.forward(conv1.forward(src));                                 // (B, G·K², h, w)
    }

    /// <summary>Involution of x (B, C, H, W) → (B, C, h, w): <see cref="Aggregate"/>(x, <see cref="GenerateKernel"/>(x)).</summary>
    /// <exception cref="ArgumentException">x is not (B, C, H, W), or H, W are not multiples of the stride (the pooled kernel map would not match the output grid).</exception>
    public override Tensor forward(Tensor input)
    {
        ModelInit.CheckImages("Involution", input, Channels);
        if (input.shape[2] % Stride != 0 || input.shape[3] % Stride != 0)
            throw new ArgumentException($"Involution: input {ModelInit.Format(input.shape)} has a spatial size that is not a multiple of the stride {Stride}.");
        return Aggregate(input, GenerateKernel(input), KernelSize, Stride, Groups);
    }

    /// <summary>
    /// The involution aggregation with given kernels, exactly as the reference:
    /// Y[b, g·gc + c, i, j] = Σ_{u,v} H[b, g·K² + u·K + v, i, j] · X[b, g·gc + c, i·s + u − p, j·s + v − p], p = (K − 1)/2,
    /// computed as (unfold(X) viewed (B, G, gc, K², L)) ⊙ (H viewed (B, G, 1, K², L)) summed over K², L = h·w.
    /// Gradients flow to both X and H through Unfold, the broadcast product and the sum.
    /// </summary>
    /// <param name="x">Input X (B, C, H, W), C = G·gc.</param>
    /// <param name="kernel">Kernels H (B, G·K², h, w) with h = ⌊(H − 1)/s⌋ + 1 and likewise w.</param>
    /// <param name="kernelSize">K (odd).</param>
    /// <param name="stride">s.</param>
    /// <param name="groups">G, which must divide C.</param>
    /// <exception cref="ArgumentException">The shapes do not match; the message names both.</exception>
    public static Tensor Aggregate(Tensor x, Tensor kernel, int kernelSize, int stride, int groups)
    {
        long k2 = kernelSize * kernelSize;
        if (x.dim() != 4 || kernel.dim() != 4 || groups < 1 || kernelSize % 2 == 0 || x.shape[1] % groups != 0)
            throw new ArgumentException($"Involution.Aggregate: need x (B, G·gc, H, W) and kernel (B, G·K², h, w) with odd K; got x {ModelInit.Format(x.shape)}, kernel {ModelInit.Format(kernel.shape)}, K = {kernelSize}, G = {groups}.");
        long b = x.shape[0], c = x.shape[1], gc = c / groups;
        long oh = LayerCost.ConvOutputSize((int)x.shape[2], kernelSize, stride, (kernelSize - 1) / 2);
        long ow = LayerCost.ConvOutputSize((int)x.shape[3], kernelSize, stride, (kernelSize - 1) / 2);
        if (kernel.shape[0] != b || kernel.shape[1] != groups * k2 || kernel.shape[2] != oh || kernel.shape[3] != ow)
            throw new ArgumentException($"Involution.Aggregate: kernel {ModelInit.Format(kernel.shape)} does not match x {ModelInit.Format(x.shape)}: expected ({b}, {groups * k2}, {oh}, {ow}) for K = {kernelSize}, stride {stride}, G = {groups}.");
        long l = oh * ow;
        var cols = nn.functional.unfold(x, kernelSize, dilation: 1, padding: (kernelSize - 1) / 2, stride: stride)   // (B, C·K², L)
            .reshape(b, groups, gc, k2, l);                                                                      // (B, G, gc, K², L)
        var w = kernel.reshape(b, groups, 1, k2, l);                                                           // (B, G, 1, K², L)
        return (cols * w).sum(3)                                                                               // (B, G, gc, L)
            .reshape(b, c, oh, ow);                                                                            // (B, C, h, w)
    }

    /// <summary>Parameters: C·(C/r) + 2·(C/r) + (C/r)·K²G + K²G.</summary>
    public static long ParameterCountOf(int channels, int kernelSize, int groupChannels, int reductionRatio)
    {
        int mid = channels / reductionRatio, outC = kernelSize * kernelSize * (channels / groupChannels);
        return LayerCost.Conv2dParameters(channels, mid, 1, bias: false) + LayerCost.BatchNormParameters(mid)
             + LayerCost.Conv2dParameters(mid, outC, 1, bias: true);
    }

    /// <summary>
    /// MACs per image for an input of H×W: kernel generation on the (H/s)×(W/s) map, C·(C/r) + (C/r)·K²G per pixel, plus the
    /// aggregation C·K² per output pixel.
    /// </summary>
    public static long MacsOf(int channels, int kernelSize, int stride, int groupChannels, int reductionRatio, int height, int width)
    {
        int mid = channels / reductionRatio, outC = kernelSize * kernelSize * (channels / groupChannels);
        int oh = LayerCost.ConvOutputSize(height, kernelSize, stride, (kernelSize - 1) / 2);
        int ow = LayerCost.ConvOutputSize(width, kernelSize, stride, (kernelSize - 1) / 2);
        return LayerCost.Conv2dMacs(channels, mid, 1, oh, ow) + LayerCost.Conv2dMacs(mid, outC, 1, oh, ow)
             + (long)channels * kernelSize * kernelSize * oh * ow;
    }
}
