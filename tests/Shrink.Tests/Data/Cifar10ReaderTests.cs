using Shrink.Data;

namespace Shrink.Tests.Data;

public class Cifar10ReaderTests
{
    [Fact]
    public void ReadsRecordsAsChannelPlanes()
    {
        using var dir = new TempFolder();
        var bytes = DataFiles.Cifar(13);
        var ds = Cifar10Reader.Read(dir.Write("data_batch_1.bin", bytes));
        Assert.Equal(13, ds.Count);
        Assert.Equal((3, 32, 32), (ds.Channels, ds.Height, ds.Width));
        Assert.Equal(Enumerable.Range(0, 13).Select(i => i % 10), ds.Labels);
        Assert.Equal(bytes.AsSpan(5 * 3073 + 1, 3072).ToArray(), ds.ImageBytes(5).ToArray());
        // G plane of image 5, row 2, column 7 = record byte 1 + 1024 + 2*32 + 7.
        var img = ds.Image(5);
        Assert.Equal(bytes[5 * 3073 + 1 + 1024 + 2 * 32 + 7] / 255f, img[1, 2, 7]);
        Assert.Equal("cat", ds.ClassNames[3]);
    }

    [Fact]
    public void LoadsSplitFromFolderOrParent()
    {
        using var dir = new TempFolder();
        var sub = Path.Combine(dir.Path, "cifar-10-batches-bin");
        Directory.CreateDirectory(sub);
        for (int b = 1; b <= 5; b++) File.WriteAllBytes(Path.Combine(sub, $"data_batch_{b}.bin"), DataFiles.Cifar(b + 1, seed: b));
        File.WriteAllBytes(Path.Combine(sub, "test_batch.bin"), DataFiles.Cifar(4, seed: 9));
        var train = Cifar10.Load(dir.Path, "train");
        Assert.Equal(2 + 3 + 4 + 5 + 6, train.Count);
        // First image of batch 3 follows 2 + 3 images.
        Assert.Equal(DataFiles.Cifar(4, seed: 3).AsSpan(1, 3072).ToArray(), train.ImageBytes(5).ToArray());
        Assert.Equal(4, Cifar10.Load(sub, "test").Count);
        File.Delete(Path.Combine(sub, "data_batch_4.bin"));
        var e = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(dir.Path, "train"));
        Assert.Contains("data_batch_4.bin", e.Message);
    }

    [Fact]
    public void BadLengthAndLabelAreFormatErrorsNamingFileAndRecord()
    {
        using var dir = new TempFolder();
        var bytes = DataFiles.Cifar(3);
        var shortPath = dir.Write("short.bin", bytes[..^10]);
        var e = Assert.Throws<DatasetFormatException>(() => Cifar10Reader.Read(shortPath));
        Assert.Contains(shortPath, e.Message);
        Assert.Contains("not a multiple of the 3073", e.Message);

        var longPath = dir.Write("long.bin", [.. bytes, 1]);
        Assert.Contains(longPath, Assert.Throws<DatasetFormatException>(() => Cifar10Reader.Read(longPath)).Message);

        var emptyPath = dir.Write("empty.bin", []);
        Assert.Contains("empty", Assert.Throws<DatasetFormatException>(() => Cifar10Reader.Read(emptyPath)).Message);

        bytes[2 * 3073] = 10;
        var labelPath = dir.Write("label.bin", bytes);
        var l = Assert.Throws<DatasetFormatException>(() => Cifar10Reader.Read(labelPath));
        Assert.Contains(labelPath, l.Message);
        Assert.Contains("record 2", l.Message);
        Assert.Contains("label 10", l.Message);
    }

    [Fact]
    public void RandomMutationsLoadOrThrowFormatErrors()
    {
        using var dir = new TempFolder();
        var valid = DataFiles.Cifar(2);
        var rng = new Random(99);
        int loaded = 0, rejected = 0;
        for (int trial = 0; trial < 1000; trial++)
        {
            byte[] bytes = IdxReaderTests.Mutate(valid, rng);
            if (trial % 3 == 0)
            {
                int labelAt = rng.Next(2) * 3073;   // overwrite a label byte with a random value
                if (labelAt < bytes.Length) bytes[labelAt] = (byte)rng.Next(256);
            }
            var path = dir.Write($"m{trial % 8}.bin", bytes);
            try
            {
                var ds = Cifar10Reader.Read(path);
                Assert.Equal(bytes.Length / 3073, ds.Count);
                loaded++;
            }
            catch (DatasetFormatException e)
            {
                Assert.Contains(path, e.Message);
                rejected++;
            }
        }
        Assert.True(loaded > 0 && rejected > 0, $"loaded {loaded}, rejected {rejected}");
    }
}
