// Shrink benchmarks. Usage: dotnet run -c Release --project tests/Shrink.Bench -- <peak|gemm|vit|S|M|attn|all> [seconds]
// Every result is printed as one line `name value unit`, the format of shared/anchors/torch_vit_bench.py, so the two
// programs' outputs can be compared line by line.
using System.Diagnostics;
using System.Globalization;
using Shrink.Bench;
using Shrink.Tensors.Kernels;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string which = args.Length > 0 ? args[0] : "all";
double seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5.0;

switch (which)
{
    case "gemm":
        GemmBench(seconds);
        break;
    case "vit":
        Shrink.Bench.VitBench.Run("S", seconds);
        Shrink.Bench.VitBench.Run("M", seconds);
        break;
    case "attn":
        AttentionBench(seconds);
        break;
    case "peak":
        Shrink.Bench.PeakBench.Run(seconds);
        break;
    case "S" or "M":
        Shrink.Bench.VitBench.Run(which, seconds);
        break;
    case "all":
        Shrink.Bench.PeakBench.Run(Math.Min(seconds, 2));
        GemmBench(seconds);
        Shrink.Bench.VitBench.Run("S", seconds);
        Shrink.Bench.VitBench.Run("M", seconds);
        // "all" runs every case above; add new cases here too.
        break;
    default:
        Console.Error.WriteLine("usage: Shrink.Bench [peak|gemm|vit|S|M|attn|all] [seconds]");
        return 1;
}
return 0;

// Same protocol as the torch script: 3 warm-up calls, then as many calls as fit in `seconds`; rate = work·calls/elapsed.
// Square n×n float32 products C = A·B of random (normal) inputs, reported in GFLOP/s (2n³ flops per call).
static void GemmBench(double seconds)
{
    var rng = new Random(0);
    foreach (int n in new[] { 256, 1024 })
    {
        float[] a = RandomNormal(rng, n * n), b = RandomNormal(rng, n * n), c = new float[n * n];
        double rate = Measure.Rate(() => Gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n), 2.0 * n * n * n / 1e9, seconds);
        Console.WriteLine($"shrink-gemm-{n} {rate:F1} GFLOP/s");
    }
}

static float[] RandomNormal(Random rng, int count)
{
    var x = new float[count];
    for (int i = 0; i < count; i++)
        x[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
    return x;
}

// Packed attention alone, forward + backward, at the S and M benchmark shapes (B, N, 3·D, heads).
static void AttentionBench(double seconds)
{
    foreach (var (name, b, n, dim, heads) in new[] { ("S", 128, 17, 64, 4), ("M", 64, 50, 192, 3), ("micro", 128, 50, 128, 4) })
    {
        var qkv = Shrink.Tensors.Tensor.Randn([b, n, 3 * dim], new Shrink.Tensors.Generator(1)).RequiresGrad_();
        var g = Shrink.Tensors.Tensor.Randn([b, n, dim], new Shrink.Tensors.Generator(2));
        double Rate(bool backward) => Measure.Rate(() =>
        {
            using var scope = Shrink.Tensors.TensorScope.Begin();
            var (o, _) = Shrink.Tensors.Functional.ScaledDotProductAttentionPacked(qkv, heads);
            if (backward) { (o * g).Sum().Backward(); qkv.Grad = null; }
        }, b, seconds);
        Console.WriteLine($"shrink-attn-{name}-fwd {Rate(false):F0} img/s");
        Console.WriteLine($"shrink-attn-{name}-fwdbwd {Rate(true):F0} img/s");
    }
}
