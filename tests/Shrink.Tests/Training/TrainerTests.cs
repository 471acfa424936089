using System.Security.Cryptography;
using System.Text.Json;
using Shrink.Data;
using Shrink.Experiments;
using Shrink.IO;
using Shrink.Torch;
using Shrink.Training;
using TorchSharp;
using static TorchSharp.torch;

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
/// Tests that train through <see cref="Trainer"/>, which reseeds torch's process-wide default generator every step
/// (<see cref="Seed.ManualSeed"/>): they run alone, so no other test draws from (or reseeds) that generator in the
/// middle of a bit-identity check.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DefaultGeneratorCollection
{
    public const string Name = "Generator.Default";
}

/// <summary>Tiny models and data sets of the trainer tests.</summary>
internal static class TrainerTestData
{
    /// <summary>
    /// Tiny synthetic 1×8×8 images of 4 classes (uniform noise over a brightness of 45·class), so the many short
    /// runs cost milliseconds: 320 training images = 10 batches of 32 per epoch, 80 test images.
    /// </summary>
    public static readonly ImageDataset SmallTrain = Synthetic(320, 1), SmallTest = Synthetic(80, 2);

    public static ImageDataset Synthetic(int n, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[n * 64];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % 4;
            for (int p = 0; p < 64; p++)
                pixels[i * 64 + p] = (byte)(rng.Next(120) + 45 * labels[i]);
        }
        return new ImageDataset($"synthetic {n}", pixels, labels, 1, 8, 8, ["a", "b", "c", "d"]);
    }

    /// <summary>An MLP for the synthetic images; <paramref name="dropout"/> adds a Dropout drawing its masks from torch's default generator (which the trainer reseeds per step).</summary>
    public static nn.Module<Tensor, Tensor> Mlp(ulong seed, bool dropout = false, int inputs = 64, int hidden = 16, int classes = 4)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("flatten", nn.Flatten()), ("fc1", nn.Linear(inputs, hidden)), ("act", nn.GELU()) };
        if (dropout) layers.Add(("drop", nn.Dropout(0.2)));
        layers.Add(("fc2", nn.Linear(hidden, classes)));
        var model = nn.Sequential(layers);
        using (no_grad())
        {
            ulong i = 0;
            foreach (var (_, p) in model.named_parameters())
            {
                double bound = 1 / Math.Sqrt(p.dim() == 2 ? p.size(1) : 16);
                p.copy_(rand(p.shape, generator: Seed.Generator(seed, i++)).mul_(2 * bound).sub_(bound));   // U(−b, b)
            }
        }
        return model;
    }

    /// <summary>The MLP for 28×28 Fashion-MNIST.</summary>
    public static nn.Module<Tensor, Tensor> FashionMlp(ulong seed) => Mlp(seed, inputs: 28 * 28, hidden: 32, classes: 10);

    /// <summary>Every tensor of the state dict as float bits, in order.</summary>
    public static int[][] Bits(nn.Module m) =>
        m.state_dict().Values.Select(t => t.detach().cpu().contiguous().to_type(ScalarType.Float32).data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray()).ToArray();

    /// <summary>SHA-256 (hex) of a file.</summary>
    public static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}

[Collection(DefaultGeneratorCollection.Name)]
public class TrainerTests
{
    private static readonly Lazy<ImageDataset> SubsetTrain = new(() => FashionMnist.LoadSubset("train"));
    private static readonly Lazy<ImageDataset> SubsetTest = new(() => FashionMnist.LoadSubset("test"));
    private static readonly ImageDataset SmallTrain = TrainerTestData.SmallTrain, SmallTest = TrainerTestData.SmallTest;

    private static ImageDataset Synthetic(int n, int seed) => TrainerTestData.Synthetic(n, seed);

    private static nn.Module<Tensor, Tensor> Mlp(ulong seed, bool dropout = false) => TrainerTestData.Mlp(seed, dropout);

    private static nn.Module<Tensor, Tensor> FashionMlp(ulong seed) => TrainerTestData.FashionMlp(seed);

    /// <summary>Every code path that touches numbers: augmentation, label smoothing, clipping, warm-up, mid-epoch eval/checkpoint.</summary>
    private static readonly TrainingHparams ResumeHp = new()
    {
        Steps = "2ep5it", BatchSize = 32, Lr = 1e-2, Warmup = "4it", LabelSmoothing = 0.1, GradClip = 1.0,
        CropPadding = 2, HorizontalFlip = true, Seed = 5, EvalEvery = "5it", CheckpointEvery = "4it",
    };

