using Shrink.Tensors;

namespace Shrink.Tests.Engine;

/// <summary>
/// Finite-difference gradient check. For inputs x and an op f, the scalar L(x) = Σ w ⊙ f(x) with fixed random
/// weights w is evaluated with the sum taken in double precision; the numerical gradient
/// (L(x + h eᵢ) − L(x − h eᵢ)) / 2h is compared with the gradient autograd puts in x.Grad.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Step h. float32 outputs carry ~6e−8 relative rounding, so the difference quotient has rounding error
    /// ~ 1e−7·|L|/h and truncation error ~ h²·|f'''|/6: h = 1e−2 balances the two for O(1) inputs.
    /// </summary>
    public const double Step = 1e-2;

    /// <summary>Tolerances: |numeric − analytic| ≤ Atol + Rtol·|numeric|. Both ~ 10× the expected error at h = 1e−2.</summary>
    public const double Atol = 2e-3, Rtol = 2e-2;

    /// <summary>Checks every element of every input that requires grad; throws with the op, input and element on a mismatch.</summary>
    public static void Check(string name, Func<Tensor[], Tensor> f, params Tensor[] inputs) => Check(name, f, inputs, Atol, Rtol);

    public static void Check(string name, Func<Tensor[], Tensor> f, Tensor[] inputs, double atol, double rtol)
    {
        foreach (var x in inputs) x.Grad = null;
        var y = f(inputs);
        var w = Tensor.Randn([.. y.Shape], new Generator(1234));
        var wv = w.ToArray();
        (y * w).Sum().Backward();

        double Loss()
        {
            using var _ = Tensor.NoGrad();
            var v = f(inputs).ToArray();
            double s = 0;
            for (int i = 0; i < v.Length; i++) s += (double)v[i] * wv[i];
            return s;
        }

        for (int t = 0; t < inputs.Length; t++)
        {
            var x = inputs[t];
            if (!x.RequiresGrad) continue;
            Assert.True(x.Grad is not null, $"{name}: input {t} received no gradient.");
            var analytic = x.Grad!.ToArray();
            var data = x.AsSpanForTest();
            for (int i = 0; i < data.Length; i++)
            {
                float orig = data[i];
                data[i] = (float)(orig + Step); double lp = Loss();
                data[i] = (float)(orig - Step); double lm = Loss();
                data[i] = orig;
                double numeric = (lp - lm) / (2 * Step);
                double err = Math.Abs(numeric - analytic[i]);
                Assert.True(err <= atol + rtol * Math.Abs(numeric),
                    $"{name}: d/d input{t}[{i}] analytic {analytic[i]:G6} vs numeric {numeric:G6} (|diff| {err:G3}).");
            }
        }
    }

    /// <summary>The storage elements of a leaf in row-major order (contiguous leaves only).</summary>
    private static Span<float> AsSpanForTest(this Tensor x) => x.AsSpan();

    /// <summary>A leaf of the given shape with values in [−1, 1) (away from 0 by at least <paramref name="margin"/> for kinked ops).</summary>
    public static Tensor Input(int[] shape, ulong seed, float margin = 0f)
    {
        var g = new Generator(seed);
        var t = Tensor.Empty(shape);
        var s = t.AsSpan();
        for (int i = 0; i < s.Length; i++)
        {
            float v;
            do v = g.NextFloat() * 2 - 1; while (Math.Abs(v) < margin);
            s[i] = v;
        }
        return t.RequiresGrad_();
    }
}
