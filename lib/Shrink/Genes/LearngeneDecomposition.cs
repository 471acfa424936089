using Shrink.Data;
using Shrink.Distillation;
using Shrink.Experiments;
using Shrink.Torch;
using Shrink.Training;

namespace Shrink.Genes;

/// <summary>
/// Trains the learngenes of a <see cref="LearngeneVit"/> once, on upstream data, with CE + KL to a teacher — incrementally
/// (the paper's ICT: each phase adds learngenes and trains only them, the earlier ones frozen) or simultaneously (SCT,
/// all N from the start), per <see cref="LearngeneHparams"/>.
/// <code>
/// var hp = new LearngeneHparams { Depth = 6, Phases = [1, 2, 4, 6], Teacher = "cnn", Training = new() { Steps = "5ep" } };
/// var result = new LearngeneDecomposition(hp).Fit(new DistillationTeacher("cnn", cnn), train, test, RunFolder.For("runs", hp));
/// foreach (var p in result.Phases) Console.WriteLine($"k={p.Learngenes}: {p.TestAccuracy:P1}");
/// var small = Recomposition.Constrained(result.Model, depth: 3, learngenes: 2, numClasses: 5);
/// </code>
/// <para>
/// Phase i (k_{i−1} → k_i learngenes): the model gains A_{k_{i−1}+1} … A_{k_i} (<see cref="LearngeneStack.AddLearngene"/>,
/// initialised per <see cref="LearngeneHparams.Init"/>, on the model's device), A₁ … A_{k_{i−1}} are frozen (<c>requires_grad = false</c>: no gradient,
/// no optimiser update, no weight decay), the embeddings, norm and head stay trainable unless
/// <see cref="LearngeneHparams.TrainEmbeddingsInLaterPhases"/> is false, and a <see cref="Distiller"/> trains the model for
/// the phase's steps with a fresh AdamW and warm-up + cosine schedule (the paper restarts warm-up every phase). The
/// loss is Hinton KD with α weighting the KL term (DESIGN.md), or CE alone without a teacher.
/// </para>
/// <para>
/// Run folder (optional): <c>hparams.json</c> (this record; a folder made for other hyperparameters is refused), one
/// sub-folder per phase <c>phase{i}-k{k}</c> holding the trainer's files and <c>learngenes.safetensors</c>
/// (<see cref="LearngeneFile"/>, the model after the phase), the teacher caches (shared by all phases), and
/// <c>learngenes.safetensors</c> of the final model. A finished phase is reused, not retrained, so re-running after
/// adding a phase trains only the new one.
/// </para>
/// </summary>
public sealed class LearngeneDecomposition
{
    /// <summary>File name of the decomposed model (<see cref="LearngeneFile"/> format) in a run or phase folder.</summary>
    public const string LearngeneFileName = "learngenes.safetensors";

    /// <summary>Creates the trainer for <paramref name="hparams"/>.</summary>
    /// <exception cref="ArgumentException">A hyperparameter is invalid (the message names it).</exception>
    public LearngeneDecomposition(LearngeneHparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        hparams.Validate();
        Hparams = hparams;
    }

    /// <summary>The hyperparameters.</summary>
    public LearngeneHparams Hparams { get; }

    /// <summary>Progress reports of the trainer; default a <see cref="ConsoleProgress"/>, null for silence.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; } = new ConsoleProgress();

    /// <summary>Where teacher caches are kept; null = the run folder.</summary>
    public string? CacheFolder { get; set; }

    /// <summary>Batches the loaders prepare ahead (see <see cref="Trainer.Prefetch"/>).</summary>
    public int Prefetch { get; set; } = 2;