    private static int[][] Weights(nn.Module m) => TrainerTestData.Bits(m);

    private static int[][] FileWeights(string path) =>
        SafeTensors.Load(path).Values.Select(t => t.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray()).ToArray();

    private static void AssertBitIdentical(int[][] expected, int[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            for (int j = 0; j < expected[i].Length; j++)
                if (expected[i][j] != actual[i][j])
                    Assert.Fail($"tensor {i} element {j}: {BitConverter.Int32BitsToSingle(expected[i][j]):R} vs {BitConverter.Int32BitsToSingle(actual[i][j]):R}");
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
        Assert.False(result.Model.training);
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
        AssertBitIdentical(FileWeights(Path.Combine(tmp.File("full"), Trainer.ModelFileName)), FileWeights(Path.Combine(tmp.File("crash"), Trainer.ModelFileName)));
        Assert.Equal(TrainerTestData.Sha256(Path.Combine(tmp.File("full"), Trainer.ModelFileName)), TrainerTestData.Sha256(Path.Combine(tmp.File("crash"), Trainer.ModelFileName)));
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
            ? trainer.DefaultLoss(logits, batch) + (logits * 0f).sum().sqrt()
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
        Assert.False(second.Model.training);

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
        SafeTensors.Save(checkpoint, Mlp(1).state_dict());
        e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, folder));
        Assert.Contains("not a Shrink trainer checkpoint", e.Message);

