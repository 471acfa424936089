namespace Shrink.Tensors.Nn;

/// <summary>
/// Weight initialisers (PyTorch <c>torch.nn.init</c>), in place and not recorded by autograd. Each returns its tensor and
/// draws from the given <see cref="Generator"/> (default <see cref="Generator.Default"/>), so the same seed gives the
/// same weights. Values are sampled in double and rounded to float32 element by element, in row-major order.
/// </summary>
public static class Init
{
    /// <summary>Fills <paramref name="t"/> from U(<paramref name="a"/>, <paramref name="b"/>): a + (b − a)·u, u ~ U[0, 1).</summary>
    public static Tensor Uniform_(Tensor t, double a = 0, double b = 1, Generator? generator = null)
    {
        if (!(a <= b)) throw new ArgumentException($"Uniform_: need a ≤ b, got a = {a}, b = {b}.");
        var g = generator ?? Generator.Default;
        return Fill(t, () => a + (b - a) * g.NextDouble());
    }

    /// <summary>Fills <paramref name="t"/> from N(<paramref name="mean"/>, <paramref name="std"/>²).</summary>
    public static Tensor Normal_(Tensor t, double mean = 0, double std = 1, Generator? generator = null)
    {
        if (!(std >= 0)) throw new ArgumentException($"Normal_: std must be ≥ 0, got {std}.");
        var g = generator ?? Generator.Default;
        return Fill(t, () => mean + std * g.NextNormal());
    }

