using Shrink.Experiments;
using Shrink.Training;

namespace Shrink.Landscape;

/// <summary>
/// Instability analysis (Frankle, Dziugaite, Roy, Carbin 2020): two copies of a network at step k trained to completion
/// with different SGD noise (data order and augmentation: <see cref="TrainingHparams.Seed"/> = each of
/// <see cref="DataSeeds"/>), then the error barrier on the linear path between them. The record names the copies' run
/// folders (each copy's identity is this record with <see cref="DataSeeds"/> reduced to its own seed).
/// </summary>
public sealed record InstabilityHparams : Hparams
{
    /// <summary>How the copies are trained (their <see cref="TrainingHparams.Seed"/> is replaced by the data seeds).</summary>
    public TrainingHparams Training { get; init; } = new();

    /// <summary>Names the starting network (e.g. the run folder of an IMP level and "start"); it only identifies the runs. Default empty.</summary>
    public string Start { get; init; } = "";

    /// <summary>The step k the copies start from (<see cref="Trainer.StartStep"/>). Default 0.</summary>
    public Step StartStep { get; init; } = Step.Zero;

    /// <summary>The two data-order seeds. Default [1, 2].</summary>
    public int[] DataSeeds { get; init; } = [1, 2];
}
