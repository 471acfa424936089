using Shrink.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Distillation;

/// <summary>
/// The module a <see cref="Distiller"/> hands to the <see cref="Training.Trainer"/>: the student (child <c>student</c>)
/// plus the FitNets regressors (child <c>hint_regressors</c>, when hint distillation is on), so the trainer's optimiser
/// updates both. <see cref="forward"/> returns the student's prediction (for a distilled ViT the average of its heads);
/// in training mode a <see cref="VisionTransformer"/> student runs
/// <see cref="VisionTransformer.ForwardIntermediates"/> with the <see cref="Intermediates"/> and block indices the loss
/// needs, and the full output (every head, and the requested block outputs, attention maps and qkv projections, entry
/// i belonging to <see cref="Indices"/>[i]) is kept in <see cref="LastOutput"/> for the loss to read.
/// </summary>
public sealed class DistillationStudent : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> student;
    private readonly ModuleList<HintRegressor>? hint_regressors;
    private readonly Intermediates _what;
    private readonly int[]? _indices;

    /// <summary>
    /// Wraps <paramref name="student"/>; <paramref name="regressors"/> (may be empty) train with it. In training mode a
    /// ViT student records <paramref name="what"/> for the blocks <paramref name="indices"/> (null = all blocks).
    /// </summary>
    public DistillationStudent(nn.Module<Tensor, Tensor> student, IReadOnlyList<HintRegressor> regressors,
        Intermediates what = Intermediates.None, IReadOnlyList<int>? indices = null) : base(nameof(DistillationStudent))
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(regressors);
        this.student = student;
        hint_regressors = regressors.Count > 0 ? new ModuleList<HintRegressor>(regressors.ToArray()) : null;
        _what = what;
        _indices = indices?.ToArray();
        RegisterComponents();
    }

    /// <summary>The student.</summary>
    public nn.Module<Tensor, Tensor> Student => student;

    /// <summary>The FitNets regressors, or null.</summary>
    public ModuleList<HintRegressor>? Regressors => hint_regressors;

    /// <summary>The intermediates a training-mode pass records.</summary>
    public Intermediates What => _what;

    /// <summary>The student blocks whose intermediates are recorded (null = all), in the order of <see cref="LastOutput"/>'s lists.</summary>
    public IReadOnlyList<int>? Indices => _indices;

    /// <summary>The student's full output of the last training-mode forward pass (null before one, and for evaluation passes).</summary>
    public VitOutput? LastOutput { get; private set; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        if (!training)
        {
            LastOutput = null;
            return student.forward(input);                                      // (B, K)
        }
        var output = student is VisionTransformer vit
            ? vit.ForwardIntermediates(input, _what, _indices)
            : new VitOutput(student.forward(input), null, [], []);
        LastOutput = output;
        return output.Prediction;                                               // (B, K)
    }
}
