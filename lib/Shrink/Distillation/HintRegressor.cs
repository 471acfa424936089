using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Distillation;

/// <summary>
/// FitNets' regressor r: a learned Linear map from the student's feature width to the teacher's, r(F) = F·Wᵀ + b
/// applied to every token, (…, D_s) → (…, D_t), parameters <c>proj.weight</c> (D_t, D_s) and <c>proj.bias</c>.
/// It is trained together with the student (a <see cref="Distiller"/> registers its regressors next to the student, so
/// the trainer's optimiser updates them) and discarded after distillation.
/// </summary>
public sealed class HintRegressor : nn.Module<Tensor, Tensor>
{
    private readonly Linear proj;

    /// <summary>The projection (student width → teacher width), timm-style name <c>proj</c>.</summary>
    public Linear Proj => proj;

    /// <summary>
    /// Creates a regressor from <paramref name="studentDim"/> to <paramref name="teacherDim"/> features with PyTorch's
    /// Linear initialisation, weight and bias ~ U(−1/√D_s, 1/√D_s) (kaiming_uniform with a = √5), drawn from
    /// <paramref name="generator"/> (e.g. <see cref="Torch.Seed.Generator(ulong, ReadOnlySpan{ulong})"/>) when given.
    /// The module is built on the CPU; move it with <c>.to(device)</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A width is not positive.</exception>
    public HintRegressor(int studentDim, int teacherDim, Generator? generator = null) : base(nameof(HintRegressor))
    {
        if (studentDim < 1) throw new ArgumentOutOfRangeException(nameof(studentDim), $"HintRegressor: the student width must be ≥ 1, got {studentDim}.");
        if (teacherDim < 1) throw new ArgumentOutOfRangeException(nameof(teacherDim), $"HintRegressor: the teacher width must be ≥ 1, got {teacherDim}.");
        proj = nn.Linear(studentDim, teacherDim, hasBias: true);
        if (generator is not null)
        {
            double bound = 1.0 / Math.Sqrt(studentDim);
            using var _ = no_grad();
            proj.weight!.uniform_(-bound, bound, generator);
            proj.bias!.uniform_(-bound, bound, generator);
        }
        RegisterComponents();
    }

    /// <summary>r(F): (…, D_s) → (…, D_t).</summary>
    public override Tensor forward(Tensor input) => proj.forward(input);   // (…, D_t)
}
