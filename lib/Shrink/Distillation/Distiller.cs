using System.Globalization;
using Shrink.Data;
using Shrink.Experiments;
using Shrink.IO;
using Shrink.Models;
using Shrink.Torch;
using Shrink.Training;
using TorchSharp;
using TorchSharp.Modules;
using DataLoader = Shrink.Data.DataLoader;
using static TorchSharp.torch;

namespace Shrink.Distillation;

/// <summary>
/// Trains a student from one or several teachers, live or from cached teacher outputs, through the
/// <see cref="Trainer"/> (progress, checkpoints, resume, run reuse), with the objective <see cref="DistillationHparams"/>
/// describes.
/// <code>
/// var hp = new DistillationHparams { Training = new() { Steps = "10ep" }, Method = DistillationMethod.DeiTHard,
///                                    Teachers = ["cnn"], Student = "deit_nano", UseCache = true };
/// var distiller = new Distiller(hp) { CacheFolder = "runs/teacher-cache" };
/// var result = distiller.Fit(() => ModelZoo.Create("deit_nano_distilled_patch7_28"), [new("cnn", cnn)], train, test,
///                            RunFolder.For("runs", hp));
/// Console.WriteLine($"{result.TestAccuracy:P1}, teacher passes saved: {result.TeacherForwardPassesSaved}");
/// </code>
/// <para>
/// Teachers are frozen (<see cref="ModuleExtensions.Freeze"/>), moved to the run's device
/// (<see cref="TrainingHparams.Device"/>), put in evaluation mode and run under no-grad on the student's batch (the same
/// augmented, normalised images). Feature-level terms read the blocks they need through
/// <see cref="VisionTransformer.ForwardIntermediates"/> (only the requested intermediates of the requested blocks). With <see cref="DistillationHparams.UseCache"/> each teacher's outputs
/// are taken from a <see cref="TeacherLogitCache"/> in <see cref="CacheFolder"/> (or the run folder): filled once — with
/// the trainer's own loader (seed, batch size, shuffle, drop-last, augmentation) for every epoch when the training
/// augments, or one un-augmented pass over the dataset when it does not — and training then runs no teacher forward pass
/// at all; each batch's augmentation is checked against the stored draws. A second run finds the files and fills nothing.
/// The counts are in <see cref="DistillationResult"/> (those of the whole run, kept in the run folder's
/// <c>teacher-passes.json</c>, so a reused or resumed run reports what it cost) and the passes this distiller ran
/// accumulate in <see cref="TeacherForwardPasses"/>.
/// </para>
/// <para>
/// The run folder holds the trainer's files (for the <see cref="DistillationStudent"/> wrapper, regressors included)
/// and <c>student.safetensors</c>, the student alone with timm names. A finished run is reused without touching the
/// teachers or the caches.
/// </para>
/// </summary>
public sealed class Distiller
{
    /// <summary>File name of the student's state dict (timm names) in a run folder.</summary>
    public const string StudentFileName = "student.safetensors";

    /// <summary>Creates a distiller for <paramref name="hparams"/>.</summary>
    /// <exception cref="ArgumentException">A hyperparameter is invalid (the message names it).</exception>
    public Distiller(DistillationHparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        hparams.Validate();
        Hparams = hparams;
    }

    /// <summary>The hyperparameters.</summary>
    public DistillationHparams Hparams { get; }

    /// <summary>Where teacher caches are kept (shared by runs that use the same teacher and inputs); null = the run folder.</summary>
    public string? CacheFolder { get; set; }

    /// <summary>Progress reports of the trainer; default a <see cref="ConsoleProgress"/>, null for silence.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; } = new ConsoleProgress();

    /// <summary>Batches the trainer's loaders prepare ahead (see <see cref="Trainer.Prefetch"/>).</summary>
    public int Prefetch { get; set; } = 2;

