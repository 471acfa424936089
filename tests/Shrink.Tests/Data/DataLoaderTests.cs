using Shrink.Data;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Tests.Data;

public class DataLoaderTests
{
    public DataLoaderTests() => TorchNative.EnsureLoaded();

    /// <summary>The values of a float32 tensor in row-major order.</summary>
    private static float[] Values(Tensor t)
    {
        using var c = t.cpu().contiguous();
        return c.numel() == 0 ? [] : c.data<float>().ToArray();   // TorchSharp's ToArray throws on an empty tensor
    }

    /// <summary>The images of batch <paramref name="index"/> of <paramref name="epoch"/>, the batch disposed.</summary>
    private static float[] ImagesOf(DataLoader loader, int epoch, int index)
    {
        using var b = loader.GetBatch(epoch, index);
        return Values(b.Images);
    }

    /// <summary>n images of 1×4×5 (or c channels) whose pixel i of image k is (k·20 + i) % 256; label k % 3.</summary>
    private static ImageDataset Tiny(int n, int c = 1, int h = 4, int w = 5)
    {
        int size = c * h * w;
        var px = new byte[n * size];
        for (int k = 0; k < n; k++)
            for (int i = 0; i < size; i++) px[k * size + i] = (byte)((k * 20 + i) % 256);
        var labels = Enumerable.Range(0, n).Select(k => k % 3).ToArray();
        return new ImageDataset("tiny", px, labels, c, h, w, ["a", "b", "c"]);
    }

    private static List<(float[] X, int[] Y, int[] I)> All(DataLoader loader, int epoch) =>
        loader.Enumerate(epoch).Select(b => { using (b) return (Values(b.Images), b.Labels, b.Indices); }).ToList();

    [Fact]
    public void CountsWithAndWithoutDropLast()
    {
        var ds = Tiny(10);
        var keep = new DataLoader(ds, 3);
        var drop = new DataLoader(ds, 3, dropLast: true);
        Assert.Equal(4, keep.Count);
        Assert.Equal(3, drop.Count);
        Assert.Equal([3, 3, 3, 1], keep.Enumerate().Select(b => b.Size));
        Assert.Equal([3, 3, 3], drop.Enumerate().Select(b => b.Size));
        Assert.Equal(9, drop.SamplesPerEpoch);
        Assert.Equal(2, new DataLoader(ds, 5, dropLast: true).Count);
        Assert.Equal([9], keep.GetBatch(0, 3).Indices);
        Assert.Equal([0], keep.GetBatch(0, 3).Labels);
        // Unshuffled: dataset order.
        Assert.Equal(Enumerable.Range(0, 10), keep.Enumerate().SelectMany(b => b.Indices));
        Assert.Throws<ArgumentException>(() => new DataLoader(ds, 0));
    }

