using System.Buffers.Binary;
using Shrink.Data;

namespace Shrink.Tests.Data;

public class IdxReaderTests
{
    [Fact]
    public void ReadsRawAndGzipIdenticallyDetectingGzipByMagic()
    {
        using var dir = new TempFolder();
        var raw = DataFiles.IdxImages(7, 4, 5);
        var a = IdxReader.ReadImages(dir.Write("images.idx", raw));
        // gzip content under a name without .gz, raw content under a .gz name: detection is by magic.
        var b = IdxReader.ReadImages(dir.Write("images.idx.bin", DataFiles.Gzip(raw)));
        var c = IdxReader.ReadImages(dir.Write("raw-but-named.gz", raw));
        Assert.Equal([7, 4, 5], a.Dims);
        Assert.Equal(raw.AsSpan(16).ToArray(), a.Data);
        Assert.Equal(a.Data, b.Data);
        Assert.Equal(a.Data, c.Data);
        Assert.Equal(a.Dims, b.Dims);
    }

    [Fact]
    public void ReadDatasetPairsImagesWithLabels()
    {
        using var dir = new TempFolder();
        var images = dir.Write("i", DataFiles.IdxImages(12, 3, 2));
        var labels = dir.Write("l", DataFiles.Gzip(DataFiles.IdxLabels(12)));
        var ds = IdxReader.ReadDataset(images, labels, FashionMnist.ClassNames, "tiny");
        Assert.Equal(12, ds.Count);
        Assert.Equal((1, 3, 2), (ds.Channels, ds.Height, ds.Width));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i % 10), ds.Labels);
    }

    private static DatasetFormatException Fails(string path, Func<string, object> read, params string[] fragments)
    {
        var e = Assert.Throws<DatasetFormatException>(() => read(path));
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.Path);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
        return e;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BadFilesThrowDatasetFormatExceptionNamingTheFile(bool gzip)
    {
        using var dir = new TempFolder();
        byte[] Z(byte[] b) => gzip ? DataFiles.Gzip(b) : b;
        var good = DataFiles.IdxImages(3, 4, 4);

        var wrongMagic = (byte[])good.Clone(); wrongMagic[0] = 0x12;
        Fails(dir.Write("magic", Z(wrongMagic)), p => IdxReader.ReadImages(p), "magic", "0x12000803");

        var wrongType = DataFiles.Idx(0x0D, [3, 4, 4], new byte[48 * 4]);
        Fails(dir.Write("dtype", Z(wrongType)), p => IdxReader.ReadImages(p), "0x0D", "float32", "unsigned byte");

        Fails(dir.Write("rank", Z(DataFiles.IdxLabels(5))), p => IdxReader.ReadImages(p), "rank 1", "expected rank 3");

        Fails(dir.Write("truncated", Z(good[..^1])), p => IdxReader.ReadImages(p), "truncated", "[3, 4, 4]");
        Fails(dir.Write("trailing", Z([.. good, 0])), p => IdxReader.ReadImages(p), "trailing");
        Fails(dir.Write("header", Z(good[..9])), p => IdxReader.ReadImages(p), "header");
        Fails(dir.Write("short", Z(good[..2])), p => IdxReader.ReadImages(p), "magic");
        Fails(dir.Write("empty", Z([])), p => IdxReader.ReadImages(p));

        var zeroDim = DataFiles.Idx(0x08, [0, 4, 4], []);
        Fails(dir.Write("zero", Z(zeroDim)), p => IdxReader.ReadImages(p), "dimension 0 is 0");
        var huge = DataFiles.Idx(0x08, [1 << 30, 1 << 30, 4], new byte[10]);
        Fails(dir.Write("huge", Z(huge)), p => IdxReader.ReadImages(p), "more than");
    }

    [Fact]
    public void CorruptGzipStreamIsAFormatError()
    {
        using var dir = new TempFolder();
        var gz = DataFiles.Gzip(DataFiles.IdxImages(20, 8, 8));
        for (int i = 12; i < gz.Length - 8; i++) gz[i] ^= 0x5A;
        Fails(dir.Write("corrupt.gz", gz), p => IdxReader.ReadImages(p));
        var half = DataFiles.Gzip(DataFiles.IdxImages(20, 8, 8));
        Fails(dir.Write("half.gz", half[..(half.Length / 2)]), p => IdxReader.ReadImages(p));
    }

    [Fact]
    public void CountMismatchNamesBothFilesAndCounts()
    {
        using var dir = new TempFolder();
        var images = dir.Write("imgs", DataFiles.IdxImages(6, 2, 2));
        var labels = dir.Write("lbls", DataFiles.IdxLabels(5));
        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadDataset(images, labels, FashionMnist.ClassNames, "x"));
        Assert.Contains(images, e.Message);
        Assert.Contains(labels, e.Message);
        Assert.Contains("6 images", e.Message);
        Assert.Contains("5 labels", e.Message);
    }

    [Fact]
    public void LabelOutOfRangeNamesFileAndIndex()
    {
        using var dir = new TempFolder();
        var images = dir.Write("imgs", DataFiles.IdxImages(4, 2, 2));
        var labels = dir.Write("lbls", DataFiles.Idx(0x08, [4], [1, 2, 10, 3]));
        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadDataset(images, labels, FashionMnist.ClassNames, "x"));
        Assert.Contains(labels, e.Message);
        Assert.Contains("label 10 at index 2", e.Message);
    }

    [Fact]
    public void MissingFileIsFileNotFound()
    {
        using var dir = new TempFolder();
        Assert.Throws<FileNotFoundException>(() => IdxReader.ReadImages(dir.File("nope")));
    }

    [Fact]
    public void GzipBombAndLyingHeadersDoNotAllocateFromTheHeader()
    {
        using var dir = new TempFolder();
        // Header claims 2^30 elements, payload is 100 bytes: must fail as truncated without a 1 GiB allocation.
        var liar = dir.Write("liar.gz", DataFiles.Gzip(DataFiles.Idx(0x08, [1 << 30], new byte[100])));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Fails(liar, p => IdxReader.Read(p), "truncated");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 8 << 20, $"allocated {allocated} bytes");

        // Header claims 16 elements, the stream inflates to 64 MiB of zeros: must fail as trailing after reading ~16 bytes.
        var bomb = DataFiles.Idx(0x08, [16], new byte[64 << 20]);
        var bombPath = dir.Write("bomb.gz", DataFiles.Gzip(bomb));
        Assert.True(new FileInfo(bombPath).Length < 1 << 20);
        before = GC.GetAllocatedBytesForCurrentThread();
        Fails(bombPath, p => IdxReader.Read(p), "trailing");
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 8 << 20, $"allocated {allocated} bytes");
    }

    /// <summary>Seeded random mutations: each must load or throw DatasetFormatException; any other exception fails.</summary>
    [Fact]
    public void RandomMutationsLoadOrThrowFormatErrors()
    {
        using var dir = new TempFolder();
        var images = DataFiles.IdxImages(5, 4, 3);
        var labels = DataFiles.IdxLabels(5);
        var rng = new Random(1234);
        int loaded = 0, rejected = 0;
        for (int trial = 0; trial < 1200; trial++)
        {
            bool isImages = trial % 2 == 0;
            var valid = isImages ? images : labels;
            byte[] bytes = (trial % 4) switch
            {
                0 or 1 => Mutate(valid, rng),                                 // raw
                2 => DataFiles.Gzip(Mutate(valid, rng)),                     // gzip of a mutated payload
                _ => Mutate(DataFiles.Gzip(valid), rng),                     // mutated gzip stream
            };
            var path = dir.Write($"m{trial % 8}", bytes);
            try
            {
                var a = IdxReader.Read(path);
                long n = a.Dims.Aggregate(1L, (p, d) => p * d);
                Assert.Equal(n, a.Data.LongLength);
                if (isImages) IdxReader.ReadImages(path); else IdxReader.ReadLabels(path);
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

    internal static byte[] Mutate(byte[] valid, Random rng)
    {
        var b = valid.ToList();
        int ops = 1 + rng.Next(3);
        for (int k = 0; k < ops; k++)
        {
            switch (rng.Next(8))
            {
                case 0: if (b.Count > 0) { int i = rng.Next(b.Count); b[i] ^= (byte)(1 << rng.Next(8)); } break;
                case 1: if (b.Count > 0) b[rng.Next(b.Count)] = (byte)rng.Next(256); break;
                case 2: b = b.Take(rng.Next(b.Count + 1)).ToList(); break;   // truncate
                case 3: b.AddRange(Enumerable.Range(0, 1 + rng.Next(8)).Select(_ => (byte)rng.Next(256))); break;
                case 4: b.Insert(rng.Next(b.Count + 1), (byte)rng.Next(256)); break;
                case 5: if (b.Count > 0) b.RemoveAt(rng.Next(b.Count)); break;
                case 6: // overwrite a header word with an extreme value
                    if (b.Count >= 8)
                    {
                        int w = 4 * rng.Next(Math.Min(b.Count / 4, 4));
                        uint v = rng.Next(4) switch { 0 => 0u, 1 => uint.MaxValue, 2 => 1u << 31, _ => (uint)rng.Next() };
                        var tmp = new byte[4];
                        BinaryPrimitives.WriteUInt32BigEndian(tmp, v);
                        for (int j = 0; j < 4; j++) b[w + j] = tmp[j];
                    }
                    break;
                default: if (b.Count > 0) b[rng.Next(Math.Min(b.Count, 16))] = (byte)rng.Next(256); break;
            }
        }
        return b.ToArray();
    }
}
