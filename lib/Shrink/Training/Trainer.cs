using System.Diagnostics;
using System.Globalization;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Text.Json;
using Shrink.Data;
using Shrink.Experiments;
using Shrink.Tensors;
using Shrink.Tensors.IO;
using Shrink.Tensors.Nn;
using Shrink.Tensors.Optim;

namespace Shrink.Training;

/// <summary>
/// Trains an image classifier <c>Module&lt;Tensor, Tensor&gt;</c> ((B, C, H, W) images → (B, K) logits) with
/// <see cref="TrainingHparams"/>, evaluates it, checkpoints it, resumes it and reuses finished runs.
/// <code>
/// var hp = new TrainingHparams { Steps = "10ep", Lr = 1e-3, LabelSmoothing = 0.1 };
/// var folder = RunFolder.For("runs", new TeacherRun { Training = hp });
/// var result = new Trainer(hp).Fit(() => MakeModel(seed: 0), train, test, folder);
/// Console.WriteLine(result.TestAccuracy);
/// </code>
/// <para>
/// Each step t = 0 … T−1 (T = <see cref="TrainingHparams.Steps"/>) reads batch t mod I of epoch ⌊t/I⌋ from a
/// <see cref="DataLoader"/> seeded with <see cref="TrainingHparams.Seed"/> (shuffled, drop-last, augmented, normalised),
/// and inside one <see cref="TensorScope"/>: sets lr(t) from the schedule (cosine with warm-up by default), zeroes the
/// gradients, computes <c>loss = Loss(model(x), batch)</c> (default: cross-entropy with label smoothing), checks it is
/// finite, back-propagates, optionally clips the global gradient norm, and steps the optimiser. Before each step
/// <see cref="Generator.Default"/> is reseeded from (seed, t), so stochastic layers that draw from it (dropout,
/// drop-path built without a generator of their own) are reproducible and resume exactly; a layer holding its own
/// <see cref="Generator"/> is not part of the checkpoint and does not. Model initialisation is the caller's (seed the
/// generator you build the model with); a resumed run takes the parameters from the checkpoint anyway.
/// </para>
/// <para>
/// Every <see cref="TrainingHparams.EvalEvery"/> steps and after the last one the model is evaluated on the test set
/// (evaluation mode, no grad) and one line is appended to <c>log.jsonl</c> (<see cref="TrainingMetrics"/>). Every
/// <see cref="TrainingHparams.CheckpointEvery"/> steps and at the end, <c>checkpoint.safetensors</c> (model, optimiser
/// and trainer state) is replaced atomically. At the end <c>model.safetensors</c> (the state dict alone, timm names)
/// and then <c>result.json</c> are written; <c>result.json</c> marks the run as finished.
/// </para>
/// <para>
/// Run folder behaviour (idempotent stages, as open_lth's runner): a folder with <c>result.json</c> is a finished run —
/// the model is loaded from <c>model.safetensors</c> and returned without training (<see cref="TrainingResult.Reused"/>);
/// a folder with a checkpoint resumes from it, and the final model is bit-identical to an uninterrupted run with the
/// same hyperparameters; files written for other hyperparameters, data or models are refused with a
/// <see cref="RunFileException"/> naming the file. A non-finite loss (or gradient norm) stops training with a
/// <see cref="TrainingDivergedException"/> before anything is written, so the last good checkpoint stays intact.
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

    /// <summary>Creates a trainer for <paramref name="hparams"/>.</summary>
    /// <exception cref="ArgumentException">A hyperparameter is invalid (the message names it).</exception>
    public Trainer(TrainingHparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        hparams.Validate();
        Hparams = hparams;
    }

    /// <summary>The hyperparameters.</summary>
    public TrainingHparams Hparams { get; }

    /// <summary>
    /// The training loss as a function of the logits (B, K) and the batch (labels, dataset indices); it must return a
    /// one-element tensor. Null (default) uses <see cref="DefaultLoss"/>. Distillation plugs in here, e.g.
    /// <c>(1 − α)·trainer.DefaultLoss(s, b) + α·τ²·KL(…)</c>.
    /// </summary>
    public Func<Tensor, Batch, Tensor>? Loss { get; set; }

    /// <summary>
    /// Called after every backward pass, before gradient clipping and the optimiser step, with the model whose
    /// parameters now hold their gradients. Pruning masks the gradients here (g ← g ⊙ m, see
    /// <see cref="Pruning.PruningMask.Enforce"/>), so clipping sees only the surviving coordinates. Delegates combine with <c>+=</c>.
    /// </summary>
    public Action<Module<Tensor, Tensor>>? AfterBackward { get; set; }

    /// <summary>
    /// Called once before the first training step of this call (after a checkpoint, if any, was loaded) with t = the
    /// step training starts from, and after every optimiser step with t = the number of steps done (1 … T). A constraint
    /// on the parameters is re-imposed here: pruning re-applies its masks (w ← w ⊙ m), so neither momentum, Adam's
    /// moments nor weight decay can revive a pruned weight. Iterative pruning also snapshots the rewind point here.
    /// Runs outside the step's <see cref="TensorScope"/>; delegates combine with <c>+=</c>.
    /// </summary>
    public Action<Module<Tensor, Tensor>, int>? AfterStep { get; set; }

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

    /// <summary>Builds the model with <paramref name="modelFactory"/> and trains it; see <see cref="Fit(Module{Tensor, Tensor}, ImageDataset, ImageDataset?, string?, CancellationToken)"/>.</summary>
    public TrainingResult Fit(Func<Module<Tensor, Tensor>> modelFactory, ImageDataset train, ImageDataset? test = null,
        string? runFolder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        var model = modelFactory() ?? throw new ArgumentException("Trainer.Fit: the model factory returned null.", nameof(modelFactory));
        return Fit(model, train, test, runFolder, cancellationToken);
    }

    /// <summary>
    /// Trains <paramref name="model"/> in place on <paramref name="train"/>, evaluating on <paramref name="test"/> (optional),
    /// with checkpoints, resume and reuse in <paramref name="runFolder"/> (optional; a <see cref="RunFolder"/> converts to
    /// its path). Returns the model in evaluation mode with its history. When the folder holds a finished run the model's
    /// parameters are loaded from it instead (nothing is trained); when it holds a checkpoint they are overwritten by it.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss (or a checked gradient) became NaN or ±∞.</exception>
    /// <exception cref="RunFileException">A file in the run folder is corrupt or belongs to another configuration.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; a checkpoint of the last completed step was written first, so the next call resumes there.</exception>
    public TrainingResult Fit(Module<Tensor, Tensor> model, ImageDataset train, ImageDataset? test = null,
        string? runFolder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        if (EvalBatchSize < 1) throw new ArgumentException($"Trainer: EvalBatchSize must be ≥ 1, got {EvalBatchSize}.");
        var hp = Hparams;
        if (StartStep < 0) throw new ArgumentException($"Trainer: StartStep must be ≥ 0, got {StartStep}.");
        string canonical = RunName.Canonical(hp) + (StartStep > 0 ? $" from step {StartStep}" : "");
        string? folder = runFolder is null ? null : Path.GetFullPath(runFolder);
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
            var hparamsFile = Path.Combine(folder, RunFolder.HparamsFileName);
            if (!File.Exists(hparamsFile)) HparamsFile.Save(hparamsFile, hp);
            if (File.Exists(Path.Combine(folder, ResultFileName))) return Reuse(model, folder, canonical);
        }

        var normalization = ResolveNormalization(train);
        if (test is not null && (test.Channels, test.Height, test.Width) != (train.Channels, train.Height, train.Width))
            throw new ArgumentException($"Trainer: test images are {test.Channels}×{test.Height}×{test.Width} but training images are {train.Channels}×{train.Height}×{train.Width}.");
        var loader = new DataLoader(train, hp.BatchSize, shuffle: true, seed: unchecked((ulong)hp.Seed), dropLast: true,
            normalization: normalization, augmentation: new Augmentation(hp.CropPadding, hp.HorizontalFlip), prefetch: Prefetch);
        int perEpoch = loader.Count;
        if (perEpoch == 0)
            throw new ArgumentException($"Trainer: the training set '{train.Name}' has {train.Count} images, fewer than one batch of {hp.BatchSize}.");
        int total = hp.Steps.ToIterations(perEpoch);
        int warmup = hp.Warmup.ToIterations(perEpoch);
        if (warmup > total)
            throw new ArgumentException($"TrainingHparams: Warmup {hp.Warmup} ({warmup} steps) is longer than Steps {hp.Steps} ({total} steps).");
        int evalEvery = hp.EvalEvery.ToIterations(perEpoch), checkpointEvery = hp.CheckpointEvery.ToIterations(perEpoch);

        var named = model.NamedParameters().ToArray();
        var parameters = named.Select(p => p.Parameter).ToArray();
        var optimizer = CreateOptimizer(named, hp);
        var schedule = new CosineWithWarmup(hp.Lr, warmup, total, minLr: hp.Schedule == "cosine" ? hp.MinLr : hp.Lr);
        if (StartStep >= total)
            throw new ArgumentException($"Trainer: StartStep {StartStep} is not before the last step of the run ({hp.Steps} = {total} steps).");
        var state = new TrainerState { Hparams = canonical, IterationsPerEpoch = perEpoch, TotalSteps = total, TrainCount = train.Count, Step = StartStep };
        string? checkpointPath = folder is null ? null : Path.Combine(folder, CheckpointFileName);
        string? logPath = folder is null ? null : Path.Combine(folder, LogFileName);
        int? checkpointStep = null;
        if (checkpointPath is not null && File.Exists(checkpointPath))
        {
            state = TrainerCheckpoint.Load(checkpointPath, model, optimizer, state);
            checkpointStep = state.Step;
        }
        if (logPath is not null)   // the log holds exactly the evaluations the state knows (drops lines written after the checkpoint)
            AtomicFile.WriteAllText(logPath, string.Concat(state.History.Select(m => JsonSerializer.Serialize(m, TrainerJson.Compact) + "\n")));

        int startStep = state.Step;
        double baseSeconds = state.Seconds;
        var session = Stopwatch.StartNew();
        double stepSeconds = 0;
        long sessionImages = 0;
        double lastLoss = double.NaN;
        var testLoader = test is null ? null : new DataLoader(test, EvalBatchSize, normalization: normalization, prefetch: Prefetch);

        Report(new TrainingProgress
        {
            Event = checkpointStep is null ? TrainingEvent.Started : TrainingEvent.Resumed,
            Step = startStep, TotalSteps = total, IterationsPerEpoch = perEpoch, RunFolder = folder, Lr = state.LastLr,
            Message = checkpointStep is null
                ? (startStep > 0 ? Invariant($"Starting at step {startStep}: ") : "") + Invariant($"Training {total} steps ({hp.Steps}: {Plural((total + perEpoch - 1) / perEpoch, "epoch")} of {perEpoch} batches of {hp.BatchSize}) on {train.Count} images, {model.ParameterCount(trainableOnly: true):N0} trainable parameters, {hp.Describe()}") + (folder is null ? "" : $" → {folder}")
                : Invariant($"Resuming {folder} from its checkpoint at step {startStep}/{total} (epoch {startStep / perEpoch + 1}, batch {startStep % perEpoch})"),
        });

        model.Train();
        int t = state.Step;
        AfterStep?.Invoke(model, t);
        while (t < total)
        {
            int epoch = t / perEpoch, first = t % perEpoch, count = Math.Min(perEpoch - first, total - t);
            foreach (var batch in Batches(loader, epoch, first, count))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    if (checkpointPath is not null && checkpointStep != t)
                    {
                        state.Seconds = baseSeconds + session.Elapsed.TotalSeconds;
                        TrainerCheckpoint.Save(checkpointPath, model, optimizer, state);
                    }
                    throw new OperationCanceledException(Invariant($"Training cancelled after {t} of {total} steps") + (checkpointPath is null ? "." : $"; the checkpoint in {folder} resumes there."), cancellationToken);
                }
                long t0 = Stopwatch.GetTimestamp();
                var (loss, correct, lr) = TrainStep(model, optimizer, schedule, named, parameters, batch, t, perEpoch, checkpointPath, checkpointStep);
                stepSeconds += Stopwatch.GetElapsedTime(t0).TotalSeconds;
                sessionImages += batch.Size;
                lastLoss = loss;
                state.WindowLossSum += loss;
                state.WindowSteps++;
                state.WindowCorrect += correct;
                state.WindowSamples += batch.Size;
                state.LastLr = lr;
                t++;
                state.Step = t;
                AfterStep?.Invoke(model, t);

                if ((evalEvery > 0 && t % evalEvery == 0) || t == total)
                {
                    EvalResult? eval = testLoader is null ? null : Measure(model, testLoader);
                    var metrics = new TrainingMetrics
                    {
                        Step = t,
                        Epoch = (double)t / perEpoch,
                        TrainLoss = state.WindowLossSum / state.WindowSteps,
                        TrainAccuracy = (double)state.WindowCorrect / state.WindowSamples,
                        TestLoss = eval?.Loss,
                        TestAccuracy = eval?.Accuracy,
                        Lr = lr,
                        Seconds = baseSeconds + session.Elapsed.TotalSeconds,
                    };
                    state.History.Add(metrics);
                    state.WindowLossSum = 0; state.WindowSteps = 0; state.WindowCorrect = 0; state.WindowSamples = 0;
                    if (logPath is not null) File.AppendAllText(logPath, JsonSerializer.Serialize(metrics, TrainerJson.Compact) + "\n");
                    Report(new TrainingProgress
                    {
                        Event = TrainingEvent.Evaluated, Step = t, TotalSteps = total, IterationsPerEpoch = perEpoch, Loss = loss,
                        Lr = lr, Elapsed = session.Elapsed, Metrics = metrics, RunFolder = folder,
                        Message = Describe(metrics, t, total, perEpoch),
                    });
                }
                if (checkpointPath is not null && ((checkpointEvery > 0 && t % checkpointEvery == 0) || t == total))
                {
                    state.Seconds = baseSeconds + session.Elapsed.TotalSeconds;
                    TrainerCheckpoint.Save(checkpointPath, model, optimizer, state);
                    checkpointStep = t;
                    Report(new TrainingProgress { Event = TrainingEvent.Checkpointed, Step = t, TotalSteps = total, IterationsPerEpoch = perEpoch, Lr = lr, RunFolder = folder });
                }
                if (Progress is not null)
                {
                    int done = t - startStep;
                    Report(new TrainingProgress
                    {
                        Event = TrainingEvent.Step, Step = t, TotalSteps = total, IterationsPerEpoch = perEpoch, Loss = loss,
                        RunningLoss = state.WindowSteps > 0 ? state.WindowLossSum / state.WindowSteps : double.NaN,
                        Lr = lr, ImagesPerSecond = stepSeconds > 0 ? sessionImages / stepSeconds : 0,
                        Elapsed = session.Elapsed,
                        Eta = done > 0 ? TimeSpan.FromSeconds(session.Elapsed.TotalSeconds / done * (total - t)) : null,
                        RunFolder = folder,
                    });
                }
            }
        }

        model.Eval();
        state.Seconds = baseSeconds + session.Elapsed.TotalSeconds;
        if (folder is not null)
        {
            SafeTensors.Save(Path.Combine(folder, ModelFileName), model.StateDict(),
                new Dictionary<string, string> { ["format"] = "shrink-model-1", ["hparams"] = canonical });
            var result = new RunResultFile
            {
                Hparams = canonical, TotalSteps = total, IterationsPerEpoch = perEpoch, Seconds = state.Seconds,
                NormalizationMean = normalization?.Mean.ToArray(), NormalizationStd = normalization?.Std.ToArray(),
                History = state.History,
            };
            AtomicFile.WriteAllText(Path.Combine(folder, ResultFileName), JsonSerializer.Serialize(result, TrainerJson.Indented) + "\n");
        }
        var final = state.History.Count > 0 ? state.History[^1] : null;
        Report(new TrainingProgress
        {
            Event = TrainingEvent.Finished, Step = total, TotalSteps = total, IterationsPerEpoch = perEpoch, Loss = lastLoss,
            Lr = state.LastLr, Elapsed = session.Elapsed, Metrics = final, RunFolder = folder,
            Message = Invariant($"Finished {total} steps in {ConsoleProgress.FormatDuration(TimeSpan.FromSeconds(state.Seconds))}") + (final is null ? "" : ": " + Summary(final)) + (folder is null ? "" : $" — saved in {folder}"),
        });
        return new TrainingResult
        {
            Model = model, History = state.History.ToArray(), RunFolder = folder, Reused = false, ResumedFromStep = startStep,
            StepsTrained = total - startStep, TotalSteps = total, Normalization = normalization, Seconds = state.Seconds,
        };
    }

    /// <summary>One optimisation step t; returns the loss, the number of correct arg-max predictions and the lr used.</summary>
    private (double Loss, int Correct, double Lr) TrainStep(Module<Tensor, Tensor> model, Optimizer optimizer, LrSchedule schedule,
        (string Name, Parameter Parameter)[] named, Parameter[] parameters, Batch batch, int t, int perEpoch, string? checkpointPath, int? checkpointStep)
    {
        Tensor.ManualSeed(StepSeed(Hparams.Seed, t));
        using var scope = TensorScope.Begin();
        double lr = schedule.Apply(optimizer, t);
        optimizer.ZeroGrad();
        var logits = model.Forward(batch.Images);                          // (B, K)
        var loss = (Loss ?? DefaultLoss)(logits, batch);
        if (loss is null || loss.Numel != 1)
            throw new InvalidOperationException($"Trainer: the loss must be a one-element tensor, got {(loss is null ? "null" : ShapeText(loss))}.");
        float value = loss.Item();
        TrainingDivergedException Diverged(string quantity, double v) =>
            new(quantity, v, t, t / perEpoch, t % perEpoch, checkpointStep is null ? null : checkpointPath, checkpointStep);
        if (!float.IsFinite(value)) throw Diverged("the loss", value);
        int correct = CountCorrect(logits, batch.Labels);
        loss.Backward();
        AfterBackward?.Invoke(model);
        if (CheckGradients)
            foreach (var (name, p) in named)
            {
                if (p.Grad is not { Numel: > 0 } g) continue;
                float m = TensorPrimitives.MaxMagnitude(g.IsContiguous ? g.AsSpan() : g.ToArray());
                if (!float.IsFinite(m)) throw Diverged($"the gradient of {name}", m);
            }
        if (Hparams.GradClip > 0)
        {
            double norm = GradClip.ClipGradNorm(parameters, Hparams.GradClip);
            if (!double.IsFinite(norm)) throw Diverged("the gradient norm", norm);
        }
        optimizer.Step();
        return (value, correct, lr);
    }

    /// <summary>
    /// The default training loss: mean cross-entropy with label smoothing ε = <see cref="TrainingHparams.LabelSmoothing"/>,
    /// L = −(1/B) Σ_b Σ_k q_bk · log softmax(z_b)_k with q_b = (1 − ε)·onehot(y_b) + ε/K (PyTorch
    /// <c>F.cross_entropy(z, y, label_smoothing=ε)</c>).
    /// </summary>
    public Tensor DefaultLoss(Tensor logits, Batch batch)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(batch);
        return Functional.CrossEntropy(logits, batch.Labels, (float)Hparams.LabelSmoothing);
    }

    /// <summary>
    /// Mean cross-entropy and top-1 accuracy of <paramref name="model"/> on <paramref name="data"/> (no augmentation,
    /// <paramref name="normalization"/> applied), in evaluation mode under no-grad; the model's mode is restored after.
    /// </summary>
    public static EvalResult Evaluate(Module<Tensor, Tensor> model, ImageDataset data, Normalization? normalization, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        return Measure(model, new DataLoader(data, batchSize, normalization: normalization));
    }

    private static EvalResult Measure(Module<Tensor, Tensor> model, DataLoader loader)
    {
        bool wasTraining = model.Training;
        model.Eval();
        double lossSum = 0;
        long correct = 0;
        int n = 0;
        try
        {
            using var noGrad = Tensor.NoGrad();
            foreach (var batch in loader.Enumerate(0))
            {
                using var scope = TensorScope.Begin();
                var logits = model.Forward(batch.Images);                  // (B, K)
                var logp = logits.LogSoftmax(-1).Contiguous().AsSpan();    // (B, K)
                int k = logits.Size(-1);
                for (int i = 0; i < batch.Size; i++)
                {
                    int y = batch.Labels[i];
                    if ((uint)y >= (uint)k)
                        throw new ArgumentException($"Trainer: label {y} of test sample {batch.Indices[i]} is outside the model's {k} classes.");
                    lossSum -= logp[i * k + y];
                }
                correct += CountCorrect(logits, batch.Labels);
                n += batch.Size;
            }
        }
        finally { model.Train(wasTraining); }
        return new EvalResult(n == 0 ? double.NaN : lossSum / n, n == 0 ? double.NaN : (double)correct / n, n);
    }

    /// <summary>Number of rows of (B, K) logits whose first maximum is at the label.</summary>
    private static int CountCorrect(Tensor logits, int[] labels)
    {
        if (logits.Rank != 2 || logits.Size(0) != labels.Length)
            throw new ArgumentException($"Trainer: the model must return logits (B, K) with B = {labels.Length}, got {ShapeText(logits)}.");
        int k = logits.Size(1), correct = 0;
        using (Tensor.NoGrad())
        {
            var z = logits.Contiguous().AsSpan();
            for (int i = 0; i < labels.Length; i++)
                if (TensorPrimitives.IndexOfMax(z.Slice(i * k, k)) == labels[i]) correct++;
        }
        return correct;
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

    /// <summary>AdamW or SGD over two groups: parameters with ≥ 2 dimensions get weight decay, the others (biases, norms) none when <see cref="TrainingHparams.NoDecayOn1D"/>.</summary>
    private static Optimizer CreateOptimizer((string Name, Parameter Parameter)[] named, TrainingHparams hp)
    {
        if (named.Length == 0) throw new ArgumentException("Trainer: the model has no parameters.");
        var decay = named.Where(p => !hp.NoDecayOn1D || p.Parameter.Rank > 1).Select(p => p.Parameter).ToArray();
        var noDecay = named.Where(p => hp.NoDecayOn1D && p.Parameter.Rank <= 1).Select(p => p.Parameter).ToArray();
        var groups = new List<ParamGroup>();
        if (decay.Length > 0) groups.Add(new ParamGroup(decay));
        if (noDecay.Length > 0) groups.Add(new ParamGroup(noDecay, weightDecay: 0));
        return hp.Optimizer == "sgd"
            ? new Sgd(groups, hp.Lr, momentum: hp.Momentum, weightDecay: hp.WeightDecay, nesterov: hp.Nesterov)
            : new AdamW(groups, hp.Lr, beta1: hp.Beta1, beta2: hp.Beta2, eps: hp.Eps, weightDecay: hp.WeightDecay);
    }

    /// <summary>Batches <paramref name="first"/> … first+count−1 of <paramref name="epoch"/>: prefetched from the start of an epoch, fetched one by one (<see cref="DataLoader.GetBatch"/>) when resuming mid-epoch.</summary>
    private static IEnumerable<Batch> Batches(DataLoader loader, int epoch, int first, int count)
    {
        if (first == 0) return loader.Enumerate(epoch).Take(count);
        return Enumerable.Range(first, count).Select(b => loader.GetBatch(epoch, b));
    }

    /// <summary>The finished run in <paramref name="folder"/>: loads its model and history.</summary>
    private TrainingResult Reuse(Module<Tensor, Tensor> model, string folder, string canonical)
    {
        var resultPath = Path.Combine(folder, ResultFileName);
        RunResultFile result;
        try { result = JsonSerializer.Deserialize<RunResultFile>(File.ReadAllText(resultPath), TrainerJson.Compact) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new RunFileException(resultPath, $"is not a readable training result ({e.Message}). Delete it to retrain (the checkpoint, if any, is reused).", e); }
        if (result.Format != RunResultFile.CurrentFormat)
            throw new RunFileException(resultPath, $"has format '{result.Format}', expected '{RunResultFile.CurrentFormat}'. Delete it to retrain.");
        if (result.Hparams != canonical)
            throw new RunFileException(resultPath, $"holds a finished run of {result.Hparams}, but this trainer has {canonical}. Give each configuration its own folder (RunFolder.For(root, hparams)), or delete this one.");
        var modelPath = Path.Combine(folder, ModelFileName);
        Dictionary<string, Tensor> weights;
        try { weights = SafeTensors.Load(modelPath); }
        catch (SafeTensorsFormatException e) { throw new RunFileException(modelPath, $"is not a readable model: {e.Problem} Delete it and {ResultFileName} to retrain.", e); }
        catch (FileNotFoundException e) { throw new RunFileException(modelPath, $"is missing although {ResultFileName} marks the run as finished. Delete {ResultFileName} to retrain.", e); }
        try { model.LoadStateDict(weights, strict: true); }
        catch (ArgumentException e) { throw new RunFileException(modelPath, $"does not fit this model: {e.Message}", e); }
        model.Eval();
        var history = (result.History ?? []).ToArray();
        var final = history.Length > 0 ? history[^1] : null;
        Normalization? normalization = result.NormalizationMean is { } mean && result.NormalizationStd is { } std ? new Normalization(mean, std) : null;
        Report(new TrainingProgress
        {
            Event = TrainingEvent.Reused, Step = result.TotalSteps, TotalSteps = result.TotalSteps, IterationsPerEpoch = result.IterationsPerEpoch,
            Metrics = final, RunFolder = folder,
            Message = $"Reusing the finished run in {folder} (not retrained)" + (final is null ? "" : ": " + Summary(final)),
        });
        return new TrainingResult
        {
            Model = model, History = history, RunFolder = folder, Reused = true, ResumedFromStep = result.TotalSteps,
            StepsTrained = 0, TotalSteps = result.TotalSteps, Normalization = normalization, Seconds = result.Seconds,
        };
    }

    private void Report(TrainingProgress p) => Progress?.Report(p);

    /// <summary>Seed of <see cref="Generator.Default"/> for step t: SplitMix64 of (seed, t).</summary>
    private static ulong StepSeed(int seed, int t)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)t + 0x5354455053454544UL);   // "STEPSEED"
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static string Describe(TrainingMetrics m, int t, int total, int perEpoch) =>
        Invariant($"epoch {(t + perEpoch - 1) / perEpoch}/{(total + perEpoch - 1) / perEpoch} step {t}/{total}: ") + Summary(m);

    private static string Summary(TrainingMetrics m)
    {
        var s = Invariant($"train loss {m.TrainLoss:0.0000} acc {m.TrainAccuracy:P1}");
        if (m.TestLoss is { } tl && m.TestAccuracy is { } ta) s += Invariant($" | test loss {tl:0.0000} acc {ta:P1}");
        return s + Invariant($" | lr {m.Lr:0.00e+00} | {m.Seconds:0.0} s");
    }

    private static string Plural(int n, string word) => Invariant($"{n} {word}{(n == 1 ? "" : "s")}");

    private static string ShapeText(Tensor t) => "(" + string.Join(", ", t.Shape) + ")";

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
