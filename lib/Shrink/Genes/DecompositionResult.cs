using Shrink.Data;

namespace Shrink.Genes;

/// <summary>What <see cref="LearngeneDecomposition.Fit"/> returns: the decomposed model and every phase.</summary>
public sealed record DecompositionResult
{
    /// <summary>The decomposed model with all N learngenes, in evaluation mode, every parameter trainable again.</summary>
    public required LearngeneVit Model { get; init; }
    /// <summary>The phases in order (one for simultaneous training).</summary>
    public required IReadOnlyList<DecompositionPhase> Phases { get; init; }
    /// <summary>True for the simultaneous (SCT) control.</summary>
    public bool Simultaneous { get; init; }
    /// <summary>The input normalisation used upstream (null for v/255): use it to evaluate the model or its recompositions on upstream data.</summary>
    public Normalization? Normalization { get; init; }
    /// <summary>Training steps over all phases.</summary>
    public int TotalSteps => Phases.Sum(p => p.Steps);
    /// <summary>Training epochs over all phases (the cost of one decomposition), null when a phase has no evaluation.</summary>
    public double? TotalEpochs => Phases.All(p => p.Epochs is not null) ? Phases.Sum(p => p.Epochs!.Value) : null;
    /// <summary>Upstream test accuracy after the last phase (null without a test set).</summary>
    public double? TestAccuracy => Phases.Count > 0 ? Phases[^1].TestAccuracy : null;
}