    /// <summary>Every teacher forward pass (images × teachers) this distiller ran, live and cache fills, over all its <see cref="Fit"/> calls.</summary>
    public long TeacherForwardPasses => _livePasses + _fillPasses;

    private long _livePasses, _fillPasses;

    /// <summary>
    /// Builds the student with <paramref name="studentFactory"/> and distils <paramref name="teachers"/> into it on
    /// <paramref name="train"/>, evaluating on <paramref name="test"/>, with checkpoints and reuse in
    /// <paramref name="runFolder"/> (see the class remarks).
    /// </summary>
    /// <exception cref="ArgumentException">The teachers do not match <see cref="DistillationHparams.Teachers"/>, or the student/teacher types do not fit the method.</exception>
    public DistillationResult Fit(Func<nn.Module<Tensor, Tensor>> studentFactory, IReadOnlyList<DistillationTeacher> teachers, ImageDataset train,
        ImageDataset? test = null, string? runFolder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(studentFactory);
        ArgumentNullException.ThrowIfNull(teachers);
        ArgumentNullException.ThrowIfNull(train);
        var hp = Hparams;
        if (teachers.Count != hp.Teachers.Length || teachers.Select(t => t.Name).Where((n, i) => n != hp.Teachers[i]).Any())
            throw new ArgumentException($"Distiller: the hyperparameters name the teachers [{string.Join(", ", hp.Teachers)}] but [{string.Join(", ", teachers.Select(t => t.Name))}] were given (same names, same order).");
        var student = studentFactory() ?? throw new ArgumentException("Distiller: the student factory returned null.");
        var device = Devices.Parse(hp.Training.Device);
        var vit = student as VisionTransformer;
        var firstTeacherVit = teachers.Count > 0 ? teachers[0].Model as VisionTransformer : null;
        CheckFits(hp, vit, firstTeacherVit);

        // Feature-level layers and regressors.
        int[] sLayers = [], tLayers = [];
        var regressors = new List<HintRegressor>();
        if (hp.UsesFeatures)
        {
            sLayers = hp.StudentLayers.Select(i => Layer(i, vit!.Config.Depth, "StudentLayers")).ToArray();
            tLayers = hp.TeacherLayers.Select(i => Layer(i, firstTeacherVit!.Config.Depth, "TeacherLayers")).ToArray();
            if (hp.HintWeight > 0)
                for (int l = 0; l < sLayers.Length; l++)
                    regressors.Add(new HintRegressor(vit!.Config.EmbedDim, firstTeacherVit!.Config.EmbedDim, Seed.Generator(unchecked((ulong)hp.Training.Seed), HintStream, (ulong)l)));
        }
        var what = (hp.HintWeight > 0 || hp.ManifoldWeight > 0 ? Intermediates.BlockOutputs : Intermediates.None)
                   | (hp.AttentionWeight > 0 ? Intermediates.Attentions : Intermediates.None)
                   | (hp.RelationWeight > 0 ? Intermediates.Qkv : Intermediates.None);
        // ForwardIntermediates returns entry i for indices[i]: ask each model for its distinct blocks, in order.
        int[] sBlocks = sLayers.Distinct().Order().ToArray(), tBlocks = tLayers.Distinct().Order().ToArray();
        var wrapper = new DistillationStudent(student, regressors, what, hp.UsesFeatures ? sBlocks : null);
        wrapper.to(device);

        foreach (var t in teachers) { t.Model.Freeze(); t.Model.to(device); t.Model.eval(); }
        var trainer = new Trainer(hp.Training) { Progress = Progress, Prefetch = Prefetch };
        bool finished = runFolder is not null && Trainer.IsFinished(runFolder);

        // Caches: filled (or found) before training, never for a finished run.
        var caches = new List<TeacherLogitCache>();
        long fillPasses = 0;
        double fillSeconds = 0;
        if (hp.UseCache && !finished && teachers.Count > 0)
        {
            string folder = CacheFolder ?? runFolder ?? throw new ArgumentException("Distiller: UseCache needs a CacheFolder or a run folder to keep the cache files in.");
            var normalization = trainer.ResolveNormalization(train);
            var aug = new Augmentation(hp.Training.CropPadding, hp.Training.HorizontalFlip);
            var trainLoader = new DataLoader(train, hp.Training.BatchSize, shuffle: true, seed: unchecked((ulong)hp.Training.Seed), dropLast: true,
                normalization: normalization, augmentation: aug, prefetch: Prefetch, device: device);
            int perEpoch = trainLoader.Count;
            if (perEpoch == 0) throw new ArgumentException($"Distiller: the training set '{train.Name}' has fewer images than one batch of {hp.Training.BatchSize}.");
            int epochs = aug.IsActive ? (hp.Training.Steps.ToIterations(perEpoch) + perEpoch - 1) / perEpoch : 1;
            var fillLoader = aug.IsActive ? trainLoader
                : new DataLoader(train, hp.Training.BatchSize, normalization: normalization, prefetch: Prefetch, device: device);   // every sample once
            string inputs = TeacherLogitCache.DescribeInputs(fillLoader);
            int k = hp.CacheTopK == 0 ? train.NumClasses : hp.CacheTopK;
            foreach (var t in teachers)
            {
                var path = Path.Combine(folder, CacheFileName(t.Name, train, inputs, k, hp.CacheValues, epochs));
                var expected = new TeacherCacheExpectation { Dataset = train, TopK = k, Values = hp.CacheValues, TeacherName = t.Name, InputDescription = inputs, MinEpochs = epochs };
                TeacherLogitCache cache;
                if (File.Exists(path)) cache = TeacherLogitCache.Load(path, expected);
                else
                {
                    long start = System.Diagnostics.Stopwatch.GetTimestamp();
                    cache = TeacherLogitCache.Fill(path, t.Model, t.Name, fillLoader, epochs, k, hp.CacheValues);
                    fillSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds;
                    fillPasses += cache.TeacherForwardPasses;
                }
                caches.Add(cache);
            }
            _fillPasses += fillPasses;
            if (runFolder is not null && fillPasses > 0)   // recorded now, so a resumed run still counts this fill
            {
                var before = TeacherPassRecord.Load(runFolder);
                (before with { CacheFillTeacherForwardPasses = before.CacheFillTeacherForwardPasses + fillPasses, CacheFillSeconds = before.CacheFillSeconds + fillSeconds }).Save(runFolder);
            }
        }

        long livePasses = 0;
        trainer.Loss = (logits, batch) =>
        {
            var output = wrapper.LastOutput ?? throw new InvalidOperationException("Distiller: the student's output was not captured (the loss was called outside a training step).");
            if (hp.Method == DistillationMethod.None && !hp.UsesFeatures) return trainer.DefaultLoss(logits, batch);
            // Teacher outputs for this batch: targets at τ per teacher, and the first teacher's activations when needed.
            var targets = new Tensor[teachers.Count];
            VitOutput? teacherFeatures = null;
            if (caches.Count > 0)
                for (int m = 0; m < teachers.Count; m++) targets[m] = caches[m].Targets(batch, hp.Temperature);   // (B, C) on the batch's device
            else
                using (no_grad())
                    for (int m = 0; m < teachers.Count; m++)
                    {
                        Tensor z;                                                                   // (B, C)
                        if (m == 0 && hp.UsesFeatures)
                        {
                            teacherFeatures = firstTeacherVit!.ForwardIntermediates(batch.Images, what, tBlocks);
                            z = teacherFeatures.Prediction;
                        }
                        else z = teachers[m].Model.forward(batch.Images);
                        if (z.dim() != 2 || z.shape[0] != batch.Size || z.shape[1] != logits.shape[1])
                            throw new ArgumentException($"Distiller: teacher '{teachers[m].Name}' returned ({DistillationLoss.Shape(z)}) for a batch of {batch.Size}; the student predicts ({DistillationLoss.Shape(logits)}).");
                        livePasses += batch.Size;
                        _livePasses += batch.Size;
                        targets[m] = DistillationLoss.Targets(z, hp.Temperature);
                    }
            Tensor Mixture() => targets.Length == 1 ? targets[0] : TeacherMixture.Targets(targets, hp.TeacherWeights);
            var loss = hp.Method switch
            {
                DistillationMethod.None => trainer.DefaultLoss(logits, batch),
                DistillationMethod.Hinton => DistillationLoss.HintonFromTargets(logits, Mixture(), batch.Targets, hp.Alpha, hp.Temperature, hp.Normalization, hp.Training.LabelSmoothing),
                DistillationMethod.DeiTSoft => DistillationLoss.DeiTSoftFromTargets(output.Logits, output.DistillationLogits!, Mixture(), batch.Targets, hp.Alpha, hp.Temperature, hp.Normalization),
                DistillationMethod.DeiTHard => DistillationLoss.DeiTHard(output.Logits, output.DistillationLogits!, Mixture(), batch.Targets, hp.Alpha),
                DistillationMethod.CoAdvise => DistillationLoss.CoAdvise(output.Logits, output.DistillationHeads, targets, batch.Targets, hp.Temperature, hp.TeacherWeights, hp.Normalization),
                DistillationMethod.SoftTarget => DistillationLoss.SoftTargetCrossEntropy(logits, Mixture()),
                _ => throw new InvalidOperationException($"Distiller: unknown method {hp.Method}."),
            };
            if (teacherFeatures is not null)
                loss = loss + FeatureTerms(hp, output, teacherFeatures, vit!, firstTeacherVit!, sLayers, tLayers, sBlocks, tBlocks, wrapper.Regressors, batch);
            return loss;
        };

        var result = trainer.Fit(wrapper, train, test, runFolder, cancellationToken);
        student.eval();
        long perStep = hp.Method == DistillationMethod.None && !hp.UsesFeatures ? 0 : (long)hp.Training.BatchSize * teachers.Count;   // passes a live step runs
        var record = new TeacherPassRecord
        {
            LiveTeacherForwardPasses = livePasses, CacheFillTeacherForwardPasses = fillPasses, CacheFillSeconds = fillSeconds,
            LiveEquivalentTeacherForwardPasses = result.StepsTrained * perStep,
        };
        if (result.RunFolder is not null)
        {
            var studentPath = Path.Combine(result.RunFolder, StudentFileName);
            if (!File.Exists(studentPath))
                SafeTensors.Save(studentPath, student.state_dict(), new Dictionary<string, string> { ["format"] = "shrink-model-1", ["hparams"] = RunName.Canonical(hp) });
            // The whole run's cost: fills recorded by every session; the steps of earlier sessions (up to the checkpoint
            // this one resumed from) ran the live teachers once per image and teacher, as this session's did.
            var recorded = TeacherPassRecord.Load(result.RunFolder);
            if (!result.Reused)
            {
                bool live = caches.Count == 0;
                record = recorded with
                {
                    LiveTeacherForwardPasses = livePasses + (live ? result.ResumedFromStep * perStep : 0),
                    LiveEquivalentTeacherForwardPasses = (long)result.TotalSteps * perStep,
                };
                record.Save(result.RunFolder);
            }
            else record = recorded;
        }
        return new DistillationResult
        {
            Student = student, Training = result, Caches = caches,
            LiveTeacherForwardPasses = record.LiveTeacherForwardPasses, CacheFillTeacherForwardPasses = record.CacheFillTeacherForwardPasses,
            CacheFillSeconds = record.CacheFillSeconds, LiveEquivalentTeacherForwardPasses = record.LiveEquivalentTeacherForwardPasses,
        };
    }

