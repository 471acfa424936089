using System.Runtime.Intrinsics;

namespace Shrink.Tensors.Kernels;

/// <summary>
/// Vectorised kernels for activations without a TensorPrimitives counterpart: erf and the two GELU forms,
/// forward and derivative side by side. Vector512 with a scalar tail (Vector512 runs, more slowly, on CPUs without it).
/// </summary>
internal static class Activations
{
    // Abramowitz & Stegun 7.1.26: erf(x) = 1 − (a1 t + … + a5 t⁵) e^{−x²}, t = 1/(1 + p|x|); |error| ≤ 1.5e−7,
    // the size of float32 rounding near 1, so GELU matches PyTorch's erf form to float precision.
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float InvSqrt2 = 0.70710678118654752f, InvSqrt2Pi = 0.39894228040143268f, Sqrt2OverPi = 0.79788456080286536f, C = 0.044715f;

    public static float Erf(float x)
    {
        float ax = MathF.Abs(x), t = 1f / (1f + P * ax);
        float y = 1f - ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * MathF.Exp(-ax * ax);
        return MathF.CopySign(y, x);
    }

    private static Vector512<float> Erf(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(P) * ax);
        var poly = Vector512.FusedMultiplyAdd(Vector512.Create(A5), t, Vector512.Create(A4));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(A3));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(A2));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(A1));
        var y = Vector512<float>.One - poly * t * Vector512.Exp(-(ax * ax));
        return Vector512.CopySign(y, x);
    }

    /// <summary>GELU, exact (erf) form: y = x·Φ(x) = ½x(1 + erf(x/√2)).</summary>
    public static void GeluErf(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        for (; i <= x.Length - 16; i += 16)
        {
            var v = Vector512.Create(x.Slice(i, 16));
            (Vector512.Create(0.5f) * v * (Vector512<float>.One + Erf(v * Vector512.Create(InvSqrt2)))).CopyTo(y.Slice(i, 16));
        }
        for (; i < x.Length; i++) y[i] = 0.5f * x[i] * (1f + Erf(x[i] * InvSqrt2));
    }

    /// <summary>dx = g·(Φ(x) + x·φ(x)) for the erf form, φ the standard normal density.</summary>
    public static void GeluErfBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx)
    {
        int i = 0;
        for (; i <= x.Length - 16; i += 16)
        {
            var v = Vector512.Create(x.Slice(i, 16));
            var cdf = Vector512.Create(0.5f) * (Vector512<float>.One + Erf(v * Vector512.Create(InvSqrt2)));
            var pdf = Vector512.Create(InvSqrt2Pi) * Vector512.Exp(Vector512.Create(-0.5f) * v * v);
            (Vector512.Create(g.Slice(i, 16)) * Vector512.FusedMultiplyAdd(v, pdf, cdf)).CopyTo(dx.Slice(i, 16));
        }
        for (; i < x.Length; i++)
        {
            float cdf = 0.5f * (1f + Erf(x[i] * InvSqrt2)), pdf = InvSqrt2Pi * MathF.Exp(-0.5f * x[i] * x[i]);
            dx[i] = g[i] * (cdf + x[i] * pdf);
        }
    }

    /// <summary>GELU, tanh form: y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).</summary>
    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i], u = Sqrt2OverPi * (v + C * v * v * v);
            y[i] = 0.5f * v * (1f + MathF.Tanh(u));
        }
    }

    /// <summary>dx = g·(½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)), u = √(2/π)(x + 0.044715x³).</summary>
    public static void GeluTanhBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i], u = Sqrt2OverPi * (v + C * v * v * v), th = MathF.Tanh(u);
            dx[i] = g[i] * (0.5f * (1f + th) + 0.5f * v * (1f - th * th) * Sqrt2OverPi * (1f + 3f * C * v * v));
        }
    }
}
