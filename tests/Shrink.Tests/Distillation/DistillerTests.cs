using Shrink.Data;
using Shrink.Distillation;
using Shrink.Experiments;
using Shrink.Models;
using Shrink.Tests.Training;
using Shrink.Torch;
using Shrink.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Tests.Distillation;

/// <summary>The Distiller end to end: KD beats the no-KD baseline on a task with a known teacher; cached = live, bit for bit; counts; reuse; every term runs.</summary>
[Collection(DefaultGeneratorCollection.Name)]
public sealed class DistillerTests : IDisposable
{
    private readonly TempFolder _temp = new("kd");
    private string _dir => _temp.Path;

    public DistillerTests() => TorchNative.EnsureLoaded();

    public void Dispose() => _temp.Dispose();

    /// <summary>Random 1×4×4 images labelled by the teacher's arg-max: the teacher is the ground-truth function (with soft outputs).</summary>
    private static ImageDataset Labelled(nn.Module<Tensor, Tensor> teacher, int n, ulong seed, int classes = 4)
    {
        var raw = AugmentationReplayTests.Images(n, classes, seed, side: 4);
        int[] labels;
        using (no_grad()) labels = teacher.forward(raw.ToTensor()).argmax(-1).data<long>().ToArray().Select(v => (int)v).ToArray();
        return new ImageDataset($"teacher-labelled {n}", raw.Pixels.ToArray(), labels, 1, 4, 4, raw.ClassNames);
    }

    private static Sequential LinearStudent(ulong seed, int classes = 4) => TeacherLogitCacheTests.Teacher(16, classes, seed, scale: 1f);

    private static float[] Values(Tensor t) => DistillationLossTests.Values(t);

    private static void SameParameters(nn.Module<Tensor, Tensor> expected, nn.Module<Tensor, Tensor> actual)
    {
        var theirs = actual.state_dict();
        foreach (var (name, p) in expected.named_parameters())
            Assert.Equal(Values(p), Values(theirs[name]));
    }

    private static readonly TrainingHparams FewLabels = new()
    {
        Steps = "300ep", BatchSize = 8, Lr = 0.05, WeightDecay = 0, Normalization = "none", Seed = 1, EvalEvery = "0it", CheckpointEvery = "0it",
    };

    [Fact]
    public void DistillationBeatsTheNoKdBaselineWithFewLabels()
    {
        // 8 classes, 16 inputs: 24 labels say little, 24 soft outputs (7 numbers each) pin down the linear map
        var teacher = TeacherLogitCacheTests.Teacher(16, 8, 5, scale: 6f, centered: true);
        var train = Labelled(teacher, 24, 1, classes: 8);
        var test = Labelled(teacher, 600, 2, classes: 8);
        var baseline = new Distiller(new DistillationHparams { Training = FewLabels, Method = DistillationMethod.None }) { Progress = null }
            .Fit(() => LinearStudent(3, 8), [], train, test);
        var kd = new Distiller(new DistillationHparams { Training = FewLabels, Teachers = ["truth"], Alpha = 0.9, Temperature = 2 }) { Progress = null }
            .Fit(() => LinearStudent(3, 8), [new("truth", teacher)], train, test);
        Assert.True(kd.TestAccuracy > baseline.TestAccuracy + 0.15, $"KD {kd.TestAccuracy:P1} vs baseline {baseline.TestAccuracy:P1}");
        Assert.Equal(0, baseline.LiveTeacherForwardPasses);
        Assert.Equal(900L * 8, kd.LiveTeacherForwardPasses);   // 3 batches × 300 epochs × 8 images, one teacher
        Assert.Equal(0, kd.TeacherForwardPassesSaved);
        Assert.DoesNotContain(teacher.parameters(), p => p.requires_grad);   // frozen
    }