    /// <summary>The model before any training, with <paramref name="learngenes"/> learngenes (default: the first phase's count).</summary>
    public static LearngeneVit CreateModel(LearngeneHparams hparams, int? learngenes = null)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        return new LearngeneVit(hparams.Config(), learngenes ?? hparams.PhaseCounts()[0], hparams.Basis, hparams.Indexing, hparams.Init, unchecked((ulong)hparams.Seed));
    }

    /// <summary>
    /// Runs every phase on <paramref name="train"/>, evaluating on <paramref name="test"/> after each, and returns the
    /// model with all N learngenes and the per-phase accuracies (see the class remarks).
    /// </summary>
    /// <exception cref="ArgumentException">The teacher does not match <see cref="LearngeneHparams.Teacher"/>.</exception>
    /// <exception cref="RunFileException">The run folder belongs to other hyperparameters, or a file in it is corrupt.</exception>
    public DecompositionResult Fit(DistillationTeacher? teacher, ImageDataset train, ImageDataset? test = null, string? runFolder = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        var hp = Hparams;
        if (teacher is null && hp.Teacher.Length > 0)
            throw new ArgumentException($"LearngeneDecomposition: the hyperparameters name the teacher '{hp.Teacher}' but none was given.");
        if (teacher is not null && teacher.Name != hp.Teacher)
            throw new ArgumentException($"LearngeneDecomposition: the teacher is named '{teacher.Name}' but the hyperparameters name '{hp.Teacher}'" + (hp.Teacher.Length == 0 ? " (none: set Teacher to train with KD)." : "."));
        string? folder = runFolder is null ? null : Path.GetFullPath(runFolder);
        if (folder is not null) CheckFolder(folder, hp);

        var counts = hp.PhaseCounts();
        var model = CreateModel(hp, counts[0]);
        var teachers = teacher is null ? Array.Empty<DistillationTeacher>() : [teacher];
        var phases = new List<DecompositionPhase>();
        Normalization? normalization = null;
        for (int i = 0; i < counts.Length; i++)
        {
            int k = counts[i], previous = i == 0 ? 0 : counts[i - 1];
            while (model.Count < k) model.Learngenes.AddLearngene();
            model.Unfreeze();
            model.Learngenes.FreezeFirst(previous);
            if (i > 0 && !hp.TrainEmbeddingsInLaterPhases) model.Freeze(name => !name.StartsWith("learngenes.", StringComparison.Ordinal));
            long trainable = model.ParameterCount(trainableOnly: true);

            var dh = new DistillationHparams
            {
                Training = hp.Training with { Steps = hp.PhaseSteps() },
                Student = $"{RunName.Canonical(hp)} phase {i + 1} k={k}",
                Method = teacher is null ? DistillationMethod.None : DistillationMethod.Hinton,
                Alpha = hp.Alpha,
                Temperature = hp.Temperature,
                Teachers = teacher is null ? [] : [teacher.Name],
                UseCache = hp.UseCache && teacher is not null,
            };
            string? phaseFolder = folder is null ? null : Path.Combine(folder, $"phase{i + 1}-k{k}");
            var distiller = new Distiller(dh) { CacheFolder = CacheFolder ?? folder, Progress = Progress, Prefetch = Prefetch };
            var r = distiller.Fit(() => model, teachers, train, test, phaseFolder, cancellationToken);
            normalization = r.Training.Normalization;
            if (phaseFolder is not null) SaveOnce(Path.Combine(phaseFolder, LearngeneFileName), model);
            phases.Add(new DecompositionPhase
            {
                Index = i + 1, Learngenes = k, FirstTrained = previous + 1, TrainableParameters = trainable,
                TestAccuracy = r.TestAccuracy, Steps = r.Training.TotalSteps, Epochs = r.Training.Final?.Epoch,
                Seconds = r.Training.Seconds, Reused = r.Training.Reused, RunFolder = phaseFolder, History = r.Training.History,
            });
        }
        model.Unfreeze();
        model.eval();
        if (folder is not null) SaveOnce(Path.Combine(folder, LearngeneFileName), model);
        return new DecompositionResult { Model = model, Phases = phases, Simultaneous = hp.Simultaneous, Normalization = normalization };
    }

    /// <summary>Writes hparams.json when absent; refuses a folder whose hparams.json describes other hyperparameters.</summary>
    private static void CheckFolder(string folder, LearngeneHparams hp)
    {
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, RunFolder.HparamsFileName);
        if (!File.Exists(file)) { HparamsFile.Save(file, hp); return; }
        string expected = RunName.Canonical(hp), stored;
        try { stored = RunName.Canonical(HparamsFile.Load(file, typeof(LearngeneHparams))); }
        catch (Exception e) when (e is not RunFileException) { throw new RunFileException(file, $"is not readable as LearngeneHparams ({e.Message}); use a folder of its own for the decomposition (RunFolder.For(root, hparams)).", e); }
        if (stored != expected)
            throw new RunFileException(file, $"describes {stored}, but this decomposition has {expected}. Give each configuration its own folder (RunFolder.For(root, hparams)), or delete this one.");
    }

    private static void SaveOnce(string path, LearngeneVit model)
    {
        if (!File.Exists(path)) LearngeneFile.Save(path, model);
    }
}
