using Shrink.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>
/// The initialisation functions of the models: each walks <c>named_modules()</c> (and, for the ViT, the token
/// parameters) and overwrites every weight with draws from one <see cref="torch.Generator"/>, so a model's weights are a
/// pure function of its seed (<see cref="Generator"/>). Constructors only build; they call one of these last.
/// TorchSharp layers draw their own default initialisation from torch's global generator when they are constructed;
/// every such value is overwritten here.
/// </summary>
public static class ModelInit
{
    /// <summary>The stream name the weight generators mix into the seed ("weights" in ASCII), see <see cref="Seed.Generator(ulong, ReadOnlySpan{ulong})"/>.</summary>
    public const ulong WeightsStream = 0x77656967687473UL;

    /// <summary>The generator a model's initial weights are drawn from: <c>Seed.Generator(seed, WeightsStream)</c>.</summary>
    public static torch.Generator Generator(ulong seed) => Seed.Generator(seed, WeightsStream);

    /// <summary>
    /// timm's ViT init (<c>init_weights</c> / <c>_init_weights</c>, DeiT's for the tokens): trunc-normal(0, 0.02) on
    /// <c>pos_embed</c> and the class and distillation tokens, on every Linear weight with zero bias; LayerNorm γ = 1, β = 0;
    /// Conv2d (the patch embedding) keeps PyTorch's default U(−1/√fan_in, 1/√fan_in) for weight and bias. Draws follow
    /// <c>named_parameters()</c> for the tokens, then <c>named_modules()</c>.
    /// </summary>
    public static void TimmVit(nn.Module module, torch.Generator generator)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            string leaf = name[(name.LastIndexOf('.') + 1)..];
            if (leaf is "pos_embed" or "cls_token" || leaf.StartsWith("dist_token", StringComparison.Ordinal))
                TruncNormal(p, 0.02, generator);
        }
        foreach (var (_, m) in module.named_modules())
            switch (m)
            {
                case Linear lin:
                    TruncNormal(lin.weight!, 0.02, generator);
                    if (lin.bias is { } b) nn.init.zeros_(b);
                    break;
                case LayerNorm ln:
                    if (ln.weight is { } w) nn.init.ones_(w);
                    if (ln.bias is { } lb) nn.init.zeros_(lb);
                    break;
                case Conv2d conv:
                    PyTorchDefault(conv.weight!, conv.bias, generator);
                    break;
            }
    }

    /// <summary>
    /// torchvision's ResNet init (<c>resnet.py</c>), used by every convolutional model here: Conv2d weights
    /// W ~ N(0, 2/fan_out), fan_out = C_out·k² (<c>kaiming_normal_(mode="fan_out", nonlinearity="relu")</c>), biases 0;
    /// BatchNorm γ = 1, β = 0 (running statistics reset to 0 and 1); Linear PyTorch's default U(−1/√in, 1/√in) for weight
    /// and bias. With <paramref name="zeroInitResidual"/>, every <see cref="BasicBlock"/>'s <c>bn2</c> starts at γ = 0.
    /// </summary>
    public static void TorchvisionConvNet(nn.Module module, torch.Generator generator, bool zeroInitResidual = false)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var _ = no_grad();
        foreach (var (_, m) in module.named_modules())
            switch (m)
            {
                case Conv2d conv:
                    var w = conv.weight!;
                    long fanOut = w.shape[0] * w.shape[2] * w.shape[3];
                    w.normal_(0, Math.Sqrt(2.0 / fanOut), generator);
                    if (conv.bias is { } cb) nn.init.zeros_(cb);
                    break;
                case BatchNorm2d bn:
                    if (bn.weight is { } g) nn.init.ones_(g);
                    if (bn.bias is { } b) nn.init.zeros_(b);
                    bn.reset_running_stats();
                    break;
                case Linear lin:
                    PyTorchDefault(lin.weight!, lin.bias, generator);
                    break;
            }
        if (zeroInitResidual)
            foreach (var (_, m) in module.named_modules())
                if (m is BasicBlock block) nn.init.zeros_(block.Bn2.weight!);
    }

    /// <summary>
    /// open_lth's LeNet init (<c>kaiming_normal</c>): Linear weights W ~ N(0, 2/fan_in) (<c>kaiming_normal_</c> with its
    /// defaults), biases PyTorch's default U(−1/√in, 1/√in); with <paramref name="kaimingNormal"/> false, PyTorch's
    /// default for the weights as well.
    /// </summary>
    public static void LeNet(nn.Module module, torch.Generator generator, bool kaimingNormal = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var _ = no_grad();
        foreach (var (_, m) in module.named_modules())
            if (m is Linear lin)
            {
                PyTorchDefault(lin.weight!, lin.bias, generator);
                if (kaimingNormal) lin.weight!.normal_(0, Math.Sqrt(2.0 / lin.weight!.shape[1]), generator);
            }
    }

    /// <summary>
    /// PyTorch's default for Linear and Conv2d (<c>reset_parameters</c>): weight <c>kaiming_uniform_(a=√5)</c>, which is
    /// U(−1/√fan_in, 1/√fan_in), and bias U(−1/√fan_in, 1/√fan_in); fan_in = in features (× k² for a convolution).
    /// </summary>
    public static void PyTorchDefault(Tensor weight, Tensor? bias, torch.Generator generator)
    {
        ArgumentNullException.ThrowIfNull(weight);
        using var _ = no_grad();
        long fanIn = weight.numel() / weight.shape[0];
        double bound = 1.0 / Math.Sqrt(fanIn);
        weight.uniform_(-bound, bound, generator);
        bias?.uniform_(-bound, bound, generator);
    }

    /// <summary>
    /// Fills <paramref name="tensor"/> with N(0, std²) truncated to [−2, 2] (timm's and PyTorch's <c>trunc_normal_</c>
    /// defaults, absolute bounds), by inverse-CDF sampling: u ~ U(2Φ(−2/std) − 1, 2Φ(2/std) − 1), x = std·√2·erf⁻¹(u).
    /// </summary>
    /// <remarks>
    /// Written here because TorchSharp 0.107's <c>nn.init.trunc_normal_</c>, <c>uniform_</c> and <c>normal_</c> ignore
    /// their <c>generator</c> argument (and <c>trunc_normal_</c> returns ones); the tensor methods <c>uniform_</c> and
    /// <c>normal_</c> honour it.
    /// </remarks>
    public static void TruncNormal(Tensor tensor, double std, torch.Generator generator, double a = -2, double b = 2)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        static double Phi(double z) => 0.5 * (1 + Erf(z / Math.Sqrt(2)));
        using var _ = no_grad();
        tensor.uniform_(2 * Phi(a / std) - 1, 2 * Phi(b / std) - 1, generator);
        tensor.erfinv_().mul_(std * Math.Sqrt(2)).clamp_(a, b);
    }

    /// <summary>
    /// The error function to ~1e−12: the Maclaurin series 2/√π Σ (−1)ⁿ x^(2n+1)/(n!(2n+1)) for |x| &lt; 2.5, else
    /// 1 − erfc(x) with erfc's asymptotic series e^(−x²)/(x√π)·(1 − 1/(2x²) + 3/(2x²)² − 15/(2x²)³ + 105/(2x²)⁴).
    /// </summary>
    private static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax >= 2.5)
        {
            double t = 1 / (2 * x * x);
            double erfc = Math.Exp(-x * x) / (ax * Math.Sqrt(Math.PI)) * (1 - t + 3 * t * t - 15 * t * t * t + 105 * t * t * t * t);
            return Math.Sign(x) * (1 - erfc);
        }
        double sum = 0, term = x;
        for (int n = 0; n < 100; n++)
        {
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17) break;
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    /// <summary>A bias-free (or biased) Conv2d; its weights are set later by <see cref="TorchvisionConvNet"/>.</summary>
    internal static Conv2d Conv(long inChannels, long outChannels, long kernelSize, long stride, long padding, bool bias = false) =>
        nn.Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: padding, bias: bias);

    /// <summary>Checks that <paramref name="x"/> is (B, C, H, W) with C = <paramref name="channels"/>; the message names the model and the shape.</summary>
    internal static void CheckImages(string model, Tensor x, long channels)
    {
        if (x.dim() != 4 || x.shape[1] != channels)
            throw new ArgumentException($"{model}: input must be (B, {channels}, H, W); got {Format(x.shape)}.");
    }

    /// <summary>A shape as "(2, 3, 4)".</summary>
    internal static string Format(long[] shape) => "(" + string.Join(", ", shape) + ")";
}