    [Fact]
    public void CachedDistillationEqualsLiveBitForBitAndRunsNoTeacher()
    {
        var teacher = TeacherLogitCacheTests.Teacher(16, 4, 7);
        var train = Labelled(teacher, 20, 3);
        var training = FewLabels with { Steps = "4ep", BatchSize = 6, CropPadding = 1, HorizontalFlip = true };
        var live = new DistillationHparams { Training = training, Teachers = ["t"], Temperature = 3, Alpha = 0.7 };
        var cached = live with { UseCache = true, CacheValues = TeacherCacheValues.Float32Logits };
        var a = new Distiller(live) { Progress = null }.Fit(() => LinearStudent(9), [new("t", teacher)], train);
        var cacheFolder = Path.Combine(_dir, "cache");
        var distiller = new Distiller(cached) { Progress = null, CacheFolder = cacheFolder };
        var b = distiller.Fit(() => LinearStudent(9), [new("t", teacher)], train, runFolder: RunFolder.For(Path.Combine(_dir, "runs"), cached));
        SameParameters(a.Student, b.Student);   // cached = live, bit for bit
        Assert.Equal(0, b.LiveTeacherForwardPasses);
        Assert.Equal(4 * 3 * 6, b.CacheFillTeacherForwardPasses);   // 4 epochs of 3 batches of 6
        Assert.Equal(4 * 3 * 6, a.LiveTeacherForwardPasses);
        Assert.Single(b.Caches);
        Assert.True(File.Exists(Path.Combine(b.Training.RunFolder!, Distiller.StudentFileName)));

        // another student on the same teacher and inputs finds the cache: no teacher pass at all
        var other = cached with { Student = "seed 10" };
        var c = new Distiller(other) { Progress = null, CacheFolder = cacheFolder }.Fit(() => LinearStudent(10), [new("t", teacher)], train, runFolder: RunFolder.For(Path.Combine(_dir, "runs"), other));
        Assert.Equal(0, c.CacheFillTeacherForwardPasses + c.LiveTeacherForwardPasses);
        Assert.Equal(4 * 3 * 6, c.TeacherForwardPassesSaved);

        // the finished run is reused: nothing trained, no teacher, no cache; it reports what the run cost when it was trained
        var reusing = new Distiller(cached) { Progress = null, CacheFolder = cacheFolder };
        var again = reusing.Fit(() => LinearStudent(9), [new("t", teacher)], train, runFolder: RunFolder.For(Path.Combine(_dir, "runs"), cached));
        Assert.True(again.Training.Reused);
        Assert.Equal(0, reusing.TeacherForwardPasses);
        Assert.Empty(again.Caches);
        Assert.Equal((b.LiveTeacherForwardPasses, b.CacheFillTeacherForwardPasses, b.LiveEquivalentTeacherForwardPasses, b.CacheFillSeconds),
            (again.LiveTeacherForwardPasses, again.CacheFillTeacherForwardPasses, again.LiveEquivalentTeacherForwardPasses, again.CacheFillSeconds));
        Assert.True(b.CacheFillSeconds > 0);
        Assert.Equal(0, c.CacheFillSeconds);
        SameParameters(a.Student, again.Student);

        // an un-augmented cache is one pass over the data, whatever the number of epochs
        var plain = live with { Training = training with { CropPadding = 0, HorizontalFlip = false }, UseCache = true, CacheTopK = 2 };
        var d = new Distiller(plain) { Progress = null, CacheFolder = cacheFolder }.Fit(() => LinearStudent(9), [new("t", teacher)], train);
        Assert.Equal(20, d.CacheFillTeacherForwardPasses);
        Assert.True(d.Caches[0].IsEpochIndependent);
    }

    [Fact]
    public void AResumedOrReusedRunReportsTheTeacherPassesOfTheWholeRun()
    {
        var teacher = TeacherLogitCacheTests.Teacher(16, 4, 7);
        var train = Labelled(teacher, 20, 3);
        var training = FewLabels with { Steps = "4ep", BatchSize = 6, CheckpointEvery = "1ep" };   // 3 steps per epoch
        foreach (bool useCache in new[] { false, true })
        {
            var hp = new DistillationHparams { Training = training, Teachers = ["t"], UseCache = useCache, Student = $"cache {useCache}" };
            var folder = RunFolder.For(Path.Combine(_dir, "runs"), hp);
            using (var cts = new CancellationTokenSource())
            {
                var distiller = new Distiller(hp) { Progress = new StopAfter(5, cts), CacheFolder = Path.Combine(_dir, "cache") };
                Assert.ThrowsAny<OperationCanceledException>(() => distiller.Fit(() => LinearStudent(9), [new("t", teacher)], train, runFolder: folder, cancellationToken: cts.Token));
            }
            var resumed = new Distiller(hp) { Progress = null, CacheFolder = Path.Combine(_dir, "cache") }.Fit(() => LinearStudent(9), [new("t", teacher)], train, runFolder: folder);
            Assert.True(resumed.Training.ResumedFromStep > 0);
            var reused = new Distiller(hp) { Progress = null, CacheFolder = Path.Combine(_dir, "cache") }.Fit(() => LinearStudent(9), [new("t", teacher)], train, runFolder: folder);
            Assert.True(reused.Training.Reused);
            foreach (var r in new[] { resumed, reused })
            {
                Assert.Equal(12 * 6, r.LiveEquivalentTeacherForwardPasses);   // 12 steps of 6 images, one teacher
                Assert.Equal(useCache ? 0 : 12 * 6, r.LiveTeacherForwardPasses);
                Assert.Equal(useCache ? 20 : 0, r.CacheFillTeacherForwardPasses);   // one un-augmented pass, in the interrupted session
                Assert.Equal(useCache ? 12 * 6 - 20 : 0, r.TeacherForwardPassesSaved);
            }
        }
    }

