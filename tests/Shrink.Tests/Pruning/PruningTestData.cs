using Shrink.Data;
using Shrink.Models;
using Shrink.Tensors;

namespace Shrink.Tests.Pruning;

/// <summary>Small synthetic data and models for the pruning and landscape tests (milliseconds per run).</summary>
internal static class PruningTestData
{
    /// <summary>1×8×8 images of 4 classes: uniform noise over a brightness of 45·class.</summary>
    public static ImageDataset Synthetic(int n, ulong seed)
    {
        var g = new Generator(seed);
        var pixels = new byte[n * 64];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 4;
            for (int p = 0; p < 64; p++) pixels[i * 64 + p] = (byte)(g.NextInt(120) + 45 * labels[i]);
        }
        return new ImageDataset($"synthetic {n}", pixels, labels, 1, 8, 8, ["a", "b", "c", "d"]);
    }

    /// <summary>A LeNet-300-100-shaped MLP for the 8×8 images: 64 → 32 → 16 → 4.</summary>
    public static LeNet300100 SmallLeNet(ulong seed) =>
        new(new LeNet300100Config(InFeatures: 64, Hidden1: 32, Hidden2: 16, NumClasses: 4), new Generator(seed));

    /// <summary>A two-block ViT for 8×8 images: D 16, 4 heads of width 4, MLP 32.</summary>
    public static VisionTransformer SmallVit(ulong seed) =>
        new(new VitConfig { ImageSize = 8, PatchSize = 4, EmbedDim = 16, Depth = 2, NumHeads = 4, MlpRatio = 2, NumClasses = 4 }, seed);
}
