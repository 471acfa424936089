using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Shrink.Distillation;

/// <summary>
/// Feature ("hint") distillation, FitNets (Romero et al. 2015) as MiniViT's <c>cal_hidden_loss</c> computes it: the mean
/// squared error between the student's regressed features and the teacher's,
/// L = (1/(B·T·D_t))·Σ ‖r(F_s) − F_t‖² (<c>F.mse_loss</c>, mean), with r a learned <see cref="HintRegressor"/> (or the
/// identity when the widths agree and no regressor is given). Several layer pairs are averaged by <see cref="Hints"/>.
/// There is no α here: the <see cref="Distiller"/> adds w·L to the logit loss (<see cref="DistillationHparams.HintWeight"/>).
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
        if (regressor is not null && (studentFeatures.dim() < 1 || studentFeatures.shape[^1] != regressor.Proj.in_features))
            throw new ArgumentException($"FeatureDistillation.Hint: student features ({DistillationLoss.Shape(studentFeatures)}) do not end in the regressor's input width {regressor.Proj.in_features}.");
        var projected = regressor is null ? studentFeatures : regressor.forward(studentFeatures);   // (B, T, D_t)
        if (!projected.shape.SequenceEqual(teacherFeatures.shape))
            throw new ArgumentException($"FeatureDistillation.Hint: student features ({DistillationLoss.Shape(studentFeatures)})" +
                (regressor is null ? "" : $" regressed to ({DistillationLoss.Shape(projected)})") +
                $" do not match the teacher's ({DistillationLoss.Shape(teacherFeatures)})" + (regressor is null ? "; give a HintRegressor when the widths differ." : "."));
        return F.mse_loss(projected, teacherFeatures.detach());                                    // ()
    }

    /// <summary>The average of <see cref="Hint"/> over layer pairs (student layer i with teacher layer i and regressor i).</summary>
    public static Tensor Hints(IReadOnlyList<Tensor> studentFeatures, IReadOnlyList<Tensor> teacherFeatures, IReadOnlyList<HintRegressor?>? regressors = null)
    {
        ArgumentNullException.ThrowIfNull(studentFeatures);
        ArgumentNullException.ThrowIfNull(teacherFeatures);
        if (studentFeatures.Count != teacherFeatures.Count || studentFeatures.Count == 0 || (regressors is not null && regressors.Count != studentFeatures.Count))
            throw new ArgumentException($"FeatureDistillation.Hints: {studentFeatures.Count} student layers, {teacherFeatures.Count} teacher layers and {regressors?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no"} regressors (need equal, non-zero counts).");
        Tensor? sum = null;
        for (int i = 0; i < studentFeatures.Count; i++)
        {
            var l = Hint(studentFeatures[i], teacherFeatures[i], regressors?[i]);
            sum = sum is null ? l : sum + l;
        }
        return studentFeatures.Count == 1 ? sum! : sum! * (1.0 / studentFeatures.Count);
    }
}
