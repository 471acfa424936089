using Shrink.Tensors;
using F = Shrink.Tensors.Functional;

namespace Shrink.Distillation;

/// <summary>
/// Feature ("hint") distillation, FitNets (Romero et al. 2015) as MiniViT's <c>cal_hidden_loss</c> computes it: the mean
/// squared error between the student's regressed features and the teacher's,
/// L = (1/(B·T·D_t))·Σ ‖r(F_s) − F_t‖², with r a learned <see cref="HintRegressor"/> (or the identity when the widths
/// agree and no regressor is given). Several layer pairs are averaged by <see cref="Hints"/>.
/// </summary>
public static class FeatureDistillation
{
    /// <summary>
    /// mean((r(F_s) − F_t)²) over all elements, F_s (B, T, D_s) from the student, F_t (B, T, D_t) from the teacher (a
    /// constant: computed under no-grad, or detached here). r = <paramref name="regressor"/>, or the identity when null.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not fit (token counts differ, or widths differ without a regressor).</exception>
    public static Tensor Hint(Tensor studentFeatures, Tensor teacherFeatures, HintRegressor? regressor = null)
    {
        ArgumentNullException.ThrowIfNull(studentFeatures);
        ArgumentNullException.ThrowIfNull(teacherFeatures);
        var projected = regressor is null ? studentFeatures : regressor.Forward(studentFeatures);
        if (!projected.Shape.SequenceEqual(teacherFeatures.Shape))
            throw new ArgumentException($"FeatureDistillation.Hint: student features ({string.Join(", ", studentFeatures.Shape)})" +
                (regressor is null ? "" : $" regressed to ({string.Join(", ", projected.Shape)})") +
                $" do not match the teacher's ({string.Join(", ", teacherFeatures.Shape)})" + (regressor is null ? "; give a HintRegressor when the widths differ." : "."));
        return F.Mse(projected, Detached(teacherFeatures));
    }

    /// <summary>The average of <see cref="Hint"/> over layer pairs (student layer i with teacher layer i and regressor i).</summary>
    public static Tensor Hints(IReadOnlyList<Tensor> studentFeatures, IReadOnlyList<Tensor> teacherFeatures, IReadOnlyList<HintRegressor?>? regressors = null)
    {
        ArgumentNullException.ThrowIfNull(studentFeatures);
        ArgumentNullException.ThrowIfNull(teacherFeatures);
        if (studentFeatures.Count != teacherFeatures.Count || studentFeatures.Count == 0 || (regressors is not null && regressors.Count != studentFeatures.Count))
            throw new ArgumentException($"FeatureDistillation.Hints: {studentFeatures.Count} student layers, {teacherFeatures.Count} teacher layers and {regressors?.Count.ToString() ?? "no"} regressors (need equal, non-zero counts).");
        Tensor? sum = null;
        for (int i = 0; i < studentFeatures.Count; i++)
        {
            var l = Hint(studentFeatures[i], teacherFeatures[i], regressors?[i]);
            sum = sum is null ? l : sum + l;
        }
        return studentFeatures.Count == 1 ? sum! : sum! * (1f / studentFeatures.Count);
    }

    /// <summary>The tensor itself when it records no gradient, else a detached copy (teacher activations are constants).</summary>
    internal static Tensor Detached(Tensor t) => t.RequiresGrad ? t.Detach() : t;
}
