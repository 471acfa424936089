namespace Shrink.Training;

/// <summary>
/// One evaluation during training: one line of a run's <c>log.jsonl</c> (snake_case keys: <c>step</c>, <c>epoch</c>,
/// <c>train_loss</c>, <c>train_accuracy</c>, <c>test_loss</c>, <c>test_accuracy</c>, <c>lr</c>, <c>seconds</c>).
/// </summary>
public sealed record TrainingMetrics
{
    /// <summary>Training steps completed when the evaluation ran (1-based count: the log line after step t = 0 says 1).</summary>
    public int Step { get; init; }

    /// <summary>Epochs completed, fractional: <see cref="Step"/> / iterations per epoch.</summary>
    public double Epoch { get; init; }

    /// <summary>Mean training loss (as optimised: label smoothing or a custom loss included) over the steps since the previous evaluation.</summary>
    public double TrainLoss { get; init; }

    /// <summary>Top-1 accuracy on the (augmented) training batches since the previous evaluation, in [0, 1].</summary>
    public double TrainAccuracy { get; init; }

    /// <summary>Mean plain cross-entropy on the test set (no label smoothing), or null without a test set.</summary>
    public double? TestLoss { get; init; }

    /// <summary>Top-1 accuracy on the test set in [0, 1], or null without a test set.</summary>
    public double? TestAccuracy { get; init; }

    /// <summary>Learning rate of the last step before the evaluation.</summary>
    public double Lr { get; init; }

    /// <summary>Wall-clock seconds spent in training so far (summed over resumed sessions; evaluations and checkpoints included).</summary>
    public double Seconds { get; init; }
}

/// <summary>Loss and top-1 accuracy of a model on a dataset (<see cref="Trainer.Evaluate"/>).</summary>
/// <param name="Loss">Mean cross-entropy −log softmax(logits)[y] over the samples.</param>
/// <param name="Accuracy">Fraction of samples whose arg-max logit is the label (the first maximum on ties).</param>
/// <param name="Count">Number of samples.</param>
public sealed record EvalResult(double Loss, double Accuracy, int Count);
