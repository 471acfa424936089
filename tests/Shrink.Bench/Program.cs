// Shrink benchmarks. Usage: dotnet run -c Release --project tests/Shrink.Bench -- <case> [seconds]
// Every result is printed as one line `name value unit`, the format of shared/anchors/torch_vit_bench.py, so the two
// programs' outputs can be compared line by line.
using System.Diagnostics;
using System.Globalization;
using Shrink.Tensors.Kernels;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string which = args.Length > 0 ? args[0] : "all";
double seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5.0;

switch (which)
{
    case "gemm":
        GemmBench(seconds);
        break;
    // case "vit": ViT training / inference throughput goes here (same names as the torch script: shrink-S-train ...).
    case "all":
        GemmBench(seconds);
        // "all" runs every case above; add new cases here too.
        break;
    default:
        Console.Error.WriteLine("usage: Shrink.Bench [gemm|all] [seconds]");
        return 1;
}
return 0;

// Same protocol as the torch script: 3 warm-up calls, then as many calls as fit in `seconds`; rate = work·calls/elapsed.
static double Rate(Action fn, double perCall, double seconds)
{
    for (int i = 0; i < 3; i++) fn();
    long calls = 0;
    var sw = Stopwatch.StartNew();
    while (sw.Elapsed.TotalSeconds < seconds)
    {
        fn();
        calls++;
    }
    return calls * perCall / sw.Elapsed.TotalSeconds;
}

// Square n×n float32 products C = A·B of random (normal) inputs, reported in GFLOP/s (2n³ flops per call).
static void GemmBench(double seconds)
{
    var rng = new Random(0);
    foreach (int n in new[] { 256, 1024 })
    {
        float[] a = RandomNormal(rng, n * n), b = RandomNormal(rng, n * n), c = new float[n * n];
        double rate = Rate(() => Gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n), 2.0 * n * n * n / 1e9, seconds);
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