    [Fact]
    public void SameSeedSameBatchesWhateverPrefetchDifferentEpochDifferentOrder()
    {
        var ds = Tiny(50);
        var aug = Augmentation.CropAndFlip(2);
        var a = new DataLoader(ds, 8, shuffle: true, seed: 7, augmentation: aug, normalization: new Normalization([0.5f], [0.25f]), prefetch: 2);
        var b = new DataLoader(ds, 8, shuffle: true, seed: 7, augmentation: aug, normalization: new Normalization([0.5f], [0.25f]), prefetch: 0);
        var c = new DataLoader(ds, 8, shuffle: true, seed: 8, augmentation: aug, normalization: new Normalization([0.5f], [0.25f]));
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var ea = All(a, epoch);
            var eb = All(b, epoch);
            Assert.Equal(ea.Count, eb.Count);
            for (int k = 0; k < ea.Count; k++)
            {
                Assert.Equal(ea[k].I, eb[k].I);
                Assert.Equal(ea[k].Y, eb[k].Y);
                Assert.Equal(ea[k].X, eb[k].X);   // bit-identical, augmentation included
                Assert.Equal(ea[k].X, ImagesOf(a, epoch, k));
            }
            // Every sample exactly once per epoch.
            Assert.Equal(Enumerable.Range(0, 50), ea.SelectMany(x => x.I).Order());
        }
        Assert.NotEqual(a.Order(0), a.Order(1));
        Assert.NotEqual(a.Order(0), c.Order(0));
        Assert.NotEqual(All(a, 0)[0].X, All(a, 1)[0].X);
        Assert.NotEqual(All(a, 0)[0].X, All(c, 0)[0].X);
    }

    [Fact]
    public void NormalisationMatchesFormula()
    {
        var ds = Tiny(2, c: 2, h: 2, w: 2);
        var norm = new Normalization([0.25f, 0.5f], [0.5f, 2f]);
        var loader = new DataLoader(ds, 2, normalization: norm);
        using var batch = loader.GetBatch(0, 0);
        var x = batch.Images;
        Assert.Equal([2L, 2L, 2L, 2L], x.shape);
        Assert.Equal(ScalarType.Float32, x.dtype);
        var px = ds.Pixels.ToArray();
        var got = Values(x);
        for (int i = 0; i < got.Length; i++)
        {
            int channel = (i / 4) % 2;
            float expected = ((float)px[i] / 255f - norm.Mean[channel]) / norm.Std[channel];
            Assert.Equal(expected, got[i]);
        }
        // Pixel 7 of image 1 is byte 27, channel 1: (27/255 − 0.5)/2.
        Assert.Equal((27f / 255f - 0.5f) / 2f, got[15], 6);
        // Without normalisation: v/255.
        Assert.Equal(px.Select(v => v / 255f), ImagesOf(new DataLoader(ds, 2), 0, 0));
        // ImageDataset renders the same bits.
        using (var all = ds.ToTensor(norm)) Assert.Equal(got, Values(all));
        using (var one = ds.Image(1, norm))
        {
            Assert.Equal([2L, 2L, 2L], one.shape);
            Assert.Equal(got[8..], Values(one));
        }
        Assert.Equal(0.2860f, Normalization.FashionMnist.Mean[0]);
        Assert.Throws<ArgumentException>(() => new DataLoader(ds, 2, normalization: new Normalization([0f, 0f, 0f], [1f, 1f, 1f])));
        Assert.Equal(new Normalization([0.5f], [0.25f]), new Normalization([0.5f], [0.25f]));
    }

    [Fact]
    public void CropAndFlipOnAHandMadeImage()
    {
        // 3×4 image with values 1..12 (row-major), one channel, identity table (byte values as floats).
        byte[] img = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        float[][] table = [Enumerable.Range(0, 256).Select(v => (float)v).ToArray()];
        float[] Render(int pad, int dy, int dx, bool flip)
        {
            var dst = new float[12];
            DataLoader.Render(img, 1, 3, 4, table, pad, dy, dx, flip, dst);
            return dst;
        }
        Assert.Equal(img.Select(v => (float)v), Render(1, 1, 1, false));
        // Padded by 1, window at (0, 0): shifted down-right by one, zero row/column at top/left.
        Assert.Equal([0, 0, 0, 0, 0, 1, 2, 3, 0, 5, 6, 7], Render(1, 0, 0, false));
        // Window at (2, 2): shifted up-left, zeros at bottom/right.
        Assert.Equal([6, 7, 8, 0, 10, 11, 12, 0, 0, 0, 0, 0], Render(1, 2, 2, false));
        // Flip only: each row reversed.
        Assert.Equal([4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9], Render(1, 1, 1, true));
        // Crop then flip (torchvision order): crop at (0, 0) then mirror.
        Assert.Equal([0, 0, 0, 0, 3, 2, 1, 0, 7, 6, 5, 0], Render(1, 0, 0, true));
        // Padding 2, window at (0, 4): two rows of zeros on top, shifted left by 2.
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0], Render(2, 0, 4, false));
    }

    [Fact]
    public void LoaderAugmentationProducesOnlyValidCropsAndUsesThemAll()
    {
        byte[] img = Enumerable.Range(1, 12).Select(v => (byte)v).ToArray();
        var ds = new ImageDataset("one", img, [0], 1, 3, 4, ["x"]);
        float[][] table = Normalization.Tables(null, 1);
        var candidates = new List<float[]>();
        for (int dy = 0; dy <= 2; dy++)
            for (int dx = 0; dx <= 2; dx++)
                foreach (var f in new[] { false, true })
                {
                    var dst = new float[12];
                    DataLoader.Render(img, 1, 3, 4, table, 1, dy, dx, f, dst);
                    candidates.Add(dst);
                }
        var seen = new HashSet<int>();
        var loader = new DataLoader(ds, 1, augmentation: Augmentation.CropAndFlip(1), seed: 3, prefetch: 0);
        for (int epoch = 0; epoch < 400; epoch++)
        {
            using var batch = loader.GetBatch(epoch, 0);
            var x = Values(batch.Images);
            var d = batch.Augmentations![0];
            Assert.Equal(candidates[(d.Dy * 3 + d.Dx) * 2 + (d.Flip ? 1 : 0)], x);   // the recorded draw is the one applied
            int k = candidates.FindIndex(c => c.SequenceEqual(x));
            Assert.True(k >= 0, "output is not a padded crop (+ flip) of the input");
            seen.Add(k);
        }
        Assert.Equal(18, seen.Count);
    }

    [Fact]
    public void BatchesOutliveDisposeScopesAndEarlyExitStopsTheProducer()
    {
        var ds = Tiny(40);
        var loader = new DataLoader(ds, 4, shuffle: true, seed: 1, prefetch: 0);
        Batch kept;
        using (NewDisposeScope()) kept = loader.GetBatch(0, 0);
        Assert.Equal(4 * 20, Values(kept.Images).Length);   // still readable after the scope ended
        Assert.Equal(kept.Labels.Select(y => (long)y), kept.Targets.data<long>().ToArray());
        kept.Dispose();
        kept.Dispose();                                      // idempotent
        Assert.Throws<InvalidOperationException>(() => kept.Images.shape);

        var prefetching = new DataLoader(ds, 4, shuffle: true, seed: 1, prefetch: 2);
        for (int round = 0; round < 20; round++)
        {
            int taken = 0;
            foreach (var batch in prefetching.Enumerate(round))
            {
                using (batch)
                using (NewDisposeScope())
                {
                    var (x, y) = batch;
                    Assert.Equal(4, y.Length);
                    Assert.Equal([4L, 1L, 4L, 5L], x.shape);
                    using var sum = x.sum();
                }
                if (++taken == 2) break;
            }
        }
    }

    [Fact]
    public void TargetsAreInt64LabelsOnTheImagesDevice()
    {
        var ds = Tiny(10);
        var loader = new DataLoader(ds, 4, shuffle: true, seed: 5, device: CPU);
        Assert.Equal(DeviceType.CPU, loader.Device.type);
        foreach (var batch in loader.Enumerate(0))
            using (batch)
            {
                Assert.Equal(ScalarType.Int64, batch.Targets.dtype);
                Assert.Equal(batch.Images.device_type, batch.Targets.device_type);
                Assert.Equal(batch.Labels.Select(y => (long)y), batch.Targets.data<long>().ToArray());
                Assert.Equal(batch.Indices.Select(i => ds.Labels[i]), batch.Labels);
                // cross_entropy takes them as they are.
                using var loss = nn.functional.cross_entropy(zeros(batch.Size, 3), batch.Targets);
                Assert.Equal(Math.Log(3), loss.item<float>(), 5);
            }

        // A batch built by hand makes its targets on first use, outside the current scope.
        using var hand = new Batch(zeros(2, 1, 4, 5), [2, 0], [7, 8]);
        Tensor targets;
        using (NewDisposeScope()) targets = hand.Targets;
        Assert.Same(targets, hand.Targets);
        Assert.Equal([2L, 0L], targets.data<long>().ToArray());
    }

    [Fact]
    public void ReplayRendersTheBatchBitsFromTheRecordedDraws()
    {
        var ds = Tiny(12, c: 2);
        var loader = new DataLoader(ds, 5, shuffle: true, seed: 9, augmentation: Augmentation.CropAndFlip(2),
            normalization: new Normalization([0.3f, 0.6f], [0.2f, 0.4f]));
        foreach (var batch in loader.Enumerate(1))
            using (batch)
            using (var replayed = loader.Replay(batch.Indices, batch.Augmentations))
                Assert.Equal(Values(batch.Images), Values(replayed));
        Assert.Throws<ArgumentException>(() => loader.Replay([0], [new AugmentationDraw(5, 0, false)]));
        Assert.Throws<ArgumentException>(() => loader.Replay([0, 1], [AugmentationDraw.Identity(2)]));
    }

    [Fact]
    public void DeliversBatchesOnTheLoadersDevice()
    {
        // A CPU build has one other device: "meta" (shapes without data), enough to see that nothing stays on the CPU.
        var ds = Tiny(8);
        var meta = device("meta");
        var loader = new DataLoader(ds, 4, shuffle: true, seed: 2, augmentation: Augmentation.CropAndFlip(1), prefetch: 2, device: meta);
        int n = 0;
        foreach (var batch in loader.Enumerate(0))
            using (batch)
            {
                Assert.Equal(DeviceType.META, batch.Images.device_type);
                Assert.Equal(DeviceType.META, batch.Targets.device_type);
                Assert.Equal([4L, 1L, 4L, 5L], batch.Images.shape);
                using var replayed = loader.Replay(batch.Indices, batch.Augmentations);
                Assert.Equal(DeviceType.META, replayed.device_type);
                n++;
            }
        Assert.Equal(2, n);
        using var all = ds.ToTensor(device: meta);
        Assert.Equal(DeviceType.META, all.device_type);
        Assert.Equal([8L, 1L, 4L, 5L], all.shape);
    }

    [Fact]
    public void SubsetTakeAndTakePerClass()
    {
        var ds = Tiny(9);
        var s = ds.Subset([8, 0, 4]);
        Assert.Equal([8 % 3, 0, 4 % 3], s.Labels);
        Assert.Equal(ds.ImageBytes(8).ToArray(), s.ImageBytes(0).ToArray());
        Assert.Equal(3, ds.Take(3).Count);
        var per = ds.TakePerClass(2);
        Assert.Equal([0, 1, 2, 0, 1, 2], per.Labels);
        Assert.Equal([2, 2, 2], per.ClassCounts());
    }

    [Fact]
    public void SelectClassesKeepsOrderRelabelsAndRefusesBadClasses()
    {
        var ds = Tiny(9);                                    // labels i % 3
        var s = ds.SelectClasses([2, 0]);
        Assert.Equal([1, 0, 1, 0, 1, 0], s.Labels);          // images 0, 2, 3, 5, 6, 8 in dataset order; 2 → 0, 0 → 1
        Assert.Equal([ds.ClassNames[2], ds.ClassNames[0]], s.ClassNames);
        Assert.Equal(ds.ImageBytes(2).ToArray(), s.ImageBytes(1).ToArray());
        Assert.Equal(ds.ImageBytes(8).ToArray(), s.ImageBytes(5).ToArray());
        Assert.Equal([3, 3], s.ClassCounts());
        Assert.Contains("outside 0..2", Assert.Throws<ArgumentException>(() => ds.SelectClasses([3])).Message);
        Assert.Contains("given twice", Assert.Throws<ArgumentException>(() => ds.SelectClasses([1, 1])).Message);
        Assert.Contains("at least one class", Assert.Throws<ArgumentException>(() => ds.SelectClasses([])).Message);
    }
}
