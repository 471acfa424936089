using Shrink.Data;
using Shrink.Tensors;

namespace Shrink.Tests.Distillation;

/// <summary>Batches carry epoch, position and augmentation draws; a draw replays the augmented image exactly.</summary>
public class AugmentationReplayTests
{
    internal static ImageDataset Images(int n, int classes, ulong seed, int side = 6)
    {
        var g = new Generator(seed);
        var pixels = new byte[n * side * side];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)g.NextInt(256);
        var labels = Enumerable.Range(0, n).Select(i => i % classes).ToArray();
        return new ImageDataset($"random {n}", pixels, labels, 1, side, side, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray());
    }

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
        var batch = loader.GetBatch(epoch: 3, index: 2);
        Assert.Equal(3, batch.Epoch);
        Assert.Equal(2, batch.BatchIndex);
        Assert.Equal(6, batch.Augmentations!.Length);
        Assert.Contains(batch.Augmentations, d => d != AugmentationDraw.Identity(2));
        Assert.All(batch.Augmentations, d => Assert.InRange(d.Dy, 0, 4));
        var replay = loader.Replay(batch.Indices, batch.Augmentations).ToArray();
        Assert.Equal(batch.Images.ToArray(), replay);
        // identity draws give the un-augmented images
        var plain = loader.Replay(batch.Indices, Enumerable.Repeat(AugmentationDraw.Identity(2), 6).ToArray()).ToArray();
        Assert.Equal(data.ToTensor(batch.Indices, new Normalization([0.5f], [0.25f])).ToArray(), plain);
        Assert.Throws<ArgumentException>(() => loader.Replay(batch.Indices.AsSpan(0, 1), [new AugmentationDraw(5, 0, false)]));
        // a loader without augmentation records identity draws
        var b2 = new DataLoader(data, 4, prefetch: 0).GetBatch(0, 1);
        Assert.All(b2.Augmentations!, d => Assert.Equal(AugmentationDraw.Identity(0), d));
        Assert.Equal(-1, new Batch(Tensor.Zeros(1, 1, 6, 6), [0], [0]).Epoch);
    }
}
