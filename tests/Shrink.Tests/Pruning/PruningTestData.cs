using Shrink.Data;
using Shrink.Models;
using Shrink.Torch;
using static TorchSharp.torch;

namespace Shrink.Tests.Pruning;

/// <summary>Small synthetic data and models for the pruning and landscape tests (milliseconds per run).</summary>
internal static class PruningTestData
{
    /// <summary>1×8×8 images of 4 classes: uniform noise over a brightness of 45·class.</summary>
    public static ImageDataset Synthetic(int n, ulong seed)
    {
        var draws = randint(0, 120, [n * 64], generator: Seed.Generator(seed)).data<long>().ToArray();
        var pixels = new byte[n * 64];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 4;
            for (int p = 0; p < 64; p++) pixels[i * 64 + p] = (byte)(draws[i * 64 + p] + 45 * labels[i]);
        }
        return new ImageDataset($"synthetic {n}", pixels, labels, 1, 8, 8, ["a", "b", "c", "d"]);
    }

    /// <summary>A LeNet-300-100-shaped MLP for the 8×8 images: 64 → 32 → 16 → 4.</summary>
    public static LeNet300100 SmallLeNet(ulong seed) =>
        new(new LeNet300100Config(InFeatures: 64, Hidden1: 32, Hidden2: 16, NumClasses: 4), seed);

    /// <summary>A two-block ViT for 8×8 images: D 16, 4 heads of width 4, MLP 32.</summary>
    public static VisionTransformer SmallVit(ulong seed) =>
        new(new VitConfig { ImageSize = 8, PatchSize = 4, EmbedDim = 16, Depth = 2, NumHeads = 4, MlpRatio = 2, NumClasses = 4 }, seed);

    /// <summary>The values of a tensor (any device and float dtype) as a flat float array.</summary>
    public static float[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();

    /// <summary>The values of parameter <paramref name="name"/> of <paramref name="model"/>.</summary>
    public static float[] Values(nn.Module model, string name) =>
        Values(model.named_parameters().First(p => p.name == name).parameter);

    /// <summary>The state-dict entry <paramref name="name"/> of <paramref name="model"/>.</summary>
    public static float[] StateValues(nn.Module model, string name) => Values(model.state_dict()[name]);

    /// <summary>N(0, 1) tensor of <paramref name="shape"/> drawn from <see cref="Seed.Generator(ulong, ReadOnlySpan{ulong})"/>(<paramref name="seed"/>).</summary>
    public static Tensor Randn(ulong seed, params long[] shape) => randn(shape, generator: Seed.Generator(seed));
}
