using System.Text.Json;
using Shrink.Experiments;
using Shrink.IO;
using static TorchSharp.torch;

namespace Shrink.Training;

/// <summary>
/// The run folder's files: restores <c>checkpoint.safetensors</c> before training, replaces it atomically every
/// <see cref="TrainingHparams.CheckpointEvery"/> steps, at the end and on cancellation, and at the end writes
/// <c>model.safetensors</c> (the state dict alone, timm names, on the CPU) and then <c>result.json</c>, which marks
/// the run as finished. Nothing is written when a step diverges, so the last good checkpoint stays.
/// </summary>
internal sealed class CheckpointCallback : TrainingCallback
{
    /// <summary>Loads the folder's checkpoint, if any, into the model, the optimiser and <see cref="TrainingContext.State"/>.</summary>
    public static void Restore(TrainingContext ctx)
    {
        var path = ctx.CheckpointPath;
        if (path is null || !File.Exists(path)) return;
        ctx.State = TrainerCheckpoint.Load(path, ctx.Model, ctx.Optimizer, ctx.State, ctx.Trainer.StepSeed);
        ctx.CheckpointStep = ctx.State.Step;
        ctx.Resumed = true;
    }

    public override void OnStepEnd(TrainingContext ctx)
    {
        ctx.Checkpointed = false;
        if (ctx.Folder is null || !ctx.IsDue(ctx.CheckpointEvery, ctx.Step)) return;
        Save(ctx);
        ctx.Checkpointed = true;
    }

    public override void OnCancel(TrainingContext ctx)
    {
        if (ctx.Folder is not null && ctx.CheckpointStep != ctx.Step) Save(ctx);
    }

    public override void OnEnd(TrainingContext ctx)
    {
        if (ctx.Folder is null) return;
        using (NewDisposeScope())
        {
            var weights = ctx.Model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().cpu().contiguous(), StringComparer.Ordinal);
            var metadata = new Dictionary<string, string> { ["format"] = "shrink-model-1", ["hparams"] = ctx.Canonical };
            AtomicFile.WriteAllBytes(Path.Combine(ctx.Folder, Trainer.ModelFileName), SafeTensors.Serialize(weights, metadata));
        }
        var state = ctx.State;
        var result = new RunResultFile
        {
            Hparams = ctx.Canonical, TotalSteps = ctx.Total, IterationsPerEpoch = ctx.PerEpoch, Seconds = state.Seconds,
            NormalizationMean = ctx.Normalization?.Mean.ToArray(), NormalizationStd = ctx.Normalization?.Std.ToArray(),
            History = state.History,
        };
        AtomicFile.WriteAllText(Path.Combine(ctx.Folder, Trainer.ResultFileName), JsonSerializer.Serialize(result, TrainerJson.Indented) + "\n");
    }

    private static void Save(TrainingContext ctx)
    {
        var state = ctx.State;
        state.Seconds = ctx.Seconds;
        state.DataEpoch = state.Step / ctx.PerEpoch;
        state.DataBatch = state.Step % ctx.PerEpoch;
        state.NextStepSeed = ctx.Trainer.StepSeed(state.Step);
        TrainerCheckpoint.Save(ctx.CheckpointPath!, ctx.Model, ctx.Optimizer, state);
        ctx.CheckpointStep = state.Step;
    }
}
