using System.Text.Json;
using Shrink.Experiments;
using Shrink.IO;
using Shrink.Torch;
using static TorchSharp.torch;

namespace Shrink.Training;

/// <summary>
/// A trainer checkpoint: one safetensors file, serialised in memory and written atomically (temporary file, flush to
/// disk, rename — a <c>kill -9</c> at any moment leaves the previous checkpoint or the new one, never half of one),
/// holding the model's state dict under <c>model.{name}</c>, the optimiser's per-parameter state under
/// <c>optimizer.{parameter}.{exp_avg | exp_avg_sq | momentum_buffer}</c>, and in its metadata <c>format</c> =
/// <c>shrink-trainer-checkpoint-2</c> and <c>trainer_state</c> = the <see cref="TrainerState"/> JSON (step, data
/// position, RNG seed of the next step, AdamW step counts, evaluation window, history).
/// </summary>
internal static class TrainerCheckpoint
{
    public const string Format = "shrink-trainer-checkpoint-2";
    private const string ModelPrefix = "model.", OptimizerPrefix = "optimizer.";

    public static void Save(string path, nn.Module model, TrainingOptimizer optimizer, TrainerState state)
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in model.state_dict()) tensors.Add(ModelPrefix + k, v.detach().cpu().contiguous());
        var (optimizerTensors, steps) = optimizer.State();
        foreach (var (k, v) in optimizerTensors) tensors.Add(OptimizerPrefix + k, v.detach().cpu().contiguous());
        state.OptimizerSteps = steps;
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["trainer_state"] = JsonSerializer.Serialize(state, TrainerJson.Compact),
        };
        AtomicFile.WriteAllBytes(path, SafeTensors.Serialize(tensors, metadata));
    }

    /// <summary>
    /// Loads the checkpoint at <paramref name="path"/> into <paramref name="model"/> and <paramref name="optimizer"/> after
    /// checking that it was written by the same configuration on the same data (<paramref name="expected"/>).
    /// </summary>
    /// <exception cref="RunFileException">The file is corrupt, not a trainer checkpoint, or of another configuration, data set or model.</exception>
    public static TrainerState Load(string path, nn.Module model, TrainingOptimizer optimizer, TrainerState expected, Func<int, ulong> stepSeed)
    {
        const string Restart = "Delete it to restart training from step 0.";
        IReadOnlyDictionary<string, string> metadata;
        Dictionary<string, Tensor> tensors;
        try
        {
            metadata = SafeTensors.ReadMetadata(path);
            tensors = SafeTensors.Load(path);
        }
        catch (SafeTensorsFormatException e)
        {
            throw new RunFileException(path, $"is not a readable checkpoint: {e.Problem} {Restart}", e);
        }
        try { return Restore(path, metadata, tensors, model, optimizer, expected, stepSeed); }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }

    private static TrainerState Restore(string path, IReadOnlyDictionary<string, string> metadata, Dictionary<string, Tensor> tensors,
        nn.Module model, TrainingOptimizer optimizer, TrainerState expected, Func<int, ulong> stepSeed)
    {
        const string Restart = "Delete it to restart training from step 0.";
        if (!metadata.TryGetValue("format", out var format) || format != Format)
            throw new RunFileException(path, $"is not a Shrink trainer checkpoint (its metadata 'format' is {(format is null ? "missing" : $"'{format}'")}, expected '{Format}'). {Restart}");
        if (!metadata.TryGetValue("trainer_state", out var json))
            throw new RunFileException(path, $"lacks the 'trainer_state' metadata. {Restart}");
        TrainerState state;
        try { state = JsonSerializer.Deserialize<TrainerState>(json, TrainerJson.Compact) ?? throw new JsonException("null state"); }
        catch (JsonException e) { throw new RunFileException(path, $"has an unreadable trainer state ({e.Message}). {Restart}", e); }
        state.History ??= [];
        state.OptimizerSteps ??= [];
        if (state.Format != TrainerState.CurrentFormat)
            throw new RunFileException(path, $"has trainer state format '{state.Format}', expected '{TrainerState.CurrentFormat}'. {Restart}");
        if (state.Hparams != expected.Hparams)
            throw new RunFileException(path, $"was written for {state.Hparams}, but this trainer has {expected.Hparams}. Give each configuration its own folder (RunFolder.For(root, hparams)), or delete the checkpoint.");
        if (state.IterationsPerEpoch != expected.IterationsPerEpoch || state.TrainCount != expected.TrainCount)
            throw new RunFileException(path, $"was written for a training set of {state.TrainCount} images ({state.IterationsPerEpoch} batches per epoch), but this one has {expected.TrainCount} ({expected.IterationsPerEpoch} batches per epoch). The data changed: use a new run folder, or delete the checkpoint.");
        if (state.TotalSteps != expected.TotalSteps || state.Step < 0 || state.Step > state.TotalSteps)
            throw new RunFileException(path, $"is at step {state.Step} of {state.TotalSteps}, which does not fit this run of {expected.TotalSteps} steps. {Restart}");
        if (state.DataEpoch != state.Step / state.IterationsPerEpoch || state.DataBatch != state.Step % state.IterationsPerEpoch || state.NextStepSeed != stepSeed(state.Step))
            throw new RunFileException(path, $"has a data position (epoch {state.DataEpoch}, batch {state.DataBatch}) or RNG seed that does not belong to step {state.Step}. {Restart}");

        var modelState = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var optimizerState = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in tensors)
        {
            if (k.StartsWith(ModelPrefix, StringComparison.Ordinal)) modelState[k[ModelPrefix.Length..]] = v;
            else if (k.StartsWith(OptimizerPrefix, StringComparison.Ordinal)) optimizerState[k[OptimizerPrefix.Length..]] = v;
            else throw new RunFileException(path, $"holds an unexpected tensor '{k}' (neither model.* nor optimizer.*). {Restart}");
        }
        try { model.LoadStateDictChecked(modelState, strict: true, source: path); }
        catch (ArgumentException e) { throw new RunFileException(path, $"does not fit this model: {e.Message}", e); }
        try { optimizer.Load(optimizerState, state.OptimizerSteps); }
        catch (ArgumentException e) { throw new RunFileException(path, $"holds optimizer state that does not fit this model's optimizer: {e.Message}. {Restart}", e); }
        return state;
    }
}
