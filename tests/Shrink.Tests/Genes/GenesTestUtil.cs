using Shrink.Data;
using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Tests.Genes;

/// <summary>Tiny models and inputs for the learngene tests (milliseconds per forward pass).</summary>
internal static class GenesTestUtil
{
    /// <summary>8×8 single-channel images, 4×4 patches (4 patches + class token), D = 8, 2 heads, MLP 16, 3 classes.</summary>
    public static VitConfig Tiny(int depth, bool classToken = true) => new()
    {
        ImageSize = 8, PatchSize = 4, InChannels = 1, NumClasses = 3, EmbedDim = 8, Depth = depth, NumHeads = 2, MlpRatio = 2, ClassToken = classToken,
    };

    /// <summary>A batch of images (B, 1, 8, 8) with standard-normal pixels, on the CPU.</summary>
    public static Tensor Images(int batch, ulong seed) => randn([batch, 1, 8, 8], generator: Seed.Generator(seed));

    /// <summary>1×8×8 images of 4 classes: the pruning tests' synthetic set (<see cref="Pruning.PruningTestData.Synthetic"/>).</summary>
    public static ImageDataset Synthetic(int n, ulong seed) => Pruning.PruningTestData.Synthetic(n, seed);

    /// <summary>The values of <paramref name="t"/> as a float array (copied to the CPU).</summary>
    public static float[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>The values of <paramref name="t"/> as a double array (copied to the CPU).</summary>
    public static double[] Doubles(Tensor t) => t.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();

    /// <summary>Parameter <paramref name="name"/> (dotted, as in <c>named_parameters()</c>) of <paramref name="module"/>.</summary>
    public static Tensor Param(nn.Module module, string name) =>
        module.named_parameters().Single(p => p.name == name).parameter;

    /// <summary>Exact equality of two tensors' values (same shape), with the first differing element in the message.</summary>
    public static void Identical(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = Values(expected); var a = Values(actual);
        for (int i = 0; i < e.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(e[i]) == BitConverter.SingleToInt32Bits(a[i]) || (e[i] == 0 && a[i] == 0),
                $"{what}: element {i} differs: {e[i]:R} vs {a[i]:R}.");
    }

    /// <summary>Gives every parameter of <paramref name="module"/> non-trivial values (uniform in [−0.5, 0.5) plus 1 on the LayerNorm gains) so no coefficient hides behind a zero tensor.</summary>
    public static void Randomize(nn.Module module, ulong seed, float scale = 1f, float gain = 1f)
    {
        var g = Seed.Generator(seed);
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            bool isGain = name.EndsWith("norm1.weight", StringComparison.Ordinal) || name.EndsWith("norm2.weight", StringComparison.Ordinal);
            var draw = (rand(p.shape, generator: g) - 0.5f) * (name.Contains("norm") ? 1f : scale) + (isGain ? gain : 0f);
            p.copy_(draw);
        }
    }

    /// <summary>
    /// Gradient check in float64: the analytic gradient of s = Σ R ⊙ f() (R a fixed random tensor) with respect to each
    /// of <paramref name="inputs"/> against central differences (h = 1e-6) at <paramref name="samples"/> random elements of
    /// each input. The inputs must be float64 leaves that require grad and that <paramref name="f"/> reads.
    /// </summary>
    public static void GradCheck(string what, Func<Tensor> f, IReadOnlyList<Tensor> inputs, int samples = 5, double tolerance = 1e-6)
    {
        var g = Seed.Generator(1234);
        Tensor weights;
        using (no_grad()) weights = randn(f().shape, dtype: ScalarType.Float64, generator: g);
        double Objective() { using (no_grad()) return (f() * weights).sum().item<double>(); }
        foreach (var p in inputs) p.grad?.zero_();
        (f() * weights).sum().backward();
        for (int i = 0; i < inputs.Count; i++)
        {
            var p = inputs[i];
            Assert.Equal(ScalarType.Float64, p.dtype);
            Assert.NotNull(p.grad);
            var analytic = Doubles(p.grad!);
            var flat = p.detach().view(-1);
            var picks = randperm(p.numel(), generator: g).data<long>().Take(samples).ToArray();
            foreach (long j in picks)
            {
                double original = flat[j].item<double>(), h = 1e-6;
                using (no_grad()) flat[j].fill_(original + h);
                double plus = Objective();
                using (no_grad()) flat[j].fill_(original - h);
                double minus = Objective();
                using (no_grad()) flat[j].fill_(original);
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[j]) <= tolerance + 1e-5 * Math.Abs(numeric),
                    $"{what}: input {i} element {j}: analytic {analytic[j]:R}, numeric {numeric:R}.");
            }
        }
    }
}