    /// <summary>The cache file name of a teacher: its (sanitised) name and a hash of the dataset, inputs, k, value kind and epochs.</summary>
    public static string CacheFileName(string teacherName, ImageDataset train, string inputs, int topK, TeacherCacheValues values, int epochs)
    {
        var safe = new string(teacherName.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_').ToArray());
        if (safe.Length > 60) safe = safe[..60];
        var key = string.Create(CultureInfo.InvariantCulture, $"{teacherName}|{TeacherLogitCache.Fingerprint(train)}|{inputs}|k={topK}|{values}|epochs={epochs}");
        return $"teacher-{safe}-{RunName.Hash(key)}.tlc";
    }

    /// <summary>Seed stream of the hint regressors' initial weights ("HI").</summary>
    private const ulong HintStream = 0x4849;

    /// <summary>Seed stream of the manifold term's random patches ("MANIFOLD").</summary>
    private const ulong ManifoldStream = 0x4D414E49464F4C44UL;

    private static int Layer(int index, int depth, string what)
    {
        int i = index < 0 ? depth + index : index;
        if ((uint)i >= (uint)depth) throw new ArgumentException($"Distiller: {what} index {index} is outside a model of depth {depth}.");
        return i;
    }

    private static void CheckFits(DistillationHparams hp, VisionTransformer? student, VisionTransformer? teacher)
    {
        if (hp.Method is DistillationMethod.DeiTSoft or DistillationMethod.DeiTHard && (student is null || student.Config.DistillationTokenCount < 1))
            throw new ArgumentException($"Distiller: {hp.Method} needs a VisionTransformer student with a distillation token (DistillationToken = true).");
        if (hp.Method == DistillationMethod.CoAdvise && (student is null || student.Config.DistillationTokenCount != hp.Teachers.Length))
            throw new ArgumentException($"Distiller: Co-advise needs a VisionTransformer student with one distillation token per teacher (NumDistillationTokens = {hp.Teachers.Length}), got {student?.Config.DistillationTokenCount.ToString(CultureInfo.InvariantCulture) ?? "a non-ViT"}.");
        if (hp.UsesFeatures && (student is null || teacher is null))
            throw new ArgumentException("Distiller: hint, attention, relation and manifold terms need a VisionTransformer student and a VisionTransformer first teacher.");
    }

    /// <summary>
    /// The tokens both models have, along <paramref name="axis"/>: when this model has more prefix tokens
    /// (<paramref name="prefix"/>) than the other (<paramref name="otherPrefix"/>), its extra distillation tokens — positions
    /// otherPrefix … prefix−1, right after the class token — are dropped (as ManifoldKD drops the student's extra tokens);
    /// otherwise the tensor is returned as is.
    /// </summary>
    internal static Tensor CommonTokens(Tensor x, int axis, int prefix, int otherPrefix)
    {
        if (prefix <= otherPrefix) return x;
        long total = x.shape[axis];
        var keep = Enumerable.Range(0, otherPrefix).Select(i => (long)i).Concat(Enumerable.Range(prefix, (int)total - prefix).Select(i => (long)i)).ToArray();
        return x.index_select(axis, tensor(keep, dtype: ScalarType.Int64, device: x.device));
    }

    /// <summary>Attention maps (B, H, T, T) restricted to the common tokens (<see cref="CommonTokens"/>) on both axes, rows renormalised to sum to 1.</summary>
    internal static Tensor CommonAttention(Tensor attention, int prefix, int otherPrefix)
    {
        if (prefix <= otherPrefix) return attention;
        var a = CommonTokens(CommonTokens(attention, 2, prefix, otherPrefix), 3, prefix, otherPrefix);
        return a / a.sum(-1, keepdim: true);                    // (B, H, T', T'), rows sum to 1
    }

    /// <summary>
    /// HintWeight·L_hint + AttentionWeight·L_attn + RelationWeight·L_qkv + ManifoldWeight·L_manifold, averaged over the
    /// layer pairs. <paramref name="s"/> and <paramref name="t"/> hold the intermediates of the blocks
    /// <paramref name="sBlocks"/> and <paramref name="tBlocks"/> (entry i for block i of those lists).
    /// </summary>
    private static Tensor FeatureTerms(DistillationHparams hp, VitOutput s, VitOutput t, VisionTransformer student, VisionTransformer teacher,
        int[] sLayers, int[] tLayers, int[] sBlocks, int[] tBlocks, ModuleList<HintRegressor>? regressors, Batch batch)
    {
        int sp = student.Config.NumPrefixTokens, tp = teacher.Config.NumPrefixTokens;
        Tensor Of(IReadOnlyList<Tensor> list, int[] blocks, int layer, string what, string model)
        {
            int i = Array.IndexOf(blocks, layer);
            if (i < 0 || i >= list.Count)
                throw new InvalidOperationException($"Distiller: the {model}'s ForwardIntermediates returned {list.Count} {what} for blocks [{string.Join(", ", blocks)}]; block {layer} is missing.");
            return list[i];
        }
        Tensor S(IReadOnlyList<Tensor> list, int layer, string what) => Of(list, sBlocks, layer, what, "student");
        Tensor T(IReadOnlyList<Tensor> list, int layer, string what) => Of(list, tBlocks, layer, what, "teacher");
        Tensor? total = null;
        void Add(Tensor term) => total = total is null ? term : total + term;
        int layers = sLayers.Length;
        if (hp.HintWeight > 0)
        {
            var sf = sLayers.Select(i => ManifoldDistillation.PatchTokens(S(s.BlockOutputs, i, "block outputs"), sp)).ToArray();   // (B, N, D_s) each
            var tf = tLayers.Select(i => ManifoldDistillation.PatchTokens(T(t.BlockOutputs, i, "block outputs"), tp)).ToArray();   // (B, N, D_t) each
            Add(FeatureDistillation.Hints(sf, tf, regressors!.Cast<HintRegressor?>().ToArray()) * hp.HintWeight);
        }
        if (hp.AttentionWeight > 0)
            Add(AttentionDistillation.KlLayers(sLayers.Select(i => CommonAttention(S(s.Attentions, i, "attention maps"), sp, tp)).ToArray(),
                tLayers.Select(i => CommonAttention(T(t.Attentions, i, "attention maps"), tp, sp)).ToArray(), hp.AttentionHeads) * hp.AttentionWeight);
        if (hp.RelationWeight > 0)
            Add(RelationDistillation.QkvRelationLayers(sLayers.Select(i => CommonTokens(S(s.Qkv, i, "qkv projections"), 1, sp, tp)).ToArray(),
                tLayers.Select(i => CommonTokens(T(t.Qkv, i, "qkv projections"), 1, tp, sp)).ToArray(), hp.RelationHeads) * hp.RelationWeight);
        if (hp.ManifoldWeight > 0)
        {
            // K patches drawn from a generator fixed by (seed, epoch, batch): deterministic and identical after a resume.
            var g = Seed.Generator(unchecked((ulong)hp.Training.Seed), ManifoldStream, unchecked((ulong)batch.Epoch), unchecked((ulong)batch.BatchIndex));
            Tensor? m = null;
            for (int l = 0; l < layers; l++)
            {
                var losses = ManifoldDistillation.Compute(ManifoldDistillation.PatchTokens(S(s.BlockOutputs, sLayers[l], "block outputs"), sp),
                    ManifoldDistillation.PatchTokens(T(t.BlockOutputs, tLayers[l], "block outputs"), tp), hp.ManifoldSamples, g);
                var w = losses.Weighted(hp.ManifoldPatchWeight, hp.ManifoldSampleWeight, hp.ManifoldRandomWeight);
                m = m is null ? w : m + w;
            }
            Add(m! * (hp.ManifoldWeight / layers));
        }
        return total!;
    }
}
