using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Distillation;

/// <summary>
/// FitNets' regressor r: a learned Linear map from the student's feature width to the teacher's, r(F) = F·Wᵀ + b
/// applied to every token, (…, D_s) → (…, D_t), parameters <c>proj.weight</c> (D_t, D_s) and <c>proj.bias</c>.
/// It is trained together with the student (a <see cref="Distiller"/> registers its regressors next to the student, so
/// the trainer's optimiser updates them) and discarded after distillation.
/// </summary>
public sealed class HintRegressor : Module<Tensor, Tensor>
{
    /// <summary>The projection (student width → teacher width).</summary>
    public Linear Proj { get; }

    /// <summary>Creates a regressor from <paramref name="studentDim"/> to <paramref name="teacherDim"/> features (PyTorch Linear init from <paramref name="generator"/>).</summary>
    public HintRegressor(int studentDim, int teacherDim, Generator? generator = null)
    {
        Proj = RegisterModule("proj", new Linear(studentDim, teacherDim, true, generator));
    }

    /// <summary>r(F): (…, D_s) → (…, D_t).</summary>
    public override Tensor Forward(Tensor input) => Proj.Forward(input);
}
