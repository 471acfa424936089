using System.Diagnostics;
using System.Globalization;
using Shrink.Data;
using Shrink.Experiments;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Training;

/// <summary>
/// Trains an image classifier <c>nn.Module&lt;Tensor, Tensor&gt;</c> ((B, C, H, W) images → (B, K) logits) with
/// <see cref="TrainingHparams"/> on TorchSharp, evaluates it, checkpoints it, resumes it and reuses finished runs.
/// <code>
/// var hp = new TrainingHparams { Steps = "10ep", Lr = 1e-3, LabelSmoothing = 0.1, Device = "cuda" };
/// var folder = RunFolder.For("runs", new TeacherRun { Training = hp });
/// var result = new Trainer(hp).Fit(() => ModelZoo.Create("vit_micro_patch4_28", seed: 0), train, test, folder);
/// Console.WriteLine(result.TestAccuracy);
/// </code>
/// <para>
/// The loop is short (open_lth's <c>train.py</c>). The model moves to <see cref="Device"/>; each step t = 0 … T−1
/// (T = <see cref="TrainingHparams.Steps"/>) reads batch t mod I of epoch ⌊t/I⌋ from a <see cref="DataLoader"/> seeded
/// with <see cref="TrainingHparams.Seed"/> (shuffled, drop-last, augmented, normalised, on the device), reseeds torch's
/// default generator with <c>Seed.ManualSeed(seed, "STEP", t)</c> (so dropout and drop-path draw the same bits when
/// resumed), and inside one <c>torch.NewDisposeScope()</c>: writes lr(t) (<see cref="LearningRateSchedule"/>) into the
/// optimiser's parameter groups, zeroes the gradients, computes <c>loss = Loss(model(x), batch)</c> (default:
/// cross-entropy with label smoothing), checks it is finite, back-propagates, runs <see cref="AfterBackward"/>,
/// optionally clips the global gradient norm (<c>clip_grad_norm_</c>), and steps TorchSharp's AdamW or SGD.
/// Everything else is a callback run after the step, in this order: masks (<see cref="AfterStep"/>), evaluation, the
/// log, the checkpoint, progress.
/// </para>
/// <para>
/// Every <see cref="TrainingHparams.EvalEvery"/> steps and after the last one the model is evaluated on the test set
/// (evaluation mode, no grad) and one line is appended to <c>log.jsonl</c> (<see cref="TrainingMetrics"/>). Every
/// <see cref="TrainingHparams.CheckpointEvery"/> steps and at the end, <c>checkpoint.safetensors</c> (model, optimiser
/// state, trainer state with data position and RNG seed) is replaced atomically. At the end <c>model.safetensors</c>
/// (the state dict alone, timm names) and then <c>result.json</c> are written; <c>result.json</c> marks the run finished.
/// </para>
/// <para>
/// Run folder behaviour (idempotent stages, as open_lth's runner): a folder with <c>result.json</c> is a finished run —
/// the model is loaded from <c>model.safetensors</c> and returned without training (<see cref="TrainingResult.Reused"/>);
/// a folder with a checkpoint resumes from it, and the final model is bit-identical to an uninterrupted run with the
/// same hyperparameters on the same machine, even after a <c>kill -9</c>; files written for other hyperparameters, data
/// or models are refused with a <see cref="RunFileException"/> naming the file. A non-finite loss (or gradient norm)
/// stops training with a <see cref="TrainingDivergedException"/> naming the step before anything is written, so the
/// last good checkpoint stays intact.
/// </para>
/// </summary>
public sealed class Trainer
{
    /// <summary>File name of the resumable checkpoint in a run folder.</summary>
    public const string CheckpointFileName = "checkpoint.safetensors";

    /// <summary>File name of the final model's state dict in a run folder.</summary>
    public const string ModelFileName = "model.safetensors";

    /// <summary>File name of the finished-run marker (history, configuration, normalisation) in a run folder.</summary>
    public const string ResultFileName = "result.json";

