namespace Shrink.Training;

/// <summary>
/// Training produced a non-finite loss or gradient (NaN or ±∞) and was stopped before the optimiser applied it. The
/// message names the quantity, its value, the step, epoch and batch; the run folder's last checkpoint (if any) is left
/// untouched, so a run with a lower learning rate or gradient clipping can start over, and the diverged step can be
/// reproduced by resuming from that checkpoint.
/// </summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(string quantity, double value, int step, int epoch, int batch, string? checkpointPath, int? checkpointStep)
        : base(Compose(quantity, value, step, epoch, batch, checkpointPath, checkpointStep))
    {
        Quantity = quantity; Value = value; Step = step; Epoch = epoch; Batch = batch;
        CheckpointPath = checkpointPath; CheckpointStep = checkpointStep;
    }

    /// <summary>What became non-finite, e.g. "the loss" or "the gradient of fc1.weight".</summary>
    public string Quantity { get; }

    /// <summary>The offending value (NaN, +∞ or −∞).</summary>
    public double Value { get; }

    /// <summary>The 0-based training step t at which it happened.</summary>
    public int Step { get; }

    /// <summary>The 0-based epoch of that step.</summary>
    public int Epoch { get; }

    /// <summary>The batch index within the epoch.</summary>
    public int Batch { get; }

    /// <summary>The last good checkpoint, left untouched, or null when none was written.</summary>
    public string? CheckpointPath { get; }

    /// <summary>The number of steps the last good checkpoint holds, or null.</summary>
    public int? CheckpointStep { get; }

    private static string Compose(string quantity, double value, int step, int epoch, int batch, string? path, int? ckptStep)
    {
        var where = System.FormattableString.Invariant($"Training diverged at step {step} (epoch {epoch}, batch {batch}): {quantity} is {value}.");
        var kept = path is null || ckptStep is null
            ? " No checkpoint had been written."
            : System.FormattableString.Invariant($" The last good checkpoint (after {ckptStep} steps) is kept untouched at '{path}'.");
        return where + kept + " Try a lower learning rate, a longer warm-up or gradient clipping (TrainingHparams.GradClip).";
    }
}