    /// <summary>Cancels training after the given number of steps.</summary>
    private sealed class StopAfter(int steps, CancellationTokenSource cts) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) { if (value.Event == TrainingEvent.Step && value.Step >= steps) cts.Cancel(); }
    }

    [Fact]
    public void CoAdviseStudentWithEveryFeatureTermTrains()
    {
        var cfg = new VitConfig { ImageSize = 8, PatchSize = 4, EmbedDim = 16, Depth = 2, NumHeads = 2, MlpRatio = 2, NumClasses = 4 };
        var vitTeacher = new VisionTransformer(cfg with { EmbedDim = 24, NumHeads = 2 }, seed: 1);
        var mlpTeacher = TeacherLogitCacheTests.Teacher(64, 4, 2, scale: 1f);
        var data = AugmentationReplayTests.Images(24, 4, 4, side: 8);
        var hp = new DistillationHparams
        {
            Training = new TrainingHparams { Steps = "3it", BatchSize = 8, Normalization = "none", EvalEvery = "0it" },
            Method = DistillationMethod.CoAdvise, Teachers = ["vit", "mlp"], TeacherWeights = [1.0, 0.5], Temperature = 2,
            HintWeight = 1, AttentionWeight = 1, RelationWeight = 1, RelationHeads = 2, ManifoldWeight = 1, ManifoldSamples = 5,
            StudentLayers = [0, -1], TeacherLayers = [0, 1],
        };
        var student = new VisionTransformer(cfg with { NumDistillationTokens = 2 }, seed: 3);
        var result = new Distiller(hp) { Progress = null }.Fit(() => student, [new("vit", vitTeacher), new("mlp", mlpTeacher)], data, data);
        Assert.Equal(3 * 8 * 2, result.LiveTeacherForwardPasses);
        Assert.True(double.IsFinite(result.Training.History[^1].TrainLoss));
        var wrapper = (DistillationStudent)result.Training.Model;
        Assert.Equal(2, wrapper.Regressors!.Count);
        Assert.All(wrapper.Regressors, r => Assert.NotNull(r.Proj.weight!.grad));   // the regressors trained with the student
        Assert.Contains(wrapper.state_dict().Keys, k => k.StartsWith("hint_regressors.1.proj.", StringComparison.Ordinal));
        Assert.Contains("head_dist_1.weight", result.Student.state_dict().Keys);
        Assert.Equal(Intermediates.BlockOutputs | Intermediates.Attentions | Intermediates.Qkv, wrapper.What);
        Assert.Equal([0, 1], wrapper.Indices!);

        // DeiT hard and soft need a distillation token
        var deit = hp with { Method = DistillationMethod.DeiTHard, Teachers = ["mlp"], TeacherWeights = null, HintWeight = 0, AttentionWeight = 0, RelationWeight = 0, ManifoldWeight = 0 };
        var e = Assert.Throws<ArgumentException>(() => new Distiller(deit) { Progress = null }.Fit(() => new VisionTransformer(cfg), [new("mlp", mlpTeacher)], data));
        Assert.Contains("distillation token", e.Message);
        var ok = new Distiller(deit with { Method = DistillationMethod.DeiTSoft }) { Progress = null }
            .Fit(() => new VisionTransformer(cfg with { DistillationToken = true }), [new("mlp", mlpTeacher)], data);
        Assert.True(double.IsFinite(ok.Training.History[^1].TrainLoss));
        Assert.Throws<ArgumentException>(() => new DistillationHparams { Teachers = ["a"], UseCache = true, HintWeight = 1 }.Validate());
        Assert.Throws<ArgumentException>(() => new Distiller(deit).Fit(() => student, [new("other", mlpTeacher)], data));
    }
}