    /// <summary>File name of the JSON-lines evaluation log in a run folder.</summary>
    public const string LogFileName = "log.jsonl";

    /// <summary>Names the stream of per-step seeds of torch's default generator ("STEP").</summary>
    private const ulong StepStream = 0x53544550;

    /// <summary>Creates a trainer for <paramref name="hparams"/>.</summary>
    /// <exception cref="ArgumentException">A hyperparameter is invalid, or the device is not available (the message names it).</exception>
    public Trainer(TrainingHparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        hparams.Validate();
        Hparams = hparams;
        Device = Devices.Parse(hparams.Device);
    }

    /// <summary>The hyperparameters.</summary>
    public TrainingHparams Hparams { get; }

    /// <summary>The device of the run (<see cref="TrainingHparams.Device"/>): the model, the optimiser state and every batch live on it.</summary>
    public Device Device { get; }

    /// <summary>
    /// The training loss as a function of the logits (B, K) and the batch (labels, targets, dataset indices); it must
    /// return a one-element tensor. Null (default) uses <see cref="DefaultLoss"/>. Distillation plugs in here, e.g.
    /// <c>(1 − α)·trainer.DefaultLoss(s, b) + α·τ²·KL(…)</c>. It runs inside the step's dispose scope.
    /// </summary>
    public Func<Tensor, Batch, Tensor>? Loss { get; set; }

    /// <summary>
    /// Called after every backward pass, before gradient clipping and the optimiser step, with the model whose
    /// parameters now hold their gradients. Pruning masks the gradients here (g ← g ⊙ m, see
    /// <see cref="Pruning.PruningMask.Enforce"/>), so clipping sees only the surviving coordinates. Runs inside the
    /// step's dispose scope. Delegates combine with <c>+=</c>.
    /// </summary>
    public Action<nn.Module<Tensor, Tensor>>? AfterBackward { get; set; }

    /// <summary>
    /// Called once before the first training step of this call (after a checkpoint, if any, was loaded) with t = the
    /// step training starts from, and after every optimiser step with t = the number of steps done (1 … T). A constraint
    /// on the parameters is re-imposed here: pruning re-applies its masks (w ← w ⊙ m), so neither momentum, Adam's
    /// moments nor weight decay can revive a pruned weight. Iterative pruning also snapshots the rewind point here.
    /// Runs outside the step's dispose scope (tensors it keeps are its own); delegates combine with <c>+=</c>.
    /// </summary>
    public Action<nn.Module<Tensor, Tensor>, int>? AfterStep { get; set; }

    /// <summary>
    /// The step a fresh run starts from (default 0): the model's current weights are taken as the state after
    /// <c>StartStep</c> steps, and training runs steps StartStep … T−1 with a fresh optimiser, the learning rate of the
    /// schedule at those steps and the data order of those steps (open_lth's <c>start_step</c>, used when retraining a
    /// network rewound to step k). It is part of the run's identity: a run folder written with another start step is refused.
    /// </summary>
    public int StartStep { get; set; }

    /// <summary>Receives progress reports synchronously on the training thread; default a <see cref="ConsoleProgress"/>, null for silence.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; } = new ConsoleProgress();

    /// <summary>Batch size of evaluation (does not change the results beyond float summation order). Default 500.</summary>
    public int EvalBatchSize { get; set; } = 500;

    /// <summary>Also check every parameter gradient for NaN/∞ after each backward pass (costs one pass over the gradients). Default false; the loss is always checked, and the gradient norm when clipping.</summary>
    public bool CheckGradients { get; set; }

    /// <summary>Batches the loaders prepare ahead on a background thread (0 = on the training thread). Default 2.</summary>
    public int Prefetch { get; set; } = 2;

    /// <summary>True when <paramref name="runFolder"/> holds a finished run (<c>result.json</c>).</summary>
    public static bool IsFinished(string runFolder) => File.Exists(Path.Combine(runFolder, ResultFileName));

