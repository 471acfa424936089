using System.Diagnostics;

namespace Shrink.Bench;

/// <summary>The measuring protocol shared by every case, the same as ../shared/anchors/torch_vit_bench.py.</summary>
internal static class Measure
{
    /// <summary>3 warm-up calls, then as many calls as fit in <paramref name="seconds"/>; returns work·calls / elapsed.</summary>
    public static double Rate(Action fn, double perCall, double seconds)
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
}
