using Shrink.Data;
using Shrink.Distillation;
using Shrink.Torch;
using TorchSharp;
using TorchSharp.Modules;
using DataLoader = Shrink.Data.DataLoader;
using static TorchSharp.torch;

namespace Shrink.Tests.Distillation;

/// <summary>TeacherLogitCache: exact round trips, TinyViT's rebuild rule, augmentation replay, validation and fuzzing.</summary>
public sealed class TeacherLogitCacheTests : IDisposable
{
    private readonly TempFolder _temp = new("tlc");
    private string _dir => _temp.Path;

    public TeacherLogitCacheTests() => TorchNative.EnsureLoaded();

    public void Dispose() => _temp.Dispose();

    /// <summary>
    /// Flatten → Linear(inputs, classes) with PyTorch's init from the seed, weights scaled (sharper outputs); when
    /// <paramref name="centered"/>, the bias is shifted so the logits are W·(x − ½) + b (pixels in [0, 1] then give every
    /// class a fair share of arg-maxes instead of the one with the largest weight sum).
    /// </summary>
    internal static Sequential Teacher(int inputs, int classes, ulong seed, float scale = 4f, bool centered = false)
    {
        TorchNative.EnsureLoaded();
        var lin = nn.Linear(inputs, classes);
        var g = Seed.Generator(seed, 0x5445);   // "TE"
        double bound = 1 / Math.Sqrt(inputs);
        using (no_grad())
        {
            lin.weight!.uniform_(-bound * scale, bound * scale, g);
            lin.bias!.uniform_(-bound, bound, g);
            if (centered) lin.bias!.sub_(lin.weight!.sum(1) * 0.5);
        }
        return nn.Sequential(nn.Flatten(), lin);
    }

    private static float[] TeacherLogits(nn.Module<Tensor, Tensor> teacher, Tensor images)
    {
        using var _ = no_grad();
        teacher.eval();
        return DistillationLossTests.Values(teacher.forward(images));
    }

    private static float[] Values(Tensor t) => DistillationLossTests.Values(t);

    private static double[] SoftmaxRow(float[] z, int row, int c) => DistillationLossTests.Softmax(z.Skip(row * c).Take(c).Select(v => (double)v).ToArray());

    [Fact]
    public void AllClassesRoundTripExactlyUpToFp16()
    {
        var data = AugmentationReplayTests.Images(10, 5, 1);
        var teacher = Teacher(36, 5, 2);
        var loader = new DataLoader(data, 4, normalization: null, prefetch: 0);
        var path = Path.Combine(_dir, "all.tlc");
        var filled = TeacherLogitCache.Fill(path, teacher, "lin", loader, epochs: 1);
        Assert.Equal(10, filled.TeacherForwardPasses);
        var cache = TeacherLogitCache.Load(path, new TeacherCacheExpectation { Dataset = data, TopK = 5, TeacherName = "lin" });
        Assert.Equal(0, cache.TeacherForwardPasses);
        Assert.True(cache.IsEpochIndependent);
        var z = TeacherLogits(teacher, data.ToTensor());
        var dense = new float[5];
        var all = Values(cache.Targets(0, Enumerable.Range(0, 10).ToArray()));
        for (int i = 0; i < 10; i++)
        {
            var p = SoftmaxRow(z, i, 5);
            cache.DenseProbabilities(epoch: 7, i, dense);   // any epoch: one record serves all
            for (int c = 0; c < 5; c++)
            {
                Assert.Equal((float)(Half)(float)p[c], dense[c]);
                Assert.Equal(dense[c], all[i * 5 + c]);        // the device tables rebuild the same targets
            }
        }
        // targets at τ = 2 from the stored probabilities: p^(1/τ) renormalised ≈ softmax(z/τ)
        var t2 = Values(cache.Targets(0, [3], 2.0));
        var expected = DistillationLossTests.Softmax(z.Skip(15).Take(5).Select(v => (double)v).ToArray(), 2.0);
        for (int c = 0; c < 5; c++) Assert.Equal(expected[c], t2[c], 3);
    }

