using Shrink.Data;
using Shrink.Distillation;
using Shrink.Experiments;
using Shrink.Genes;
using Shrink.Torch;
using Shrink.Training;
using TorchSharp;
using static Shrink.Tests.Genes.GenesTestUtil;
using static TorchSharp.torch;

namespace Shrink.Tests.Genes;

/// <summary>Incremental (ICT) and simultaneous (SCT) training of the learngenes: freezing, phases, reuse, KD, validation.</summary>
[Collection("Generator.Default")]   // = Shrink.Tests.Training.DefaultGeneratorCollection.Name: the trainer reseeds torch's default generator
public sealed class LearngeneDecompositionTests : IDisposable
{
    public LearngeneDecompositionTests() => TorchNative.EnsureLoaded();

    private readonly TempFolder _temp = new("decomp");
    private string _dir => _temp.Path;

    public void Dispose() => _temp.Dispose();

    private static readonly ImageDataset Train = Synthetic(64, 1), Test = Synthetic(32, 2);

    private static readonly LearngeneHparams Hp = new()
    {
        ImageSize = 8, PatchSize = 4, NumClasses = 4, EmbedDim = 8, Depth = 3, NumHeads = 2, MlpRatio = 2, Phases = [1, 2, 3], Seed = 3,
        Training = new() { Steps = "3it", BatchSize = 16, Lr = 1e-2, EvalEvery = "0it", CheckpointEvery = "0it" },
    };

    private static LearngeneDecomposition Decomposer(LearngeneHparams hp) => new(hp) { Progress = null, Prefetch = 0 };

    private static void SameValues(nn.Module a, nn.Module b, string what)
    {
        var sb = b.state_dict();
        foreach (var (name, t) in a.state_dict()) Identical(t, sb[name], $"{what}: {name}");
    }

    private static bool Differs(Tensor a, Tensor b) => !Values(a).SequenceEqual(Values(b));

    [Fact]
    public void LaterPhasesTrainOnlyTheNewLearngenesAndLeaveTheFrozenOnesBitIdentical()
    {
        var folder = RunFolder.For(_dir, Hp);
        var result = Decomposer(Hp).Fit(null, Train, Test, folder);
        Assert.Equal([1, 2, 3], result.Phases.Select(p => p.Learngenes));
        Assert.Equal([1, 2, 3], result.Phases.Select(p => p.FirstTrained));
        Assert.All(result.Phases, p => { Assert.Equal(3, p.Steps); Assert.NotNull(p.TestAccuracy); Assert.False(p.Reused); });
        Assert.Equal(9, result.TotalSteps);
        Assert.Equal(9 / 4.0, result.TotalEpochs);
        long e = LearngeneVit.EmbeddingParameters(Hp.Config()), p1 = LearngeneStack.BlockParameters(Hp.Config());
        Assert.Equal([e + p1, e + p1, e + p1], result.Phases.Select(p => p.TrainableParameters));

        var snapshots = result.Phases.Select(p => LearngeneFile.Load(Path.Combine(p.RunFolder!, LearngeneDecomposition.LearngeneFileName))).ToArray();
        var init = LearngeneDecomposition.CreateModel(Hp, 3);
        // Phase 2 froze A₁, phase 3 froze A₁ and A₂: bit-identical to the end of the phase that trained them.
        SameValues(snapshots[0].Learngenes[0], snapshots[1].Learngenes[0], "A₁ through phase 2");
        SameValues(snapshots[0].Learngenes[0], result.Model.Learngenes[0], "A₁ through phase 3");
        SameValues(snapshots[1].Learngenes[1], result.Model.Learngenes[1], "A₂ through phase 3");
        // Each learngene did train in its own phase, and so did the embeddings in every phase.
        Assert.True(Differs(init.Learngenes[0].Mlp.Fc1.weight!, snapshots[0].Learngenes[0].Mlp.Fc1.weight!));
        Assert.True(Differs(init.Learngenes[1].Mlp.Fc1.weight!, snapshots[1].Learngenes[1].Mlp.Fc1.weight!));
        Assert.True(Differs(init.Learngenes[2].Attn.Qkv.weight!, result.Model.Learngenes[2].Attn.Qkv.weight!));
        Assert.True(Differs(snapshots[1].Head.weight!, result.Model.Head.weight!));
        // The returned model is the last snapshot, fully trainable again, and saved in the run folder.
        SameValues(snapshots[2], result.Model, "final model vs phase-3 snapshot");
        Assert.All(result.Model.parameters(), p => Assert.True(p.requires_grad));
        Assert.False(result.Model.training);
        SameValues(LearngeneFile.Load(Path.Combine(folder, LearngeneDecomposition.LearngeneFileName)), result.Model, "final file");

        // A second run reuses every phase and gives the same model.
        var again = Decomposer(Hp).Fit(null, Train, Test, folder);
        Assert.All(again.Phases, p => Assert.True(p.Reused));
        SameValues(result.Model, again.Model, "reused decomposition");
        Assert.Equal(result.Phases.Select(p => p.TestAccuracy), again.Phases.Select(p => p.TestAccuracy));
    }

