using Shrink.Tensors;
using Shrink.Tensors.Kernels;

namespace Shrink.Tests.Kernels;

/// <summary>
/// Sweeps the vectorised element-wise kernels over every length 0..256 (all SIMD tails) against scalar
/// references computed in double, TensorPrimitives-style.
/// </summary>
public class ElementwiseKernelTests
{
    /// <summary>A&amp;S 7.1.26 erf has |error| ≤ 1.5e−7; GELU adds float32 rounding of a few ulp: 1e−6 absolute, 1e−5 relative.</summary>
    private const double GeluAtol = 1e-6, GeluRtol = 1e-5;

    private static double Erf(double x)
    {
        // Taylor series / continued fraction in double: exact to ~1e-15 on the swept range |x| ≤ 8/√2.
        double ax = Math.Abs(x), sum = ax, term = ax;
        if (ax < 3)
        {
            for (int n = 1; n < 200; n++) { term *= -ax * ax / n; sum += term / (2 * n + 1); }
            return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
        }
        double cf = 0;
        for (int n = 60; n >= 1; n--) cf = n / 2.0 / (ax + cf);
        return Math.Sign(x) * (1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + cf));
    }

    private static float[] Inputs(int n, ulong seed)
    {
        var g = new Generator(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((g.NextDouble() * 2 - 1) * 8);
        return x;
    }

    [Fact]
    public void GeluErfForwardAndBackwardEveryLength()
    {
        for (int n = 0; n <= 256; n++)
        {
            var x = Inputs(n, (ulong)n);
            var y = new float[n]; var g = new float[n]; var dx = new float[n];
            Array.Fill(g, 1f);
            Activations.GeluErf(x, y);
            Activations.GeluErfBackward(x, g, dx);
            for (int i = 0; i < n; i++)
            {
                double v = x[i], cdf = 0.5 * (1 + Erf(v / Math.Sqrt(2)));
                double refY = v * cdf, refD = cdf + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
                Assert.True(Math.Abs(y[i] - refY) <= GeluAtol + GeluRtol * Math.Abs(refY), $"gelu n={n} i={i} x={v}: {y[i]} vs {refY}");
                Assert.True(Math.Abs(dx[i] - refD) <= GeluAtol + GeluRtol * Math.Abs(refD), $"gelu' n={n} i={i} x={v}: {dx[i]} vs {refD}");
            }
        }
    }

    [Fact]
    public void BroadcastBinaryOpsEveryLength()
    {
        // (2, n) ∘ (n) and (2, n) ∘ (2, 1): the row-span and scalar-broadcast paths for every tail length.
        for (int n = 0; n <= 256; n++)
        {
            var a = Tensor.FromArray(Inputs(2 * n, 1), 2, n);
            var b = Tensor.FromArray(Inputs(n, 2), n);
            var c = Tensor.FromArray([3f, -0.5f], 2, 1);
            float[] av = a.ToArray(), bv = b.ToArray();
            var sum = (a + b).ToArray(); var prod = (a * c).ToArray(); var quot = (c / (b.Abs() + 1f)).ToArray(); var diff = (b - a).ToArray();
            for (int r = 0; r < 2; r++)
                for (int i = 0; i < n; i++)
                {
                    int k = r * n + i; float s = r == 0 ? 3f : -0.5f;
                    Assert.Equal(av[k] + bv[i], sum[k]);
                    Assert.Equal(av[k] * s, prod[k]);
                    Assert.Equal(s / (MathF.Abs(bv[i]) + 1f), quot[k]);
                    Assert.Equal(bv[i] - av[k], diff[k]);
                }
        }
    }

    [Fact]
    public void SoftmaxRowsEveryLength()
    {
        for (int n = 1; n <= 256; n++)
        {
            var x = Tensor.FromArray(Inputs(3 * n, 5), 3, n);
            var y = x.Softmax(-1).ToArray(); var xv = x.ToArray();
            for (int r = 0; r < 3; r++)
            {
                double max = double.NegativeInfinity, z = 0;
                for (int i = 0; i < n; i++) max = Math.Max(max, xv[r * n + i]);
                for (int i = 0; i < n; i++) z += Math.Exp(xv[r * n + i] - max);
                for (int i = 0; i < n; i++)
                {
                    double expect = Math.Exp(xv[r * n + i] - max) / z;
                    Assert.True(Math.Abs(y[r * n + i] - expect) <= 1e-7 + 1e-5 * expect, $"softmax n={n} [{r},{i}]: {y[r * n + i]} vs {expect}");
                }
            }
        }
    }
}
