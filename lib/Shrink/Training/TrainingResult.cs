using static TorchSharp.torch;

namespace Shrink.Training;

/// <summary>What <see cref="Trainer.Fit(nn.Module{Tensor, Tensor}, Data.ImageDataset, Data.ImageDataset?, string?, CancellationToken)"/> returns: the trained model and its evaluation history.</summary>
public sealed record TrainingResult
{
    /// <summary>The trained model (the instance passed in, or the one the factory built), in evaluation mode, on the run's device.</summary>
    public required nn.Module<Tensor, Tensor> Model { get; init; }

    /// <summary>Every evaluation in step order (the lines of <c>log.jsonl</c>).</summary>
    public required IReadOnlyList<TrainingMetrics> History { get; init; }

    /// <summary>The last evaluation (after the final step), or null when there was none.</summary>
    public TrainingMetrics? Final => History.Count > 0 ? History[^1] : null;

    /// <summary>Test accuracy after the final step, or null without a test set.</summary>
    public double? TestAccuracy => Final?.TestAccuracy;

    /// <summary>The run folder, or null when training without one.</summary>
    public string? RunFolder { get; init; }

    /// <summary>True when the run folder already held this finished run and nothing was trained.</summary>
    public bool Reused { get; init; }

    /// <summary>The step this call resumed from (0 for a fresh start; <see cref="TotalSteps"/> when reused).</summary>
    public int ResumedFromStep { get; init; }

    /// <summary>Training steps executed by this call.</summary>
    public int StepsTrained { get; init; }

    /// <summary>Total steps T of the run.</summary>
    public int TotalSteps { get; init; }

    /// <summary>The input normalisation used for training and evaluation (null for v/255); use it for any later evaluation of <see cref="Model"/>.</summary>
    public Data.Normalization? Normalization { get; init; }

    /// <summary>Wall-clock seconds of training in total (over every session that contributed).</summary>
    public double Seconds { get; init; }
}