    [Fact]
    public void FrozenEmbeddingsOptionTrainsOnlyNewLearngenesInLaterPhases()
    {
        var hp = Hp with { Phases = [1, 3], TrainEmbeddingsInLaterPhases = false, Init = LearngeneInit.Zeros };
        var result = Decomposer(hp).Fit(null, Train, Test, Path.Combine(_dir, "frozen"));
        var phase1 = LearngeneFile.Load(Path.Combine(result.Phases[0].RunFolder!, LearngeneDecomposition.LearngeneFileName));
        Assert.Equal(2 * LearngeneStack.BlockParameters(hp.Config()), result.Phases[1].TrainableParameters);
        foreach (var (name, t) in phase1.state_dict().Where(kv => !kv.Key.StartsWith("learngenes.", StringComparison.Ordinal)))
            Identical(t, result.Model.state_dict()[name], name);
        // Zero-initialised A₂, A₃ trained away from zero.
        Assert.Contains(Values(result.Model.Learngenes[2].Mlp.Fc2.weight!), v => v != 0);
    }

    [Fact]
    public void SimultaneousTrainingTrainsAllLearngenesForTheSameTotalSteps()
    {
        var hp = Hp with { Simultaneous = true };
        var result = Decomposer(hp).Fit(null, Train, Test);
        var phase = Assert.Single(result.Phases);
        Assert.True(result.Simultaneous);
        Assert.Equal((3, 1, 9), (phase.Learngenes, phase.FirstTrained, phase.Steps));
        Assert.Equal(9, result.TotalSteps);
        var init = LearngeneDecomposition.CreateModel(hp, 3);
        for (int n = 0; n < 3; n++) Assert.True(Differs(init.Learngenes[n].Mlp.Fc1.weight!, result.Model.Learngenes[n].Mlp.Fc1.weight!), $"A_{n + 1} did not train.");
        // Same initial learngenes as the incremental run (each A_n has its own seed).
        var incremental = LearngeneDecomposition.CreateModel(Hp, 1);
        incremental.Learngenes.AddLearngene(); incremental.Learngenes.AddLearngene();
        SameValues(init, incremental, "initial models of SCT and ICT");
    }

    [Fact]
    public void DistillsFromATeacherWithACacheSharedByThePhases()
    {
        var teacherModel = new LearngeneVit(Hp.Config() with { NumClasses = 4 }, 1, seed: 99);
        var hp = Hp with { Phases = [1, 3], Teacher = "tiny", UseCache = true, Alpha = 0.7, Temperature = 2 };
        var folder = Path.Combine(_dir, "kd");
        var result = Decomposer(hp).Fit(new DistillationTeacher("tiny", teacherModel), Train, Test, folder);
        Assert.Equal(2, result.Phases.Count);
        Assert.Single(Directory.GetFiles(folder, "teacher-*.tlc"));
        var wrong = Assert.Throws<ArgumentException>(() => Decomposer(hp).Fit(new DistillationTeacher("other", teacherModel), Train, Test));
        Assert.Contains("the teacher is named 'other' but the hyperparameters name 'tiny'", wrong.Message);
        Assert.Contains("none was given", Assert.Throws<ArgumentException>(() => Decomposer(hp).Fit(null, Train, Test)).Message);
    }

    [Fact]
    public void AFolderOfOtherHyperparametersIsRefused()
    {
        var folder = Path.Combine(_dir, "shared");
        Decomposer(Hp with { Phases = [3], Training = Hp.Training with { Steps = "1it" } }).Fit(null, Train, null, folder);
        var e = Assert.Throws<RunFileException>(() => Decomposer(Hp with { Basis = LearngeneBasis.Taylor }).Fit(null, Train, null, folder));
        Assert.Contains("describes LearngeneHparams(", e.Message);
        Assert.Contains("hparams.json", e.Message);
    }

    [Fact]
    public void ScheduleAndValidation()
    {
        Assert.Equal([1, 2, 4, 6], new LearngeneHparams { Depth = 6 }.IncrementalPhases());
        Assert.Equal([1, 2, 4, 8, 12], new LearngeneHparams { Depth = 12 }.IncrementalPhases());
        Assert.Equal([1], new LearngeneHparams { Depth = 1 }.IncrementalPhases());
        Assert.Equal([1, 2, 4], new LearngeneHparams { Depth = 6, NumLearngenes = 4 }.IncrementalPhases());
        Assert.Equal([6], new LearngeneHparams { Depth = 6, Simultaneous = true }.PhaseCounts());
        Assert.Equal(Step.FromEpochs(40), new LearngeneHparams { Depth = 6, Simultaneous = true }.PhaseSteps());   // 4 phases × 10 epochs
        Assert.Contains("must end at N = 6", Assert.Throws<ArgumentException>(() => new LearngeneDecomposition(new LearngeneHparams { Phases = [1, 2] })).Message);
        Assert.Contains("strictly increasing", Assert.Throws<ArgumentException>(() => new LearngeneDecomposition(new LearngeneHparams { Phases = [2, 2, 6] })).Message);
        Assert.Contains("Alpha", Assert.Throws<ArgumentException>(() => new LearngeneDecomposition(new LearngeneHparams { Alpha = 2 })).Message);
        Assert.Contains("not a multiple of patch size", Assert.Throws<ArgumentException>(() => new LearngeneDecomposition(new LearngeneHparams { PatchSize = 5 })).Message);
    }
}
