using System.Text.Json;
using Shrink.Experiments;

namespace Shrink.Training;

/// <summary>
/// Keeps the run folder's <c>log.jsonl</c>: one JSON line per evaluation (<see cref="TrainingMetrics"/>, snake_case).
/// At the start it is rewritten (atomically) to exactly the evaluations the state knows, dropping lines a killed
/// session wrote after its last checkpoint; then each evaluation appends its line.
/// </summary>
internal sealed class LogCallback : TrainingCallback
{
    private string? _path;

    public override void OnStart(TrainingContext ctx)
    {
        if (ctx.Folder is null) return;
        _path = Path.Combine(ctx.Folder, Trainer.LogFileName);
        AtomicFile.WriteAllText(_path, string.Concat(ctx.State.History.Select(m => Line(m) + "\n")));
    }

    public override void OnStepEnd(TrainingContext ctx)
    {
        if (_path is not null && ctx.Evaluated is { } m) File.AppendAllText(_path, Line(m) + "\n");
    }

    private static string Line(TrainingMetrics m) => JsonSerializer.Serialize(m, TrainerJson.Compact);
}
