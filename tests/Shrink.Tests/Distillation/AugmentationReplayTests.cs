using Shrink.Data;
using Shrink.Torch;
using static TorchSharp.torch;

namespace Shrink.Tests.Distillation;

/// <summary>Batches carry epoch, position and augmentation draws; a draw replays the augmented image exactly.</summary>
public class AugmentationReplayTests
{
    public AugmentationReplayTests() => TorchNative.EnsureLoaded();

    /// <summary>n random side×side single-channel images (pixels from the seed), labels i mod classes.</summary>
    internal static ImageDataset Images(int n, int classes, ulong seed, int side = 6)
    {
        TorchNative.EnsureLoaded();
        var pixels = randint(0, 256, [n * side * side], dtype: ScalarType.Int64, generator: Seed.Generator(seed, 0x5049))   // "PI"
            .to(ScalarType.Byte).data<byte>().ToArray();
        var labels = Enumerable.Range(0, n).Select(i => i % classes).ToArray();
        return new ImageDataset($"random {n}", pixels, labels, 1, side, side, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray());
    }

    internal static float[] Values(Tensor t) => DistillationLossTests.Values(t);

    [Fact]
    public void DrawsPackAndUnpack()
    {
        foreach (var d in new[] { new AugmentationDraw(0, 0, false), new AugmentationDraw(3, 1, true), new AugmentationDraw(AugmentationDraw.MaxOffset, 7, true) })
        {
            Assert.NotEqual(0u, d.Pack());
            Assert.Equal(d, AugmentationDraw.Unpack(d.Pack()));
        }
        Assert.Throws<ArgumentException>(() => AugmentationDraw.Unpack(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AugmentationDraw(-1, 0, false).Pack());
    }

    [Fact]
    public void BatchesCarryEpochIndexAndDrawsAndReplayReproducesThem()
    {
        var data = Images(20, 3, 1);
        var loader = new DataLoader(data, 6, shuffle: true, seed: 7, dropLast: true, normalization: new Normalization([0.5f], [0.25f]),
            augmentation: Augmentation.CropAndFlip(2), prefetch: 0);
        using var batch = loader.GetBatch(epoch: 3, index: 2);
        Assert.Equal(3, batch.Epoch);
        Assert.Equal(2, batch.BatchIndex);
        Assert.Equal(6, batch.Augmentations!.Length);
        Assert.Contains(batch.Augmentations, d => d != AugmentationDraw.Identity(2));
        Assert.All(batch.Augmentations, d => Assert.InRange(d.Dy, 0, 4));
        var replay = Values(loader.Replay(batch.Indices, batch.Augmentations));
        Assert.Equal(Values(batch.Images), replay);
        // identity draws give the un-augmented images
        var plain = Values(loader.Replay(batch.Indices, Enumerable.Repeat(AugmentationDraw.Identity(2), 6).ToArray()));
        Assert.Equal(Values(data.ToTensor(batch.Indices, new Normalization([0.5f], [0.25f]))), plain);
        Assert.Throws<ArgumentException>(() => loader.Replay(batch.Indices.AsSpan(0, 1), [new AugmentationDraw(5, 0, false)]));
        // a loader without augmentation records identity draws
        using var b2 = new DataLoader(data, 4, prefetch: 0).GetBatch(0, 1);
        Assert.All(b2.Augmentations!, d => Assert.Equal(AugmentationDraw.Identity(0), d));
        Assert.Equal(-1, new Batch(zeros(1, 1, 6, 6), [0], [0]).Epoch);
    }
}