    [Fact]
    public void TopKFollowsTinyVitsRule()
    {
        var data = AugmentationReplayTests.Images(8, 6, 3);
        var teacher = Teacher(36, 6, 4);
        var path = Path.Combine(_dir, "top2.tlc");
        TeacherLogitCache.Fill(path, teacher, "lin", new DataLoader(data, 3, prefetch: 0), epochs: 1, topK: 2);
        var cache = TeacherLogitCache.Load(path);
        Assert.Equal(4 + 4 * 2, TeacherLogitCache.RecordSize(cache.Values, 6, 2));
        var z = TeacherLogits(teacher, data.ToTensor());
        var dense = Values(cache.Targets(0, Enumerable.Range(0, 8).ToArray()));
        var row = new float[6];
        for (int i = 0; i < 8; i++)
        {
            var p = SoftmaxRow(z, i, 6);
            var top = Enumerable.Range(0, 6).OrderByDescending(c => p[c]).ThenBy(c => c).Take(2).ToArray();
            float[] stored = top.Select(c => (float)(Half)(float)p[c]).ToArray();
            float minor = (1f - (stored[0] + stored[1])) / 4;
            cache.DenseProbabilities(0, i, row);
            for (int c = 0; c < 6; c++)
            {
                Assert.Equal(c == top[0] ? stored[0] : c == top[1] ? stored[1] : minor, dense[i * 6 + c]);
                Assert.Equal(row[c], dense[i * 6 + c]);
            }
        }
    }

    [Fact]
    public void LogitsAreExactAndAugmentedRecordsReplay()
    {
        var data = AugmentationReplayTests.Images(12, 4, 5);
        var teacher = Teacher(36, 4, 6);
        var loader = new DataLoader(data, 5, shuffle: true, seed: 3, dropLast: true, augmentation: Augmentation.CropAndFlip(1), prefetch: 0);
        var path = Path.Combine(_dir, "aug.tlc");
        var cache = TeacherLogitCache.Fill(path, teacher, "lin", loader, epochs: 3, values: TeacherCacheValues.Float32Logits);
        Assert.Equal(3 * 2 * 5, cache.TeacherForwardPasses);
        cache = TeacherLogitCache.Load(path, new TeacherCacheExpectation { Dataset = data, MinEpochs = 3, InputDescription = TeacherLogitCache.DescribeInputs(loader) });
        Assert.False(cache.IsEpochIndependent);
        for (int e = 0; e < 3; e++)
        {
            using var batch = loader.GetBatch(e, 1);
            using (no_grad())
            {
                var live = Values(DistillationLoss.Targets(teacher.forward(batch.Images), 2.0));
                Assert.Equal(live, Values(cache.Targets(batch, 2.0)));   // bit-identical to the live teacher
            }
            // replaying the stored augmentation gives the batch's images, and the teacher's logits on them
            Assert.Equal(Values(batch.Images), Values(cache.Replay(loader, e, batch.Indices)));
            var zr = TeacherLogits(teacher, cache.Replay(loader, e, batch.Indices));
            Assert.Equal(zr.Take(4).ToArray(), cache.Logits(e, batch.Indices[0]));
        }
        // 12 samples, batches of 5 with drop-last: 2 samples per epoch have no record
        Assert.Equal(2, Enumerable.Range(0, 12).Count(i => !cache.HasRecord(0, i)));
        Assert.Throws<InvalidOperationException>(() => cache.Targets(3, [0]));   // no epoch 3
        // a batch augmented differently (another loader seed) is refused
        var other = new DataLoader(data, 5, shuffle: true, seed: 4, dropLast: true, augmentation: Augmentation.CropAndFlip(1), prefetch: 0);
        var e2 = Assert.Throws<InvalidOperationException>(() => { for (int b = 0; b < 2; b++) cache.Targets(other.GetBatch(0, b)); });
        Assert.Contains("another loader", e2.Message);
    }

