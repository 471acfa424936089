using TorchSharp;

namespace Shrink.Torch;

/// <summary>
/// The one seed mixer of the library. Every random stream (initial weights, data order, augmentation draws, dropout of
/// step t, a learngene's generator, a control's random mask) gets its own 64-bit seed from the run's seed and a few
/// integers naming the stream, and a <see cref="torch.Generator"/> made from it. Same seed, same machine: same bits.
/// <code>
/// h = fin(domain ⊕ "SHRINKSD"); for each part p: h = fin(h ⊕ (p + φ))     fin = SplitMix64's finaliser, φ = 0x9E3779B97F4A7C15
/// </code>
/// </summary>
public static class Seed
{
    /// <summary>Mixes <paramref name="seed"/> with the integers <paramref name="parts"/> that name a stream into one 64-bit seed.</summary>
    public static ulong Mix(ulong seed, params ReadOnlySpan<ulong> parts)
    {
        ulong h = Finalize(seed ^ 0x534852494E4B5344UL);   // "SHRINKSD"
        foreach (ulong p in parts) h = Finalize(h ^ unchecked(p + 0x9E3779B97F4A7C15UL));
        return h;
    }

    /// <summary>A torch generator on the CPU seeded with <see cref="Mix"/>(seed, parts).</summary>
    public static torch.Generator Generator(ulong seed, params ReadOnlySpan<ulong> parts) => Generator(null, seed, parts);

    /// <summary>A torch generator on <paramref name="device"/> seeded with <see cref="Mix"/>(seed, parts).</summary>
    public static torch.Generator Generator(torch.Device? device, ulong seed, params ReadOnlySpan<ulong> parts)
    {
        TorchNative.EnsureLoaded();
        return new torch.Generator(Mix(seed, parts), device ?? torch.CPU);
    }

    /// <summary>
    /// Reseeds torch's default generators (CPU, and CUDA when present) — the ones dropout and stochastic depth draw from —
    /// with <see cref="Mix"/>(seed, parts). The trainer does this before every step, so a resumed run draws the same bits.
    /// </summary>
    public static void ManualSeed(ulong seed, params ReadOnlySpan<ulong> parts)
    {
        TorchNative.EnsureLoaded();
        torch.manual_seed(unchecked((long)Mix(seed, parts)));
    }

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
