namespace Shrink.Pruning;

/// <summary>Which of the remaining weights are pruned.</summary>
public enum PruningMethod
{
    /// <summary>Those with the smallest |w| (magnitude pruning).</summary>
    Magnitude,

    /// <summary>Uniformly random ones, with the same counts as magnitude pruning would remove (the random-pruning control).</summary>
    Random,
}