    [Fact]
    public void MismatchesAndDamageNameTheFileAndTheProblem()
    {
        var data = AugmentationReplayTests.Images(6, 3, 7);
        var path = Path.Combine(_dir, "small.tlc");
        TeacherLogitCache.Fill(path, Teacher(36, 3, 8), "lin", new DataLoader(data, 4, prefetch: 0), epochs: 1, topK: 2);
        var otherData = AugmentationReplayTests.Images(6, 3, 9);
        var e = Assert.Throws<TeacherCacheFormatException>(() => TeacherLogitCache.Load(path, new TeacherCacheExpectation { Dataset = otherData }));
        Assert.Contains(path, e.Message);
        Assert.Contains("another dataset", e.Problem);
        e = Assert.Throws<TeacherCacheFormatException>(() => TeacherLogitCache.Load(path, new TeacherCacheExpectation { TopK = 3 }));
        Assert.Contains("top-2", e.Problem);
        e = Assert.Throws<TeacherCacheFormatException>(() => TeacherLogitCache.Load(path, new TeacherCacheExpectation { TeacherName = "other" }));
        Assert.Contains("teacher 'lin'", e.Problem);
        var bytes = File.ReadAllBytes(path);
        var cut = Path.Combine(_dir, "cut.tlc");
        File.WriteAllBytes(cut, bytes[..^5]);
        e = Assert.Throws<TeacherCacheFormatException>(() => TeacherLogitCache.Load(cut));
        Assert.Contains("truncated", e.Problem);
        Assert.Equal(cut, e.FilePath);
        var flipped = (byte[])bytes.Clone();
        flipped[^40] ^= 1;
        File.WriteAllBytes(cut, flipped);
        Assert.Contains("checksum", Assert.Throws<TeacherCacheFormatException>(() => TeacherLogitCache.Load(cut)).Problem);
        Assert.False(Directory.EnumerateFiles(_dir, "*.tmp-*").Any());   // atomic writes leave no temporary files
        // a teacher with the wrong number of classes is named before anything is written
        var bad = Assert.Throws<ArgumentException>(() => TeacherLogitCache.Fill(Path.Combine(_dir, "bad.tlc"), Teacher(36, 4, 8), "four", new DataLoader(data, 4, prefetch: 0), epochs: 1));
        Assert.Contains("teacher 'four' returned (4, 4)", bad.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "bad.tlc")));
    }

    [Fact]
    public void FuzzedFilesLoadOrThrowTheFormatException()
    {
        var data = AugmentationReplayTests.Images(5, 3, 10, side: 4);
        var loader = new DataLoader(data, 2, shuffle: true, seed: 1, dropLast: true, augmentation: Augmentation.CropAndFlip(1), prefetch: 0);
        var path = Path.Combine(_dir, "fuzz-src.tlc");
        TeacherLogitCache.Fill(path, Teacher(16, 3, 11), "fuzz teacher", loader, epochs: 2, topK: 2);
        var original = File.ReadAllBytes(path);
        // the mutations: 5 random draws per trial from one seeded torch generator
        const int trials = 1200;
        var draws = randint(0, int.MaxValue, [trials, 24], dtype: ScalarType.Int64, generator: Seed.Generator(2024)).data<long>().ToArray();
        var target = Path.Combine(_dir, "fuzz.tlc");
        int loaded = 0, refused = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            int next = 0;
            int NextInt(int n) => (int)(draws[trial * 24 + next++] % n);
            byte[] m = (byte[])original.Clone();
            switch (NextInt(5))
            {
                case 0: m[NextInt(m.Length)] ^= (byte)(1 << NextInt(8)); break;                       // one bit
                case 1: for (int j = 0, n = 1 + NextInt(8); j < n; j++) m[NextInt(m.Length)] = (byte)NextInt(256); break;   // random bytes
                case 2: m = m[..NextInt(m.Length)]; break;                                             // truncation
                case 3: m = [.. m, .. Enumerable.Range(0, 1 + NextInt(16)).Select(_ => (byte)NextInt(256))]; break;   // trailing bytes
                default: m[8 + NextInt(Math.Min(120, m.Length - 8))] = (byte)NextInt(256); break;      // header fields
            }
            File.WriteAllBytes(target, m);
            try
            {
                var c = TeacherLogitCache.Load(target);
                // whatever loads must be usable
                for (int i = 0; i < c.NumSamples; i++) if (c.HasRecord(0, i)) c.Targets(0, [i], 2.0);
                loaded++;
            }
            catch (TeacherCacheFormatException ex)
            {
                Assert.Equal(target, ex.FilePath);
                refused++;
            }
        }
        Assert.Equal(trials, loaded + refused);
        Assert.True(refused > 1100, $"only {refused} of {trials} mutations were refused");
    }
}