    /// <summary>Builds the model with <paramref name="modelFactory"/> and trains it; see <see cref="Fit(nn.Module{Tensor, Tensor}, ImageDataset, ImageDataset?, string?, CancellationToken)"/>.</summary>
    public TrainingResult Fit(Func<nn.Module<Tensor, Tensor>> modelFactory, ImageDataset train, ImageDataset? test = null,
        string? runFolder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        var model = modelFactory() ?? throw new ArgumentException("Trainer.Fit: the model factory returned null.", nameof(modelFactory));
        return Fit(model, train, test, runFolder, cancellationToken);
    }

    /// <summary>
    /// Moves <paramref name="model"/> to <see cref="Device"/> and trains it in place on <paramref name="train"/>,
    /// evaluating on <paramref name="test"/> (optional), with checkpoints, resume and reuse in <paramref name="runFolder"/>
    /// (optional; a <see cref="RunFolder"/> converts to its path). Returns the model in evaluation mode with its history.
    /// When the folder holds a finished run the model's parameters are loaded from it instead (nothing is trained); when
    /// it holds a checkpoint they are overwritten by it.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss (or a checked gradient) became NaN or ±∞.</exception>
    /// <exception cref="RunFileException">A file in the run folder is corrupt or belongs to another configuration.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; a checkpoint of the last completed step was written first, so the next call resumes there.</exception>
    public TrainingResult Fit(nn.Module<Tensor, Tensor> model, ImageDataset train, ImageDataset? test = null,
        string? runFolder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        if (EvalBatchSize < 1) throw new ArgumentException($"Trainer: EvalBatchSize must be ≥ 1, got {EvalBatchSize}.");
        if (StartStep < 0) throw new ArgumentException($"Trainer: StartStep must be ≥ 0, got {StartStep}.");
        string canonical = RunName.Canonical(Hparams) + (StartStep > 0 ? $" from step {StartStep}" : "");
        string? folder = runFolder is null ? null : Path.GetFullPath(runFolder);
        model.to(Device);
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
            var hparamsFile = Path.Combine(folder, RunFolder.HparamsFileName);
            if (!File.Exists(hparamsFile)) HparamsFile.Save(hparamsFile, Hparams);
            if (File.Exists(Path.Combine(folder, ResultFileName))) return FinishedRun.Load(this, model, folder, canonical);
        }

        var ctx = Prepare(model, train, test, folder, canonical);
        TrainingCallback[] callbacks = [new MaskCallback(), new EvaluationCallback(), new LogCallback(), new CheckpointCallback(), new ProgressCallback()];
        CheckpointCallback.Restore(ctx);
        ctx.SessionStart = ctx.Step;
        ctx.BaseSeconds = ctx.State.Seconds;
        ctx.Session.Start();
        model.train();
        foreach (var c in callbacks) c.OnStart(ctx);

