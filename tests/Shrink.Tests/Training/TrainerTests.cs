using System.Text.Json;
using Shrink.Data;
using Shrink.Experiments;
using Shrink.Tensors;
using Shrink.Tensors.IO;
using Shrink.Tensors.Nn;
using Shrink.Tests.Data;
using Shrink.Training;

namespace Shrink.Tests.Training;

/// <summary>Collects every progress report.</summary>
internal sealed class Recorder(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
{
    public List<TrainingProgress> Reports { get; } = [];
    public int Steps => Reports.Count(r => r.Event == TrainingEvent.Step);
    public void Report(TrainingProgress value) { Reports.Add(value); onReport?.Invoke(value); }
}

internal sealed class SimulatedCrash : Exception;

/// <summary>
/// Tests that train through <see cref="Trainer"/>, which reseeds the process-wide <see cref="Generator.Default"/> every
/// step: they run alone, so no other test draws from (or reseeds) that generator in the middle of a bit-identity check.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DefaultGeneratorCollection
{
    public const string Name = "Generator.Default";
}

[Collection(DefaultGeneratorCollection.Name)]
public class TrainerTests
{
    private static readonly Lazy<ImageDataset> SubsetTrain = new(() => FashionMnist.LoadSubset("train"));
    private static readonly Lazy<ImageDataset> SubsetTest = new(() => FashionMnist.LoadSubset("test"));

    /// <summary>
    /// Tiny synthetic 1×8×8 images of 4 classes (uniform noise over a brightness of 45·class), so the many short
    /// runs below cost milliseconds: 320 training images = 10 batches of 32 per epoch, 80 test images.
    /// </summary>
    private static readonly ImageDataset SmallTrain = Synthetic(320, 1), SmallTest = Synthetic(80, 2);

    private static ImageDataset Synthetic(int n, ulong seed)
    {
        var g = new Generator(seed);
        var pixels = new byte[n * 64];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 4;
            for (int p = 0; p < 64; p++)
                pixels[i * 64 + p] = (byte)(g.NextInt(120) + 45 * labels[i]);
        }
        return new ImageDataset($"synthetic {n}", pixels, labels, 1, 8, 8, ["a", "b", "c", "d"]);
    }

    /// <summary>An MLP for the synthetic images; <paramref name="dropout"/> adds a Dropout drawing its masks from Generator.Default (which the trainer reseeds per step).</summary>
    private static Sequential Mlp(ulong seed, bool dropout = false)
    {
        var g = new Generator(seed);
        var m = new Sequential(new Flatten(), new Linear(64, 16, generator: g), new Gelu());
        if (dropout) m.Append(new Dropout(0.2f));
        m.Append(new Linear(16, 4, generator: g));
        return m;
    }

    /// <summary>The MLP for 28×28 Fashion-MNIST.</summary>
    private static Sequential FashionMlp(ulong seed)
    {
        var g = new Generator(seed);
        return new Sequential(new Flatten(), new Linear(28 * 28, 32, generator: g), new Gelu(), new Linear(32, 10, generator: g));
    }

    /// <summary>Every code path that touches numbers: augmentation, label smoothing, clipping, warm-up, mid-epoch eval/checkpoint.</summary>
    private static readonly TrainingHparams ResumeHp = new()
    {
        Steps = "2ep5it", BatchSize = 32, Lr = 1e-2, Warmup = "4it", LabelSmoothing = 0.1, GradClip = 1.0,
        CropPadding = 2, HorizontalFlip = true, Seed = 5, EvalEvery = "5it", CheckpointEvery = "4it",
    };

    private static float[][] Weights(Module m) => m.StateDict().Values.Select(t => t.ToArray()).ToArray();

    private static void AssertBitIdentical(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            for (int j = 0; j < expected[i].Length; j++)
                if (BitConverter.SingleToInt32Bits(expected[i][j]) != BitConverter.SingleToInt32Bits(actual[i][j]))
                    Assert.Fail($"tensor {i} element {j}: {expected[i][j]:R} vs {actual[i][j]:R}");
        }
    }

    private static void AssertSameMetrics(IReadOnlyList<TrainingMetrics> expected, IReadOnlyList<TrainingMetrics> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
            Assert.Equal(expected[i] with { Seconds = 0 }, actual[i] with { Seconds = 0 });   // wall time differs, nothing else
    }

    [Fact]
    public void OneEpochOnTheSubsetLearns()
    {
        var train = SubsetTrain.Value.TakePerClass(200);   // 2000 images
        var test = SubsetTest.Value.TakePerClass(50);      // 500 images
        var hp = new TrainingHparams { Steps = "1ep", BatchSize = 50, Lr = 3e-3, Seed = 1 };
        var rec = new Recorder();
        var result = new Trainer(hp) { Progress = rec }.Fit(() => FashionMlp(1), train, test);
        Assert.Equal(40, result.TotalSteps);
        Assert.Equal(40, rec.Steps);
        Assert.Single(result.History);
        Assert.NotNull(result.TestAccuracy);
        Assert.True(result.TestAccuracy > 0.6, $"test accuracy {result.TestAccuracy:P1} after one epoch (chance 10%)");
        Assert.True(result.Final!.TrainLoss < Math.Log(10), $"train loss {result.Final.TrainLoss}");
        Assert.Same(Normalization.FashionMnist, result.Normalization);   // "auto" recognises Fashion-MNIST
        Assert.False(result.Model.Training);
        var again = Trainer.Evaluate(result.Model, test, result.Normalization);
        Assert.Equal(result.TestAccuracy!.Value, again.Accuracy);
        Assert.Equal(result.Final.TestLoss!.Value, again.Loss, 12);
        var started = rec.Reports.First();
        Assert.Equal(TrainingEvent.Started, started.Event);
        Assert.Contains("40 steps", started.Message);
        Assert.Equal(TrainingEvent.Finished, rec.Reports.Last().Event);
        Assert.All(rec.Reports.Where(r => r.Event == TrainingEvent.Step), r => Assert.True(double.IsFinite(r.Loss) && r.ImagesPerSecond > 0));
    }

    [Fact]
    public void KillAndResumeIsBitIdentical()
    {
        using var tmp = new TempFolder();
        var train = SmallTrain;
        var test = SmallTest;

        // Uninterrupted reference run.
        var full = new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(11, dropout: true), train, test, tmp.File("full"));
        Assert.Equal(25, full.TotalSteps);
        Assert.Equal(5, full.History.Count);
        Assert.True(full.History[^1].TrainLoss < full.History[0].TrainLoss - 0.3, "training makes progress: " + string.Join("; ", full.History));

        // The same run, crashing after step 14 (last checkpoint: step 12, in the middle of epoch 2).
        var crashing = new Recorder(p => { if (p.Event == TrainingEvent.Step && p.Step == 14) throw new SimulatedCrash(); });
        Assert.Throws<SimulatedCrash>(() => new Trainer(ResumeHp) { Progress = crashing }.Fit(Mlp(11, dropout: true), train, test, tmp.File("crash")));
        Assert.Equal(14, crashing.Steps);
        Assert.False(Trainer.IsFinished(tmp.File("crash")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(tmp.File("crash"), Trainer.LogFileName)).Length);   // evaluations after steps 5 and 10

        // A new process: a differently initialised model, a new trainer; it resumes from step 12.
        var resumed = new Recorder();
        var second = new Trainer(ResumeHp) { Progress = resumed }.Fit(Mlp(999, dropout: true), train, test, tmp.File("crash"));
        Assert.Equal(TrainingEvent.Resumed, resumed.Reports[0].Event);
        Assert.Equal(12, second.ResumedFromStep);
        Assert.Equal(13, second.StepsTrained);
        Assert.Equal(13, resumed.Steps);

        AssertBitIdentical(Weights(full.Model), Weights(second.Model));
        AssertSameMetrics(full.History, second.History);

        // The logs agree line by line (except wall time), and the saved final models are identical.
        var a = File.ReadAllLines(Path.Combine(tmp.File("full"), Trainer.LogFileName));
        var b = File.ReadAllLines(Path.Combine(tmp.File("crash"), Trainer.LogFileName));
        Assert.Equal(a.Select(StripSeconds), b.Select(StripSeconds));
        AssertBitIdentical(SafeTensors.Load(Path.Combine(tmp.File("full"), Trainer.ModelFileName)).Values.Select(t => t.ToArray()).ToArray(),
            SafeTensors.Load(Path.Combine(tmp.File("crash"), Trainer.ModelFileName)).Values.Select(t => t.ToArray()).ToArray());
    }

    private static string StripSeconds(string line)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(line)!.AsObject();
        node.Remove("seconds");
        return node.ToJsonString();
    }

    [Fact]
    public void CancellationCheckpointsAndResumesExactly()
    {
        using var tmp = new TempFolder();
        var hp = ResumeHp with { CheckpointEvery = "0it" };   // only at the end — or when cancelled
        var full = new Trainer(hp) { Progress = null }.Fit(Mlp(3), SmallTrain, SmallTest, tmp.File("full"));

        using var cts = new CancellationTokenSource();
        var rec = new Recorder(p => { if (p.Event == TrainingEvent.Step && p.Step == 7) cts.Cancel(); });
        var e = Assert.ThrowsAny<OperationCanceledException>(() => new Trainer(hp) { Progress = rec }.Fit(Mlp(3), SmallTrain, SmallTest, tmp.File("cancel"), cts.Token));
        Assert.Contains("7 of 25", e.Message);
        var second = new Trainer(hp) { Progress = null }.Fit(Mlp(4), SmallTrain, SmallTest, tmp.File("cancel"));
        Assert.Equal(7, second.ResumedFromStep);
        AssertBitIdentical(Weights(full.Model), Weights(second.Model));
        AssertSameMetrics(full.History, second.History);
    }

    [Fact]
    public void NanLossStopsAndKeepsTheLastCheckpoint()
    {
        using var tmp = new TempFolder();
        var folder = tmp.File("nan");
        var hp = ResumeHp with { CheckpointEvery = "5it" };
        var trainer = new Trainer(hp) { Progress = null };
        int calls = 0;
        trainer.Loss = (logits, batch) =>
        {
            var loss = trainer.DefaultLoss(logits, batch);
            return calls++ == 7 ? loss * float.NaN : loss;
        };
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(Mlp(2), SmallTrain, SmallTest, folder));
        Assert.Equal(7, e.Step);
        Assert.Equal(0, e.Epoch);
        Assert.Equal(7, e.Batch);
        Assert.True(double.IsNaN(e.Value));
        Assert.Contains("step 7", e.Message);
        Assert.Contains("epoch 0", e.Message);
        Assert.Contains("NaN", e.Message);
        Assert.Contains("the loss", e.Message);
        var checkpoint = Path.Combine(folder, Trainer.CheckpointFileName);
        Assert.Equal(checkpoint, e.CheckpointPath);
        Assert.Equal(5, e.CheckpointStep);
        Assert.False(Trainer.IsFinished(folder));
        Assert.False(File.Exists(Path.Combine(folder, Trainer.ModelFileName)));

        // The checkpoint is the step-5 one, intact and loadable: a healthy trainer resumes from it and finishes.
        var state = JsonDocument.Parse(SafeTensors.ReadMetadata(checkpoint)["trainer_state"]).RootElement;
        Assert.Equal(5, state.GetProperty("step").GetInt32());
        var resumed = new Trainer(hp) { Progress = null }.Fit(Mlp(2), SmallTrain, SmallTest, folder);
        Assert.Equal(5, resumed.ResumedFromStep);
        Assert.True(Trainer.IsFinished(folder));
    }

    [Fact]
    public void NonFiniteGradientsAreCaughtWhenChecked()
    {
        var hp = ResumeHp with { GradClip = 0 };
        var trainer = new Trainer(hp) { Progress = null, CheckGradients = true };
        int calls = 0;
        // A loss that is finite but whose gradient is not: sqrt(0) has an infinite derivative.
        trainer.Loss = (logits, batch) => calls++ == 3
            ? trainer.DefaultLoss(logits, batch) + (logits * 0f).Sum().Sqrt()
            : trainer.DefaultLoss(logits, batch);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(Mlp(2), SmallTrain, SmallTest));
        Assert.Equal(3, e.Step);
        Assert.StartsWith("the gradient of ", e.Quantity);
        Assert.Null(e.CheckpointPath);
        Assert.Contains("No checkpoint", e.Message);

        // With clipping the non-finite norm is caught without the extra check.
        var clipping = new Trainer(ResumeHp) { Progress = null, Loss = trainer.Loss };
        calls = 0;
        e = Assert.Throws<TrainingDivergedException>(() => clipping.Fit(Mlp(2), SmallTrain, SmallTest));
        Assert.Equal("the gradient norm", e.Quantity);
    }

    [Fact]
    public void AFinishedRunIsReusedNotRetrained()
    {
        using var tmp = new TempFolder();
        var hp = ResumeHp with { Steps = "1ep" };
        var folder = RunFolder.For(tmp.Path, hp);
        var first = new Trainer(hp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder);
        Assert.False(first.Reused);
        Assert.True(Trainer.IsFinished(folder));

        var rec = new Recorder();
        var output = new StringWriter();
        var trainer = new Trainer(hp) { Progress = rec };
        int lossCalls = 0;
        trainer.Loss = (z, b) => { lossCalls++; return trainer.DefaultLoss(z, b); };
        var second = trainer.Fit(Mlp(77), SmallTrain, SmallTest, folder);
        Assert.True(second.Reused);
        Assert.Equal(0, lossCalls);
        Assert.Equal(0, rec.Steps);
        Assert.Equal(0, second.StepsTrained);
        var reused = Assert.Single(rec.Reports);
        Assert.Equal(TrainingEvent.Reused, reused.Event);
        Assert.Contains("Reusing the finished run", reused.Message);
        Assert.Contains(folder.Path, reused.Message);
        AssertBitIdentical(Weights(first.Model), Weights(second.Model));
        AssertSameMetrics(first.History, second.History);
        Assert.Equal(first.Normalization, second.Normalization);
        Assert.False(second.Model.Training);

        // The console reporter prints the reuse line.
        new ConsoleProgress(output).Report(reused);
        Assert.Contains("Reusing the finished run", output.ToString());

        // Another configuration in the same explicit folder is refused, naming the file and both configurations.
        var other = hp with { Lr = 0.02 };
        var e = Assert.Throws<RunFileException>(() => new Trainer(other) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder));
        Assert.Contains(Trainer.ResultFileName, e.Message);
        Assert.Contains("Lr=0.01,", e.Message);
        Assert.Contains("Lr=0.02,", e.Message);
    }

    [Fact]
    public void CorruptFilesGiveClearErrors()
    {
        using var tmp = new TempFolder();
        var folder = tmp.File("run");
        var crash = new Recorder(p => { if (p.Event == TrainingEvent.Step && p.Step == 9) throw new SimulatedCrash(); });
        Assert.Throws<SimulatedCrash>(() => new Trainer(ResumeHp) { Progress = crash }.Fit(Mlp(1), SmallTrain, SmallTest, folder));
        var checkpoint = Path.Combine(folder, Trainer.CheckpointFileName);
        var good = File.ReadAllBytes(checkpoint);

        // Truncated file.
        File.WriteAllBytes(checkpoint, good[..(good.Length / 2)]);
        var e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder));
        Assert.Equal(checkpoint, e.FilePath);
        Assert.Contains(checkpoint, e.Message);
        Assert.Contains("Delete it", e.Message);
        Assert.IsType<SafeTensorsFormatException>(e.InnerException);

        // Garbage.
        File.WriteAllBytes(checkpoint, "not a checkpoint at all"u8.ToArray());
        e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder));
        Assert.Contains(checkpoint, e.Message);

        // A valid safetensors file that is not a checkpoint.
        SafeTensors.Save(checkpoint, Mlp(1).StateDict());
        e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder));
        Assert.Contains("not a Shrink trainer checkpoint", e.Message);

        // A good checkpoint, but for another model, other hyperparameters or other data.
        File.WriteAllBytes(checkpoint, good);
        e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(() => new Sequential(new Flatten(), new Linear(64, 4)), SmallTrain, SmallTest, folder));
        Assert.Contains("does not fit this model", e.Message);
        e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp with { Lr = 0.5 }) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder));
        Assert.Contains("Lr=0.5", e.Message);
        e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), Synthetic(400, 1), SmallTest, folder));
        Assert.Contains("data changed", e.Message);

        // Restored, the run resumes and finishes; then a corrupt final model is reported by name.
        var ok = new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder);
        Assert.Equal(8, ok.ResumedFromStep);
        var model = Path.Combine(folder, Trainer.ModelFileName);
        File.WriteAllBytes(model, [1, 2, 3]);
        e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder));
        Assert.Equal(model, e.FilePath);
        var result = Path.Combine(folder, Trainer.ResultFileName);
        File.WriteAllText(result, "{");
        e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder));
        Assert.Equal(result, e.FilePath);
    }

    [Fact]
    public void LogHasOneLinePerEvaluation()
    {
        using var tmp = new TempFolder();
        var folder = RunFolder.For(tmp.Path, ResumeHp);
        var result = new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder);
        var lines = File.ReadAllLines(folder.File(Trainer.LogFileName));
        Assert.Equal(5, lines.Length);                       // steps 5, 10, 15, 20, 25
        var expectedKeys = new[] { "step", "epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds" };
        double lastSeconds = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var o = JsonDocument.Parse(lines[i]).RootElement;
            Assert.Equal(expectedKeys, o.EnumerateObject().Select(p => p.Name));
            Assert.Equal(5 * (i + 1), o.GetProperty("step").GetInt32());
            Assert.Equal(0.5 * (i + 1), o.GetProperty("epoch").GetDouble());
            Assert.InRange(o.GetProperty("test_accuracy").GetDouble(), 0, 1);
            Assert.True(o.GetProperty("train_loss").GetDouble() > 0);
            Assert.True(o.GetProperty("lr").GetDouble() > 0);
            Assert.True(o.GetProperty("seconds").GetDouble() >= lastSeconds);
            lastSeconds = o.GetProperty("seconds").GetDouble();
            Assert.Equal(result.History[i].TestAccuracy, o.GetProperty("test_accuracy").GetDouble());
        }
        Assert.True(folder.Contains(RunFolder.HparamsFileName));
        Assert.True(folder.Contains(Trainer.CheckpointFileName));
        Assert.True(folder.Contains(Trainer.ModelFileName));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp-*"));

        // Without a test set the test fields are null; with EvalEvery "0it" there is one line, at the end.
        using var tmp2 = new TempFolder();
        var hp = ResumeHp with { EvalEvery = "0it" };
        var r = new Trainer(hp) { Progress = null }.Fit(Mlp(1), SmallTrain, null, tmp2.Path);
        var only = Assert.Single(File.ReadAllLines(Path.Combine(tmp2.Path, Trainer.LogFileName)));
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(only).RootElement.GetProperty("test_accuracy").ValueKind);
        Assert.Null(r.TestAccuracy);
        Assert.Equal(25, r.History[0].Step);
    }

    [Fact]
    public void ScheduleAndOptimizerFollowTheHparams()
    {
        var hp = ResumeHp with { Schedule = "constant", Optimizer = "sgd", Lr = 0.05, Warmup = "5it", EvalEvery = "1it" };
        var r = new Trainer(hp) { Progress = null }.Fit(Mlp(1), SmallTrain);
        Assert.Equal(25, r.History.Count);
        Assert.Equal(0.0, r.History[0].Lr);                  // warm-up starts at 0
        Assert.Equal(0.05 * 4 / 5, r.History[4].Lr, 12);
        Assert.All(r.History.Skip(5), m => Assert.Equal(0.05, m.Lr));

        var cos = new Trainer(ResumeHp with { EvalEvery = "1it", Warmup = "0it", MinLr = 1e-4 }) { Progress = null }.Fit(Mlp(1), SmallTrain);
        Assert.Equal(ResumeHp.Lr, cos.History[0].Lr, 15);
        Assert.True(cos.History[^1].Lr < cos.History[12].Lr);
        Assert.True(cos.History[^1].Lr > 1e-4);
    }

    [Fact]
    public void BadConfigurationsAreRejected()
    {
        Assert.Contains("Optimizer", Assert.Throws<ArgumentException>(() => new Trainer(new TrainingHparams { Optimizer = "adam" })).Message);
        Assert.Contains("Schedule", Assert.Throws<ArgumentException>(() => new Trainer(new TrainingHparams { Schedule = "linear" })).Message);
        Assert.Contains("Steps", Assert.Throws<ArgumentException>(() => new Trainer(new TrainingHparams { Steps = "0ep" })).Message);
        var tooLong = new Trainer(ResumeHp with { Warmup = "3ep" }) { Progress = null };
        Assert.Contains("Warmup", Assert.Throws<ArgumentException>(() => tooLong.Fit(Mlp(1), SmallTrain)).Message);
        var tooBig = new Trainer(ResumeHp with { BatchSize = 1000 }) { Progress = null };
        Assert.Contains("fewer than one batch", Assert.Throws<ArgumentException>(() => tooBig.Fit(Mlp(1), SmallTrain)).Message);
        var badLoss = new Trainer(ResumeHp) { Progress = null, Loss = (z, b) => z };
        Assert.Contains("one-element", Assert.Throws<InvalidOperationException>(() => badLoss.Fit(Mlp(1), SmallTrain)).Message);
    }

    [Fact]
    public void ConsoleProgressPrintsLines()
    {
        var w = new StringWriter();
        var p = new ConsoleProgress(w, singleLine: false, interval: TimeSpan.Zero);
        new Trainer(ResumeHp with { Steps = "12it" }) { Progress = p }.Fit(Mlp(1), SmallTrain, SmallTest);
        var lines = w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("Training 12 steps", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("epoch 2/2 | step 12/12 (100%) | loss ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("epoch 1/2 step 10/12: train loss", StringComparison.Ordinal) && l.Contains("test loss"));
        Assert.StartsWith("Finished 12 steps", lines[^1]);

        var single = new StringWriter();
        var s = new ConsoleProgress(single, singleLine: true, interval: TimeSpan.Zero);
        new Trainer(ResumeHp with { Steps = "3it", Warmup = "0it" }) { Progress = s }.Fit(Mlp(1), SmallTrain);
        Assert.Contains("\repoch 1/1 | step 3/3", single.ToString());
        Assert.Equal("1:05", ConsoleProgress.FormatDuration(TimeSpan.FromSeconds(65)));
        Assert.Equal("2:00:05", ConsoleProgress.FormatDuration(TimeSpan.FromSeconds(7205)));
    }
}
