using Shrink.Data;

namespace Shrink.Tests.Data;

public class FashionMnistTests
{
    private static FashionMnist.SearchPlaces Places(string? env, string? root, string system) => new(env, root, system);

    [Fact]
    public void BundledSubsetHasStratifiedCountsAndFullPixelRange()
    {
        var train = FashionMnist.LoadSubset("train");
        var test = FashionMnist.LoadSubset("test");
        Assert.Equal(10000, train.Count);
        Assert.Equal(2000, test.Count);
        Assert.All(train.ClassCounts(), c => Assert.Equal(1000, c));
        Assert.All(test.ClassCounts(), c => Assert.Equal(200, c));
        Assert.Equal((1, 28, 28), (train.Channels, train.Height, train.Width));
        Assert.True(train.Origin.IsSubset);
        Assert.Equal(DatasetOriginKind.BundledSubset, test.Origin.Kind);
        Assert.Contains("subset", train.ToString());
        var px = train.Pixels;
        Assert.Equal((byte)0, px.ToArray().Min());
        Assert.Equal((byte)255, px.ToArray().Max());
        // Mean of v/255 near the Fashion-MNIST value, and tensors scaled into [0, 1].
        var norm = Normalization.Compute(train);
        Assert.InRange(norm.Mean[0], 0.28f, 0.29f);
        Assert.InRange(norm.Std[0], 0.35f, 0.36f);
        using var images = test.ToTensor([0, 1, 2]);   // (3, 1, 28, 28)
        Assert.Equal([3L, 1L, 28L, 28L], images.shape);
        var x = images.data<float>().ToArray();
        Assert.All(x, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void SearchOrderPrefersEnvironmentThenRepositoryThenSystemThenSubset()
    {
        using var env = new TempFolder();
        using var repo = new TempFolder();
        using var sys = new TempFolder();
        void WriteSplit(string folder, int n, bool gz)
        {
            var (i, l) = FashionMnist.FileNames("test");
            var images = DataFiles.IdxImages(n, 28, 28);
            var labels = DataFiles.IdxLabels(n);
            File.WriteAllBytes(Path.Combine(folder, gz ? i + ".gz" : i), gz ? DataFiles.Gzip(images) : images);
            File.WriteAllBytes(Path.Combine(folder, gz ? l + ".gz" : l), gz ? DataFiles.Gzip(labels) : labels);
        }
        var repoData = Path.Combine(repo.Path, "data", "fashion-mnist");
        var repoSubset = Path.Combine(repo.Path, "data", "fashion-mnist-subset");
        Directory.CreateDirectory(repoData);
        Directory.CreateDirectory(repoSubset);
        WriteSplit(env.Path, 3, gz: false);
        WriteSplit(repoData, 4, gz: true);
        WriteSplit(sys.Path, 5, gz: true);
        WriteSplit(repoSubset, 6, gz: true);

        var a = FashionMnist.Load("test", DataSource.Auto, Places(env.Path, repo.Path, sys.Path));
        Assert.Equal((3, DatasetOriginKind.EnvironmentVariable), (a.Count, a.Origin.Kind));
        Assert.Contains(FashionMnist.EnvironmentVariable, a.Origin.Description);
        var b = FashionMnist.Load("test", DataSource.Auto, Places(null, repo.Path, sys.Path));
        Assert.Equal((4, DatasetOriginKind.Repository), (b.Count, b.Origin.Kind));
        var c = FashionMnist.Load("test", DataSource.Auto, Places(null, null, sys.Path));
        Assert.Equal((5, DatasetOriginKind.SystemPackage), (c.Count, c.Origin.Kind));
        Directory.Delete(repoData, true);
        var d = FashionMnist.Load("test", DataSource.Auto, Places(null, repo.Path, Path.Combine(sys.Path, "missing")));
        Assert.Equal((6, DatasetOriginKind.BundledSubset), (d.Count, d.Origin.Kind));
        var s = FashionMnist.Load("test", DataSource.Subset, Places(env.Path, repo.Path, sys.Path));
        Assert.Equal(6, s.Count);

        // Full only: nothing found lists every place searched.
        var e = Assert.Throws<FileNotFoundException>(() =>
            FashionMnist.Load("test", DataSource.Full, Places(null, repo.Path, Path.Combine(sys.Path, "missing"))));
        Assert.Contains("(a) environment variable SHRINK_FASHION_MNIST: not set", e.Message);
        Assert.Contains("(b) " + repoData, e.Message);
        Assert.Contains("(c) " + Path.Combine(sys.Path, "missing"), e.Message);
        var none = Assert.Throws<FileNotFoundException>(() =>
            FashionMnist.Load("test", DataSource.Auto, Places(null, null, Path.Combine(sys.Path, "missing"))));
        Assert.Contains("(d) bundled subset", none.Message);

        // An environment variable that points at the wrong folder is an error, not a silent fallback.
        var bad = Assert.Throws<FileNotFoundException>(() =>
            FashionMnist.Load("test", DataSource.Auto, Places(repo.Path, repo.Path, sys.Path)));
        Assert.Contains(FashionMnist.EnvironmentVariable, bad.Message);
        Assert.Contains("t10k-images-idx3-ubyte", bad.Message);

        var explicitFolder = FashionMnist.LoadFull("test", sys.Path);
        Assert.Equal((5, DatasetOriginKind.Folder), (explicitFolder.Count, explicitFolder.Origin.Kind));
        Assert.Throws<ArgumentException>(() => FashionMnist.Load("validation"));
    }

    [Fact]
    public void SystemPackageLoadsWhenInstalled()
    {
        if (!File.Exists(Path.Combine(FashionMnist.SystemFolder, "t10k-labels-idx1-ubyte.gz"))) return;
        var test = FashionMnist.LoadFull("test", FashionMnist.SystemFolder);
        Assert.Equal(10000, test.Count);
        Assert.All(test.ClassCounts(), c => Assert.Equal(1000, c));
        // The bundled subset is exactly the first 200 test images of each class, in file order (data/make_subset.py).
        var expected = test.TakePerClass(200);
        var subset = FashionMnist.LoadSubset("test");
        Assert.Equal(expected.Labels, subset.Labels);
        Assert.True(expected.Pixels.SequenceEqual(subset.Pixels));
    }

    [Fact]
    public void ImageGridIsTheImageBytesRowMajor()
    {
        var data = FashionMnist.LoadSubset("test");
        var grid = data.ImageGrid(7);
        var bytes = data.ImageBytes(7);
        Assert.Equal(28, grid.GetLength(0));
        for (int r = 0; r < 28; r += 9) for (int c = 0; c < 28; c += 5) Assert.Equal(bytes[r * 28 + c], grid[r, c]);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.ImageGrid(7, channel: 1));
    }
}
