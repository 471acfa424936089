namespace Shrink.Training;

/// <summary>What a <see cref="TrainingProgress"/> report is about.</summary>
public enum TrainingEvent
{
    /// <summary>Training starts from step 0.</summary>
    Started,
    /// <summary>Training continues from the checkpoint in the run folder (<see cref="TrainingProgress.Step"/> steps done).</summary>
    Resumed,
    /// <summary>The run folder already holds this finished run; it was loaded and nothing was trained.</summary>
    Reused,
    /// <summary>One training step finished.</summary>
    Step,
    /// <summary>An evaluation finished; <see cref="TrainingProgress.Metrics"/> holds it.</summary>
    Evaluated,
    /// <summary>A checkpoint was written.</summary>
    Checkpointed,
    /// <summary>Training finished and the final model was saved; <see cref="TrainingProgress.Metrics"/> holds the last evaluation.</summary>
    Finished,
}

/// <summary>
/// A progress report from a <see cref="Trainer"/>, sent synchronously on the training thread to
/// <see cref="Trainer.Progress"/> (an <see cref="IProgress{T}"/>; <see cref="ConsoleProgress"/> prints them).
/// Throwing from the handler stops training at once, like a crash (tests use this).
/// </summary>
public sealed record TrainingProgress
{
    /// <summary>What happened.</summary>
    public TrainingEvent Event { get; init; }

    /// <summary>Steps completed so far.</summary>
    public int Step { get; init; }

    /// <summary>Total steps T of the run.</summary>
    public int TotalSteps { get; init; }

    /// <summary>Iterations (batches) per epoch I.</summary>
    public int IterationsPerEpoch { get; init; }

    /// <summary>The 1-based epoch the last completed step belongs to (1 before the first step).</summary>
    public int Epoch => IterationsPerEpoch <= 0 ? 1 : Math.Max(1, (Step + IterationsPerEpoch - 1) / IterationsPerEpoch);

    /// <summary>Number of epochs ⌈T / I⌉.</summary>
    public int Epochs => IterationsPerEpoch <= 0 ? 0 : (TotalSteps + IterationsPerEpoch - 1) / IterationsPerEpoch;

    /// <summary>Loss of the last step (NaN before the first).</summary>
    public double Loss { get; init; } = double.NaN;

    /// <summary>Mean loss over the steps since the last evaluation (NaN when there are none).</summary>
    public double RunningLoss { get; init; } = double.NaN;

    /// <summary>Learning rate of the last step.</summary>
    public double Lr { get; init; }

    /// <summary>Training images per second in this session (steps only).</summary>
    public double ImagesPerSecond { get; init; }

    /// <summary>Wall-clock time of this session so far.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Estimated time to the end at this session's pace, or null before it can be estimated.</summary>
    public TimeSpan? Eta { get; init; }

    /// <summary>The evaluation, for <see cref="TrainingEvent.Evaluated"/>, <see cref="TrainingEvent.Finished"/> and <see cref="TrainingEvent.Reused"/>.</summary>
    public TrainingMetrics? Metrics { get; init; }

    /// <summary>The run folder, or null when training without one.</summary>
    public string? RunFolder { get; init; }

    /// <summary>A one-line human description (what <see cref="ConsoleProgress"/> prints for non-step events).</summary>
    public string Message { get; init; } = "";
}
