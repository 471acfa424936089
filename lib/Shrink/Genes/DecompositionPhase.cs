using Shrink.Training;

namespace Shrink.Genes;

/// <summary>One phase of a <see cref="LearngeneDecomposition"/>: which learngenes it trained and how the model scored after it.</summary>
public sealed record DecompositionPhase
{
    /// <summary>1-based phase number.</summary>
    public required int Index { get; init; }
    /// <summary>k: the learngenes the model has after this phase (A₁ … A_k).</summary>
    public required int Learngenes { get; init; }
    /// <summary>The 1-based index of the first learngene trained in this phase (A_first … A_k trainable; A₁ … A_{first−1} frozen).</summary>
    public required int FirstTrained { get; init; }
    /// <summary>Parameters trained in this phase (new learngenes, plus the embeddings, norm and head when they train).</summary>
    public required long TrainableParameters { get; init; }
    /// <summary>Upstream test accuracy of the k-learngene model after the phase (null without a test set).</summary>
    public double? TestAccuracy { get; init; }
    /// <summary>Training steps of the phase.</summary>
    public required int Steps { get; init; }
    /// <summary>Training epochs of the phase (steps / batches per epoch), read from the last evaluation; null when there was none.</summary>
    public double? Epochs { get; init; }
    /// <summary>Wall-clock training seconds of the phase.</summary>
    public double Seconds { get; init; }
    /// <summary>True when the phase's run folder held the finished phase and nothing was trained.</summary>
    public bool Reused { get; init; }
    /// <summary>The phase's run folder (null without one).</summary>
    public string? RunFolder { get; init; }
    /// <summary>The phase's evaluation history.</summary>
    public IReadOnlyList<TrainingMetrics> History { get; init; } = [];
}