        while (ctx.Step < ctx.Total)
        {
            int t = ctx.Step, epoch = t / ctx.PerEpoch, first = t % ctx.PerEpoch, count = Math.Min(ctx.PerEpoch - first, ctx.Total - t);
            foreach (var batch in Batches(ctx.Loader, epoch, first, count))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    foreach (var c in callbacks) c.OnCancel(ctx);
                    throw new OperationCanceledException(Invariant($"Training cancelled after {ctx.Step} of {ctx.Total} steps")
                        + (ctx.Folder is null ? "." : $"; the checkpoint in {ctx.Folder} resumes there."), cancellationToken);
                }
                try { TrainStep(ctx, batch, callbacks); }
                finally { batch.Dispose(); }
                foreach (var c in callbacks) c.OnStepEnd(ctx);
            }
        }

        model.eval();
        ctx.State.Seconds = ctx.Seconds;
        foreach (var c in callbacks) c.OnEnd(ctx);
        return new TrainingResult
        {
            Model = model, History = ctx.State.History.ToArray(), RunFolder = folder, Reused = false, ResumedFromStep = ctx.SessionStart,
            StepsTrained = ctx.Total - ctx.SessionStart, TotalSteps = ctx.Total, Normalization = ctx.Normalization, Seconds = ctx.State.Seconds,
        };
    }

    /// <summary>The loader, step counts, optimiser, schedule and fresh state of a run.</summary>
    private TrainingContext Prepare(nn.Module<Tensor, Tensor> model, ImageDataset train, ImageDataset? test, string? folder, string canonical)
    {
        var hp = Hparams;
        var normalization = ResolveNormalization(train);
        if (test is not null && (test.Channels, test.Height, test.Width) != (train.Channels, train.Height, train.Width))
            throw new ArgumentException($"Trainer: test images are {test.Channels}×{test.Height}×{test.Width} but training images are {train.Channels}×{train.Height}×{train.Width}.");
        var loader = new DataLoader(train, hp.BatchSize, shuffle: true, seed: unchecked((ulong)hp.Seed), dropLast: true,
            normalization: normalization, augmentation: new Augmentation(hp.CropPadding, hp.HorizontalFlip), prefetch: Prefetch, device: Device);
        int perEpoch = loader.Count;
        if (perEpoch == 0)
            throw new ArgumentException($"Trainer: the training set '{train.Name}' has {train.Count} images, fewer than one batch of {hp.BatchSize}.");
        int total = hp.Steps.ToIterations(perEpoch);
        int warmup = hp.Warmup.ToIterations(perEpoch);
        if (warmup > total)
            throw new ArgumentException($"TrainingHparams: Warmup {hp.Warmup} ({warmup} steps) is longer than Steps {hp.Steps} ({total} steps).");
        if (StartStep >= total)
            throw new ArgumentException($"Trainer: StartStep {StartStep} is not before the last step of the run ({hp.Steps} = {total} steps).");
        return new TrainingContext
        {
            Trainer = this, Hparams = hp, Model = model, Optimizer = TrainingOptimizer.Create(model, hp),
            Schedule = new LearningRateSchedule(hp, warmup, total), Device = Device, Train = train, Test = test,
            Normalization = normalization, Loader = loader, Canonical = canonical, Folder = folder,
            PerEpoch = perEpoch, Total = total, EvalEvery = hp.EvalEvery.ToIterations(perEpoch), CheckpointEvery = hp.CheckpointEvery.ToIterations(perEpoch),
            State = new TrainerState { Hparams = canonical, IterationsPerEpoch = perEpoch, TotalSteps = total, TrainCount = train.Count, Step = StartStep },
        };
    }

    /// <summary>One optimisation step t = <see cref="TrainingContext.Step"/>, in its own dispose scope; updates the state's step and window sums.</summary>
    private void TrainStep(TrainingContext ctx, Batch batch, TrainingCallback[] callbacks)
    {
        int t = ctx.Step;
        long t0 = Stopwatch.GetTimestamp();
        var optimizer = ctx.Optimizer.Optimizer;
        Seed.ManualSeed(unchecked((ulong)Hparams.Seed), StepStream, (ulong)t);
        float value;
        long correct;
        double lr;
        using (NewDisposeScope())
        {
            lr = ctx.Schedule.Apply(optimizer, t);
            optimizer.zero_grad();
            var logits = ctx.Model.forward(batch.Images);                             // (B, K)
            ClassifierEvaluation.CheckLogits(logits, batch, "training");
            var loss = (Loss ?? DefaultLoss)(logits, batch);                          // ()
            if (loss is null || loss.numel() != 1)
                throw new InvalidOperationException($"Trainer: the loss must be a one-element tensor, got {(loss is null ? "null" : "(" + string.Join(", ", loss.shape) + ")")}.");
            value = loss.item<float>();
            if (!float.IsFinite(value)) throw Diverged(ctx, "the loss", value);
            correct = ClassifierEvaluation.CountCorrect(logits, batch);
            loss.backward();
            foreach (var c in callbacks) c.OnAfterBackward(ctx);
            if (CheckGradients)
                foreach (var (name, p) in ctx.Model.named_parameters())
                {
                    if (p.grad is not { } g || g.numel() == 0) continue;
                    float m = g.abs().max().item<float>();
                    if (!float.IsFinite(m)) throw Diverged(ctx, $"the gradient of {name}", m);
                }
            if (Hparams.GradClip > 0)
            {
                double norm = nn.utils.clip_grad_norm_(ctx.Optimizer.Parameters, Hparams.GradClip);
                if (!double.IsFinite(norm)) throw Diverged(ctx, "the gradient norm", norm);
            }
            optimizer.step();
        }
        ctx.StepSeconds += Stopwatch.GetElapsedTime(t0).TotalSeconds;
        ctx.SessionImages += batch.Size;
        ctx.LastLoss = value;
        var state = ctx.State;
        state.WindowLossSum += value;
        state.WindowSteps++;
        state.WindowCorrect += correct;
        state.WindowSamples += batch.Size;
        state.LastLr = lr;
        state.Step = t + 1;
    }

    private static TrainingDivergedException Diverged(TrainingContext ctx, string quantity, double value)
    {
        int t = ctx.Step;
        return new(quantity, value, t, t / ctx.PerEpoch, t % ctx.PerEpoch, ctx.CheckpointStep is null ? null : ctx.CheckpointPath, ctx.CheckpointStep);
    }

    /// <summary>The seed torch's default generator gets before step <paramref name="step"/>: <c>Seed.Mix(seed, "STEP", step)</c>.</summary>
    internal ulong StepSeed(int step) => Seed.Mix(unchecked((ulong)Hparams.Seed), StepStream, (ulong)step);

    /// <summary>
    /// The default training loss: mean cross-entropy with label smoothing ε = <see cref="TrainingHparams.LabelSmoothing"/>,
    /// L = −(1/B) Σ_b Σ_k q_bk · log softmax(z_b)_k with q_b = (1 − ε)·onehot(y_b) + ε/K (PyTorch
    /// <c>F.cross_entropy(z, y, label_smoothing=ε)</c>).
    /// </summary>
    public Tensor DefaultLoss(Tensor logits, Batch batch)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(batch);
        return nn.functional.cross_entropy(logits, batch.Targets, label_smoothing: Hparams.LabelSmoothing);   // ()
    }

    /// <summary>
    /// Mean cross-entropy and top-1 accuracy of <paramref name="model"/> on <paramref name="data"/> (no augmentation,
    /// <paramref name="normalization"/> applied, batches on the model's device), in evaluation mode under no_grad; the
    /// model's mode is restored after.
    /// </summary>
    public static EvalResult Evaluate(nn.Module<Tensor, Tensor> model, ImageDataset data, Normalization? normalization, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        return ClassifierEvaluation.Measure(model, new DataLoader(data, batchSize, normalization: normalization, device: device));
    }

    /// <summary>The normalisation <see cref="TrainingHparams.Normalization"/> selects for <paramref name="train"/> (null = v/255).</summary>
    public Normalization? ResolveNormalization(ImageDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        var n = Hparams.Normalization switch
        {
            "none" => null,
            "train" => Normalization.Compute(train),
            "fashion-mnist" => Normalization.FashionMnist,
            "cifar10" => Normalization.Cifar10,
            _ => train.ClassNames.SequenceEqual(FashionMnist.ClassNames) && train.Channels == 1 ? Normalization.FashionMnist
                : train.ClassNames.SequenceEqual(Cifar10.ClassNames) && train.Channels == 3 ? Normalization.Cifar10
                : Normalization.Compute(train),
        };
        n?.Validate(train.Channels);
        return n;
    }

    /// <summary>Batches <paramref name="first"/> … first+count−1 of <paramref name="epoch"/>: prefetched from the start of an epoch, fetched one by one (<see cref="DataLoader.GetBatch"/>) when resuming mid-epoch.</summary>
    private static IEnumerable<Batch> Batches(DataLoader loader, int epoch, int first, int count)
    {
        if (first == 0) return loader.Enumerate(epoch).Take(count);
        return Enumerable.Range(first, count).Select(b => loader.GetBatch(epoch, b));
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
