using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace Shrink.Bench;

/// <summary>
/// The machine's float32 FMA peak: every core runs a loop of independent 512-bit fused multiply-adds (12 accumulators,
/// enough to hide the FMA latency on both pipes) and nothing else, so the rate is the ceiling any GEMM or ViT step can
/// approach. Reported as <c>peak-fma-1thread</c> and <c>peak-fma-{cores}threads</c> in GFLOP/s (2 flops per lane per FMA).
/// Skipped (one line says so) where 512-bit vectors are not accelerated.
/// </summary>
internal static class PeakBench
{
    public static void Run(double seconds)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            Console.WriteLine("peak-fma: skipped, 512-bit vectors are not accelerated on this CPU");
            return;
        }
        int cores = Environment.ProcessorCount;
        Console.WriteLine($"peak-fma-1thread {Rate(1, seconds):F1} GFLOP/s");
        if (cores > 1) Console.WriteLine($"peak-fma-{cores}threads {Rate(cores, seconds):F1} GFLOP/s");
    }

    // Each thread repeats blocks of FMAs until `seconds` have passed; rate = Σ flops / wall time.
    private static double Rate(int threads, double seconds)
    {
        Kernel(1000);                                             // JIT and warm up
        long[] blocks = new long[threads];
        var sw = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            while (sw.Elapsed.TotalSeconds < seconds) { Kernel(BlockIterations); blocks[t]++; }
        }) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        return blocks.Sum() * (double)BlockIterations * 12 * Vector512<float>.Count * 2 / sw.Elapsed.TotalSeconds / 1e9;
    }

    private const int BlockIterations = 1 << 20;

    private static float Kernel(int iterations)
    {
        var x = Vector512.Create(0.999999f); var y = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(0.1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, x, y); a1 = Vector512.FusedMultiplyAdd(a1, x, y); a2 = Vector512.FusedMultiplyAdd(a2, x, y);
            a3 = Vector512.FusedMultiplyAdd(a3, x, y); a4 = Vector512.FusedMultiplyAdd(a4, x, y); a5 = Vector512.FusedMultiplyAdd(a5, x, y);
            a6 = Vector512.FusedMultiplyAdd(a6, x, y); a7 = Vector512.FusedMultiplyAdd(a7, x, y); a8 = Vector512.FusedMultiplyAdd(a8, x, y);
            a9 = Vector512.FusedMultiplyAdd(a9, x, y); a10 = Vector512.FusedMultiplyAdd(a10, x, y); a11 = Vector512.FusedMultiplyAdd(a11, x, y);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
