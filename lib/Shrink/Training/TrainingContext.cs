using System.Diagnostics;
using Shrink.Data;
using static TorchSharp.torch;

namespace Shrink.Training;

/// <summary>
/// What the loop and its callbacks share during one <see cref="Trainer.Fit(nn.Module{Tensor, Tensor}, ImageDataset, ImageDataset?, string?, CancellationToken)"/>
/// call: the configuration, the model and optimiser, the run folder, the trainer state (step, window sums, history) and
/// what the step just finished produced.
/// </summary>
internal sealed class TrainingContext
{
    public required Trainer Trainer { get; init; }
    public required TrainingHparams Hparams { get; init; }
    public required nn.Module<Tensor, Tensor> Model { get; init; }
    public required TrainingOptimizer Optimizer { get; init; }
    public required LearningRateSchedule Schedule { get; init; }
    public required Device Device { get; init; }
    public required ImageDataset Train { get; init; }
    public required ImageDataset? Test { get; init; }
    public required Normalization? Normalization { get; init; }
    public required DataLoader Loader { get; init; }

    /// <summary>RunName.Canonical of the hyperparameters (plus the start step), the identity of every file in the folder.</summary>
    public required string Canonical { get; init; }

    /// <summary>The run folder (full path), or null.</summary>
    public required string? Folder { get; init; }

    /// <summary>Iterations per epoch I, total steps T, and the evaluation / checkpoint periods in steps (0 = only at the end).</summary>
    public required int PerEpoch { get; init; }
    public required int Total { get; init; }
    public required int EvalEvery { get; init; }
    public required int CheckpointEvery { get; init; }

    /// <summary>The trainer state; replaced by the checkpoint's when resuming.</summary>
    public required TrainerState State { get; set; }

    /// <summary>Steps done (the next step to run).</summary>
    public int Step => State.Step;

    /// <summary>The step this session started from, and whether it resumed a checkpoint.</summary>
    public int SessionStart { get; set; }
    public bool Resumed { get; set; }

    /// <summary>Training seconds of earlier sessions, and this session's clocks.</summary>
    public double BaseSeconds { get; set; }
    public Stopwatch Session { get; } = new();
    public double StepSeconds { get; set; }
    public long SessionImages { get; set; }

    /// <summary>Wall-clock training seconds so far, over every session.</summary>
    public double Seconds => BaseSeconds + Session.Elapsed.TotalSeconds;

    /// <summary>The last step's loss and learning rate.</summary>
    public double LastLoss { get; set; } = double.NaN;
    public double LastLr => State.LastLr;

    /// <summary>The step the newest checkpoint on disk holds, or null.</summary>
    public int? CheckpointStep { get; set; }

    /// <summary>Set by the callbacks for the step that just finished: the evaluation it produced, whether a checkpoint was written.</summary>
    public TrainingMetrics? Evaluated { get; set; }
    public bool Checkpointed { get; set; }

    /// <summary>The checkpoint file, or null without a run folder.</summary>
    public string? CheckpointPath => Folder is null ? null : Path.Combine(Folder, Trainer.CheckpointFileName);

    /// <summary>True when step count <paramref name="t"/> ≥ 1 is a multiple of <paramref name="every"/> (&gt; 0) or the last step.</summary>
    public bool IsDue(int every, int t) => (every > 0 && t % every == 0) || t == Total;

    /// <summary>Sends a report to <see cref="Trainer.Progress"/>.</summary>
    public void Report(TrainingProgress p) => Trainer.Progress?.Report(p);
}
