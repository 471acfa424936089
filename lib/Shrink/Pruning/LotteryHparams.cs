using Shrink.Experiments;
using Shrink.Training;

namespace Shrink.Pruning;

/// <summary>
/// Iterative magnitude pruning with rewinding (Frankle &amp; Carbin 2019; Frankle et al. 2020, "Linear mode connectivity
/// and the lottery ticket hypothesis"; open_lth's <c>lottery</c> command). With θ_0 the initialisation (seed
/// <see cref="ModelSeed"/>), T the training length and k = <see cref="RewindStep"/>:
/// <code>
/// level 0: train θ_0 for T steps (dense) → θ_T^(0); θ_k is the state after k of those steps
/// level L ≥ 1: m_L = prune(m_{L−1}, |θ_T^(L−1)|)           — remove a fraction p of the remaining weights
///              train m_L ⊙ θ_k from step k to T           — same schedule positions and data order as level 0
///              → θ_T^(L), sparsity 1 − (1 − p)^L
/// </code>
/// k = 0 is the original lottery ticket; k &gt; 0 is late rewinding. Each level is one cached run (a
/// <see cref="RunFolder"/> named from <see cref="LotteryLevelHparams"/>), so a notebook re-run only trains what changed.
/// </summary>
public sealed record LotteryHparams : Hparams
{
    /// <summary>How each level is trained (the same recipe at every level).</summary>
    public TrainingHparams Training { get; init; } = new();

    /// <summary>How each level prunes (fraction of the remaining weights, global/layerwise, ignore list).</summary>
    public PruningHparams Pruning { get; init; } = new();

    /// <summary>Names the architecture (e.g. <c>"lenet_300_100"</c>); it only identifies the runs, the model comes from the factory. Default empty.</summary>
    public string Model { get; init; } = "";

    /// <summary>Seed the model factory gets for θ_0. Default 0.</summary>
    public int ModelSeed { get; init; }

    /// <summary>Rewind step k (e.g. <c>"0it"</c>, <c>"500it"</c>, <c>"1ep"</c>); must be before the end of training. Default 0 (the lottery ticket).</summary>
    public Step RewindStep { get; init; } = Step.Zero;

    /// <summary>Number of pruning levels after the dense level 0. It does not enter the name of a level's run. Default 5.</summary>
    public int Levels { get; init; } = 5;

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the property otherwise.</summary>
    public void Validate()
    {
        Training.Validate();
        Pruning.Validate();
        if (Levels < 0) throw new ArgumentException($"LotteryHparams: Levels must be ≥ 0, got {Levels}.");
    }
}