        // A good checkpoint, but for another model, other hyperparameters or other data.
        File.WriteAllBytes(checkpoint, good);
        e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(() => nn.Sequential(nn.Flatten(), nn.Linear(64, 4)), SmallTrain, SmallTest, folder));
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

    [Fact]
    public void SgdWithNesterovResumesBitIdentically()
    {
        using var tmp = new TempFolder();
        var hp = ResumeHp with { Optimizer = "sgd", Nesterov = true, Lr = 0.05, WeightDecay = 1e-3 };
        var full = new Trainer(hp) { Progress = null }.Fit(Mlp(5, dropout: true), SmallTrain, SmallTest, tmp.File("full"));
        var crash = new Recorder(p => { if (p.Event == TrainingEvent.Step && p.Step == 11) throw new SimulatedCrash(); });
        Assert.Throws<SimulatedCrash>(() => new Trainer(hp) { Progress = crash }.Fit(Mlp(5, dropout: true), SmallTrain, SmallTest, tmp.File("crash")));
        var names = SafeTensors.ReadTensorInfos(Path.Combine(tmp.File("crash"), Trainer.CheckpointFileName)).Select(i => i.Name).ToArray();
        Assert.Contains("optimizer.fc1.weight.momentum_buffer", names);
        Assert.Contains("optimizer.fc2.bias.momentum_buffer", names);
        var second = new Trainer(hp) { Progress = null }.Fit(Mlp(6, dropout: true), SmallTrain, SmallTest, tmp.File("crash"));
        Assert.Equal(8, second.ResumedFromStep);
        AssertBitIdentical(Weights(full.Model), Weights(second.Model));
        AssertSameMetrics(full.History, second.History);
    }

    [Fact]
    public void CheckpointHoldsModelOptimizerRngAndDataPosition()
    {
        using var tmp = new TempFolder();
        var crash = new Recorder(p => { if (p.Event == TrainingEvent.Step && p.Step == 13) throw new SimulatedCrash(); });
        Assert.Throws<SimulatedCrash>(() => new Trainer(ResumeHp) { Progress = crash }.Fit(Mlp(1), SmallTrain, SmallTest, tmp.Path));
        var path = Path.Combine(tmp.Path, Trainer.CheckpointFileName);
        var names = SafeTensors.ReadTensorInfos(path).Select(i => i.Name).ToHashSet();
        foreach (var p in new[] { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" })
        {
            Assert.Contains("model." + p, names);
            Assert.Contains($"optimizer.{p}.exp_avg", names);
            Assert.Contains($"optimizer.{p}.exp_avg_sq", names);
        }
        var state = JsonDocument.Parse(SafeTensors.ReadMetadata(path)["trainer_state"]).RootElement;
        Assert.Equal(12, state.GetProperty("step").GetInt32());
        Assert.Equal(1, state.GetProperty("data_epoch").GetInt32());      // 10 batches per epoch
        Assert.Equal(2, state.GetProperty("data_batch").GetInt32());
        Assert.Equal(Seed.Mix(5, 0x53544550, 12), state.GetProperty("next_step_seed").GetUInt64());
        Assert.All(state.GetProperty("optimizer_steps").EnumerateArray(), s => Assert.Equal(12, s.GetInt64()));

        // A checkpoint whose data position does not belong to its step is refused, naming the file.
        var tensors = SafeTensors.Load(path);
        var meta = SafeTensors.ReadMetadata(path).ToDictionary();
        meta["trainer_state"] = meta["trainer_state"].Replace("\"data_batch\":2", "\"data_batch\":3", StringComparison.Ordinal);
        SafeTensors.Save(path, tensors, meta);
        var e = Assert.Throws<RunFileException>(() => new Trainer(ResumeHp) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest, tmp.Path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains("data position", e.Message);
    }

    [Fact]
    public void NoDecayOn1DLeavesBiasesUndecayed()
    {
        // With zero gradients (lr > 0, a loss that does not depend on the weights) AdamW changes a parameter only by
        // decoupled weight decay, w ← (1 − lr·λ)·w: the weight matrices shrink, the biases stay put.
        var hp = ResumeHp with { Steps = "3it", Warmup = "0it", WeightDecay = 0.5, GradClip = 0, EvalEvery = "0it" };
        var model = Mlp(3);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var trainer = new Trainer(hp) { Progress = null };
        trainer.Loss = (z, b) => (z * 0f).sum();
        trainer.Fit(model, SmallTrain);
        foreach (var (name, p) in model.named_parameters())
        {
            bool same = p.detach().eq(before[name]).all().item<bool>();
            Assert.True(name.EndsWith("bias", StringComparison.Ordinal) == same, $"{name}: changed = {!same}");
        }
        var all = new Trainer(hp with { NoDecayOn1D = false }) { Progress = null, Loss = trainer.Loss };
        var model2 = Mlp(3);
        all.Fit(model2, SmallTrain);
        Assert.All(model2.named_parameters(), p => Assert.False(p.parameter.detach().eq(before[p.name]).all().item<bool>(), p.name));
    }

    [Fact]
    public void LearningRateScheduleFormulas()
    {
        var hp = new TrainingHparams { Lr = 1.0, MinLr = 0.1 };
        var s = new LearningRateSchedule(hp, warmupSteps: 10, totalSteps: 110);
        Assert.Equal(0.0, s.At(0));
        Assert.Equal(0.5, s.At(5), 15);
        Assert.Equal(1.0, s.At(10), 15);
        Assert.Equal(0.55, s.At(60), 12);                     // half-way down the cosine
        Assert.Equal(0.1, s.At(110), 15);
        Assert.Equal(0.1, s.At(500), 15);
        var constant = new LearningRateSchedule(hp with { Schedule = "constant" }, 4, 20);
        Assert.Equal(0.75, constant.At(3), 15);
        Assert.Equal(1.0, constant.At(4));
        Assert.Equal(1.0, constant.At(19));
        Assert.Throws<ArgumentException>(() => new LearningRateSchedule(hp, 30, 20));
    }

    [Fact]
    public void DeviceIsCheckedAndUsed()
    {
        Assert.Contains("Device", Assert.Throws<ArgumentException>(() => new Trainer(new TrainingHparams { Device = "tpu" })).Message);
        Assert.Equal(DeviceType.CPU, new Trainer(new TrainingHparams()).Device.type);
        Assert.Equal("TrainingHparams()", RunName.Canonical(new TrainingHparams { Device = "cpu" }));   // the default keeps today's run names
        if (!cuda.is_available())
            Assert.Contains("CUDA is not available", Assert.Throws<ArgumentException>(() => new Trainer(new TrainingHparams { Device = "cuda" })).Message);
        else
        {
            var r = new Trainer(ResumeHp with { Device = "cuda", Steps = "3it" }) { Progress = null }.Fit(Mlp(1), SmallTrain, SmallTest);
            Assert.Equal(DeviceType.CUDA, r.Model.parameters().First().device_type);
        }
    }
}
