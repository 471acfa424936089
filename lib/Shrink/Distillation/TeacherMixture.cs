using static TorchSharp.torch;

namespace Shrink.Distillation;

/// <summary>
/// A weighted mixture of several teachers' targets, the single target of multi-teacher Hinton/DeiT distillation:
/// p = Σ_m w_m·softmax(z_m/τ) with the weights normalised to sum to 1 (so p is a distribution). Uniform weights average
/// the teachers' softened distributions (the usual "ensemble of teachers" target; HPM-KD's per-sample attention replaces
/// w_m by a learned function of the input). The result feeds <see cref="DistillationLoss.HintonFromTargets"/>.
/// </summary>
public static class TeacherMixture
{
    /// <summary>
    /// Σ_m w̃_m·targets_m with w̃ = w / Σw (uniform when <paramref name="weights"/> is null); every target (B, C) is a
    /// teacher's softmax(z_m/τ), all on one device. Computed without gradient.
    /// </summary>
    /// <exception cref="ArgumentException">No teachers, shapes differ, a weight is negative or not finite, or all weights are 0.</exception>
    public static Tensor Targets(IReadOnlyList<Tensor> teacherTargets, IReadOnlyList<double>? weights = null)
    {
        ArgumentNullException.ThrowIfNull(teacherTargets);
        if (teacherTargets.Count == 0) throw new ArgumentException("TeacherMixture: at least one teacher is needed.");
        var w = NormalizedWeights(teacherTargets.Count, weights);
        var first = teacherTargets[0] ?? throw new ArgumentNullException(nameof(teacherTargets), "TeacherMixture: teacher 0's targets are null.");
        for (int m = 0; m < teacherTargets.Count; m++)
        {
            var t = teacherTargets[m] ?? throw new ArgumentNullException(nameof(teacherTargets), $"TeacherMixture: teacher {m}'s targets are null.");
            if (t.dim() != 2 || !t.shape.SequenceEqual(first.shape))
                throw new ArgumentException($"TeacherMixture: teacher {m}'s targets have shape ({DistillationLoss.Shape(t)}), teacher 0's ({DistillationLoss.Shape(first)}); expected (B, C) each.");
            if (!DistillationLoss.SameDevice(t, first))
                throw new ArgumentException($"TeacherMixture: teacher {m}'s targets live on {t.device}, teacher 0's on {first.device}.");
        }
        using var _ = no_grad();
        Tensor? sum = null;
        for (int m = 0; m < teacherTargets.Count; m++)
        {
            if (w[m] == 0) continue;
            var term = teacherTargets[m] * w[m];                  // (B, C)
            sum = sum is null ? term : sum + term;
        }
        return sum!;
    }

    /// <summary>The weights divided by their sum (1/M each when <paramref name="weights"/> is null).</summary>
    /// <exception cref="ArgumentException">Wrong count, a negative or non-finite weight, or a zero sum.</exception>
    public static double[] NormalizedWeights(int teachers, IReadOnlyList<double>? weights)
    {
        if (weights is null) return Enumerable.Repeat(1.0 / teachers, teachers).ToArray();
        if (weights.Count != teachers) throw new ArgumentException($"TeacherMixture: {weights.Count} weights for {teachers} teachers.");
        double s = 0;
        for (int m = 0; m < weights.Count; m++)
        {
            if (!(weights[m] >= 0 && double.IsFinite(weights[m]))) throw new ArgumentException($"TeacherMixture: weight {m} must be finite and ≥ 0, got {weights[m]}.");
            s += weights[m];
        }
        if (s == 0) throw new ArgumentException("TeacherMixture: the weights sum to 0.");
        return weights.Select(x => x / s).ToArray();
    }
}
