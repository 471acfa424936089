using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Bench;

/// <summary>
/// torch.set_num_threads(n) for n = 1 … cores: S and M training throughput and a 1024³ float32 matmul (2n³ flops per
/// call, GFLOP/s), each measured like every other case. Prints <c>shrink-S-train-{n}threads</c>,
/// <c>shrink-M-train-{n}threads</c>, <c>shrink-matmul-1024-{n}threads</c>. Restores the thread count it found.
/// </summary>
internal static class ThreadsBench
{
    public static void Run(double seconds)
    {
        int found = get_num_threads();
        for (int n = 1; n <= Math.Max(2, Environment.ProcessorCount); n++)
        {
            set_num_threads(n);
            Console.WriteLine($"shrink-matmul-1024-{n}threads {Matmul(1024, seconds):F1} GFLOP/s");
            Console.WriteLine($"shrink-S-train-{n}threads {VitBench.TrainRate("S", seconds):F1} img/s");
            Console.WriteLine($"shrink-M-train-{n}threads {VitBench.TrainRate("M", seconds):F1} img/s");
        }
        set_num_threads(found);
    }

    private static double Matmul(int n, double seconds)
    {
        var g = Seed.Generator(0, 2);
        using var a = randn([n, n], generator: g);   // (n, n)
        using var b = randn([n, n], generator: g);   // (n, n)
        return Measure.Rate(() => { using var c = a.matmul(b); }, 2.0 * n * n * n / 1e9, seconds);   // (n, n)
    }
}
