using Shrink.Torch;
using static TorchSharp.torch;

namespace Shrink.Tests.Distillation;

/// <summary>
/// Central finite differences in float64 against autograd: every element of every input is moved by ±h (in place, under
/// no-grad, so parameters can be inputs too) and the numeric slope is compared with <c>torch.autograd.grad</c>.
/// </summary>
internal static class DistillationGradCheck
{
    private const double H = 1e-6, Atol = 1e-6, Rtol = 1e-4;

    /// <summary>A float64 leaf (shape) with N(0, 1) entries from the seed, requiring grad; |x| ≥ margin when margin &gt; 0 (away from kinks).</summary>
    public static Tensor Input(long[] shape, ulong seed, double margin = 0)
    {
        TorchNative.EnsureLoaded();
        var x = randn(shape, dtype: ScalarType.Float64, generator: Seed.Generator(seed, 0x4743));   // "GC"
        if (margin > 0) x = x.sign() * (x.abs() + margin);
        return x.requires_grad_();
    }

    /// <summary>Checks d f(inputs) / d inputs; throws an xunit assertion naming the element that differs.</summary>
    public static void Check(string name, Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        var y = f(inputs);
        Assert.Equal(0, y.dim());
        var grads = autograd.grad([y], inputs, allow_unused: true);
        for (int i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i];
            var analytic = grads[i] is null ? new double[x.numel()] : grads[i].to(ScalarType.Float64).contiguous().data<double>().ToArray();
            var flat = x.view(-1);
            for (long j = 0; j < x.numel(); j++)
            {
                double orig, plus, minus;
                using (no_grad())
                {
                    orig = flat[j].item<double>();
                    flat[j].fill_(orig + H);
                    plus = f(inputs).to(ScalarType.Float64).item<double>();
                    flat[j].fill_(orig - H);
                    minus = f(inputs).to(ScalarType.Float64).item<double>();
                    flat[j].fill_(orig);
                }
                double numeric = (plus - minus) / (2 * H);
                Assert.True(Math.Abs(numeric - analytic[j]) <= Atol + Rtol * Math.Abs(numeric),
                    $"{name}: input {i} element {j}: autograd {analytic[j]}, finite difference {numeric}");
            }
        }
    }
}