    /// <summary>
    /// Fills <paramref name="t"/> from N(<paramref name="mean"/>, <paramref name="std"/>²) truncated to
    /// [<paramref name="a"/>, <paramref name="b"/>] (absolute bounds, as PyTorch's <c>trunc_normal_</c>; timm's ViTs use
    /// std = 0.02 with the default bounds ±2, i.e. effectively untruncated).
    /// Exact by the inverse-CDF method PyTorch uses: with α = (a − μ)/σ, β = (b − μ)/σ and Φ the standard normal CDF,
    /// u ~ U(Φ(α), Φ(β)) and x = μ + σ·Φ⁻¹(u), clamped to [a, b] against rounding. Φ is evaluated in double
    /// (series for erf, relative error ~1e−15) and Φ⁻¹ by Acklam's rational approximation refined by a Halley step (far below float32
    /// resolution).
    /// </summary>
    public static Tensor TruncNormal_(Tensor t, double mean = 0, double std = 1, double a = -2, double b = 2, Generator? generator = null)
    {
        if (!(std > 0)) throw new ArgumentException($"TruncNormal_: std must be > 0, got {std}.");
        if (!(a < b)) throw new ArgumentException($"TruncNormal_: need a < b, got a = {a}, b = {b}.");
        var g = generator ?? Generator.Default;
        double lo = NormalCdf((a - mean) / std), hi = NormalCdf((b - mean) / std);
        if (!(hi > lo)) throw new ArgumentException($"TruncNormal_: [{a}, {b}] holds no probability mass of N({mean}, {std}²).");
        return Fill(t, () =>
        {
            double u = lo + (hi - lo) * g.NextDouble();
            double x = mean + std * InverseNormalCdf(Math.Clamp(u, 1e-300, 1 - 1e-16));
            return Math.Clamp(x, a, b);
        });
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public static Tensor Constant_(Tensor t, double value) => t.Fill_((float)value);

    /// <summary>Sets every element to 0.</summary>
    public static Tensor Zeros_(Tensor t) => t.Fill_(0f);

    /// <summary>Sets every element to 1.</summary>
    public static Tensor Ones_(Tensor t) => t.Fill_(1f);

    /// <summary>
    /// Glorot/Xavier uniform: U(−bound, bound) with bound = gain·√(6 / (fan_in + fan_out)) = √3·std,
    /// std = gain·√(2 / (fan_in + fan_out)).
    /// </summary>
    public static Tensor XavierUniform_(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(t);
        double std = gain * Math.Sqrt(2.0 / (fanIn + fanOut));
        double bound = Math.Sqrt(3.0) * std;
        return Uniform_(t, -bound, bound, generator);
    }

    /// <summary>Glorot/Xavier normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal_(Tensor t, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(t);
        return Normal_(t, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), generator);
    }

    /// <summary>
    /// He/Kaiming uniform: U(−bound, bound) with bound = gain·√(3 / fan), gain = <see cref="CalculateGain"/>(nonlinearity, a),
    /// fan = fan_in or fan_out by <paramref name="mode"/>. PyTorch's Linear and Conv default is a = √5 with "leaky_relu",
    /// which gives bound = 1/√fan_in.
    /// </summary>
    public static Tensor KaimingUniform_(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        double std = CalculateGain(nonlinearity, a) / Math.Sqrt(Fan(t, mode, "KaimingUniform_"));
        double bound = Math.Sqrt(3.0) * std;
        return Uniform_(t, -bound, bound, generator);
    }

    /// <summary>He/Kaiming normal: N(0, std²) with std = gain / √fan (see <see cref="KaimingUniform_"/>).</summary>
    public static Tensor KaimingNormal_(Tensor t, double a = 0, string mode = "fan_in", string nonlinearity = "leaky_relu", Generator? generator = null)
    {
        double std = CalculateGain(nonlinearity, a) / Math.Sqrt(Fan(t, mode, "KaimingNormal_"));
        return Normal_(t, 0, std, generator);
    }

    private static int Fan(Tensor t, string mode, string op)
    {
        var (fanIn, fanOut) = CalculateFanInAndFanOut(t);
        return mode switch
        {
            "fan_in" => fanIn,
            "fan_out" => fanOut,
            _ => throw new ArgumentException($"{op}: mode must be \"fan_in\" or \"fan_out\", got \"{mode}\"."),
        };
    }

    /// <summary>
    /// Fans of a weight shaped (out, in, k₁, k₂, …): fan_in = in·k₁·k₂·…, fan_out = out·k₁·k₂·… (a Linear weight (out, in)
    /// has fan_in = in; a Conv2d weight (C_out, C_in/groups, kh, kw) has fan_in = C_in/groups·kh·kw), as PyTorch.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 axes.</exception>
    public static (int FanIn, int FanOut) CalculateFanInAndFanOut(Tensor t)
    {
        if (t.Rank < 2) throw new ArgumentException($"CalculateFanInAndFanOut: fan in and fan out cannot be computed for a tensor with fewer than 2 axes (shape {ShapeUtil.Format([.. t.Shape])}).");
        int receptive = 1;
        for (int i = 2; i < t.Rank; i++) receptive *= t.Shape[i];
        return (t.Shape[1] * receptive, t.Shape[0] * receptive);
    }

    /// <summary>
    /// The recommended gain for a nonlinearity (PyTorch <c>calculate_gain</c>): linear, identity, conv1d/2d/3d,
    /// conv_transpose1d/2d/3d and sigmoid → 1; tanh → 5/3; relu → √2; leaky_relu → √(2 / (1 + slope²)) with slope =
    /// <paramref name="param"/> (0.01 when null); selu → 3/4.
    /// </summary>
    public static double CalculateGain(string nonlinearity, double? param = null) => nonlinearity switch
    {
        "linear" or "identity" or "conv1d" or "conv2d" or "conv3d" or "conv_transpose1d" or "conv_transpose2d" or "conv_transpose3d" or "sigmoid" => 1.0,
        "tanh" => 5.0 / 3.0,
        "relu" => Math.Sqrt(2.0),
        "leaky_relu" => Math.Sqrt(2.0 / (1 + Math.Pow(param ?? 0.01, 2))),
        "selu" => 3.0 / 4.0,
        _ => throw new ArgumentException($"CalculateGain: unsupported nonlinearity \"{nonlinearity}\"."),
    };

    // ---------------------------------------------------------------- helpers

    private static Tensor Fill(Tensor t, Func<double> sample)
    {
        if (t.Numel == 0) return t;
        if (t.IsContiguous)
        {
            var s = t.AsSpan();
            for (int i = 0; i < s.Length; i++) s[i] = (float)sample();
            return t;
        }
        var values = new float[t.Numel];
        for (int i = 0; i < values.Length; i++) values[i] = (float)sample();
        using (TensorScope.Suspend()) t.CopyFrom(Tensor.Wrap(values, [.. t.Shape]));
        return t;
    }

    /// <summary>Standard normal CDF Φ(x) = ½(1 + erf(x/√2)) in double.</summary>
    internal static double NormalCdf(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2.0)));

    /// <summary>
    /// erf(x) by the series erf(x) = (2/√π)·e^{−x²}·Σₙ 2ⁿx^{2n+1} / (1·3·5·…·(2n+1)), whose terms are all positive
    /// (no cancellation); |erf(x)| = 1 to double precision for |x| ≥ 6.
    /// </summary>
    internal static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax >= 6) return Math.Sign(x);
        double term = ax, sum = ax, x2 = ax * ax;
        for (int n = 1; n < 200; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < 1e-17 * sum) break;
        }
        double r = 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
        return Math.CopySign(Math.Min(r, 1.0), x);
    }

    /// <summary>
    /// Φ⁻¹(p) for p in (0, 1): P. J. Acklam's rational approximation (relative error &lt; 1.15e−9), refined by one Halley
    /// step on Φ(x) − p for p &gt; 1e−6 (where Φ from the erf series is accurate to ~1e−10 relative or better).
    /// </summary>
    internal static double InverseNormalCdf(double p)
    {
        double x = AcklamInverseNormalCdf(p);
        if (p > 1e-6 && p < 1)
        {
            double e = NormalCdf(x) - p;
            double u = e * Math.Sqrt(2 * Math.PI) * Math.Exp(x * x / 2);
            x -= u / (1 + x * u / 2);
        }
        return x;
    }

    private static double AcklamInverseNormalCdf(double p)
    {
        ReadOnlySpan<double> a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        ReadOnlySpan<double> b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        ReadOnlySpan<double> c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        ReadOnlySpan<double> d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double pLow = 0.02425, pHigh = 1 - pLow;
        if (p < pLow)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p <= pHigh)
        {
            double q = p - 0.5, r = q * q;
            return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        double qh = Math.Sqrt(-2 * Math.Log(1 - p));
        return -(((((c[0] * qh + c[1]) * qh + c[2]) * qh + c[3]) * qh + c[4]) * qh + c[5]) / ((((d[0] * qh + d[1]) * qh + d[2]) * qh + d[3]) * qh + 1);
    }
}
