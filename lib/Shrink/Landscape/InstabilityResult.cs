using Shrink.Training;

namespace Shrink.Landscape;

/// <summary>The two trained copies of an instability analysis and the linear path between them.</summary>
/// <param name="CopyA">The copy trained with the first data seed.</param>
/// <param name="CopyB">The copy trained with the second data seed.</param>
/// <param name="Curve">Loss and error from copy A (α = 0) to copy B (α = 1) on the evaluator's data.</param>
/// <param name="Distance">‖θ_A − θ_B‖₂.</param>
public sealed record InstabilityResult(TrainingResult CopyA, TrainingResult CopyB, InterpolationCurve Curve, double Distance)
{
    /// <summary>The instability: the error barrier between the copies (Frankle et al. 2020 call a network stable when it is ≲ 2%).</summary>
    public double Instability => Curve.ErrorBarrier;
}
