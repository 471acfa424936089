using System.Text.Json;
using Shrink.Data;
using Shrink.Experiments;
using Shrink.IO;
using Shrink.Torch;
using static TorchSharp.torch;

namespace Shrink.Training;

/// <summary>A finished run (<c>result.json</c> present) loaded instead of retrained: its model weights and history.</summary>
internal static class FinishedRun
{
    /// <exception cref="RunFileException"><c>result.json</c> or <c>model.safetensors</c> is unreadable, missing, or of another configuration or model.</exception>
    public static TrainingResult Load(Trainer trainer, nn.Module<Tensor, Tensor> model, string folder, string canonical)
    {
        var resultPath = Path.Combine(folder, Trainer.ResultFileName);
        RunResultFile result;
        try { result = JsonSerializer.Deserialize<RunResultFile>(File.ReadAllText(resultPath), TrainerJson.Compact) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new RunFileException(resultPath, $"is not a readable training result ({e.Message}). Delete it to retrain (the checkpoint, if any, is reused).", e); }
        if (result.Format != RunResultFile.CurrentFormat)
            throw new RunFileException(resultPath, $"has format '{result.Format}', expected '{RunResultFile.CurrentFormat}'. Delete it to retrain.");
        if (result.Hparams != canonical)
            throw new RunFileException(resultPath, $"holds a finished run of {result.Hparams}, but this trainer has {canonical}. Give each configuration its own folder (RunFolder.For(root, hparams)), or delete this one.");
        var modelPath = Path.Combine(folder, Trainer.ModelFileName);
        Dictionary<string, Tensor> weights;
        try { weights = SafeTensors.Load(modelPath); }
        catch (SafeTensorsFormatException e) { throw new RunFileException(modelPath, $"is not a readable model: {e.Problem} Delete it and {Trainer.ResultFileName} to retrain.", e); }
        catch (FileNotFoundException e) { throw new RunFileException(modelPath, $"is missing although {Trainer.ResultFileName} marks the run as finished. Delete {Trainer.ResultFileName} to retrain.", e); }
        try { model.LoadStateDictChecked(weights, strict: true, source: modelPath); }
        catch (ArgumentException e) { throw new RunFileException(modelPath, $"does not fit this model: {e.Message}", e); }
        finally { foreach (var t in weights.Values) t.Dispose(); }
        model.eval();
        var history = (result.History ?? []).ToArray();
        var final = history.Length > 0 ? history[^1] : null;
        Normalization? normalization = result.NormalizationMean is { } mean && result.NormalizationStd is { } std ? new Normalization(mean, std) : null;
        trainer.Progress?.Report(new TrainingProgress
        {
            Event = TrainingEvent.Reused, Step = result.TotalSteps, TotalSteps = result.TotalSteps, IterationsPerEpoch = result.IterationsPerEpoch,
            Metrics = final, RunFolder = folder,
            Message = $"Reusing the finished run in {folder} (not retrained)" + (final is null ? "" : ": " + ProgressCallback.Summary(final)),
        });
        return new TrainingResult
        {
            Model = model, History = history, RunFolder = folder, Reused = true, ResumedFromStep = result.TotalSteps,
            StepsTrained = 0, TotalSteps = result.TotalSteps, Normalization = normalization, Seconds = result.Seconds,
        };
    }
}
