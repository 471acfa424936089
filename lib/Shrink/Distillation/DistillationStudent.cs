using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Distillation;

/// <summary>
/// The module a <see cref="Distiller"/> hands to the <see cref="Training.Trainer"/>: the student (child <c>student</c>)
/// plus the FitNets regressors (child <c>hint_regressors</c>, when hint distillation is on), so the trainer's optimiser
/// updates both. <see cref="Forward"/> returns the student's prediction (for a distilled ViT the average of its heads);
/// in training mode a <see cref="VisionTransformer"/> student runs <see cref="VisionTransformer.ForwardFeatures"/> and the
/// full output (every head, and the block outputs, attention maps and qkv projections the loss needs) is kept in
/// <see cref="LastOutput"/> for the loss to read.
/// </summary>
public sealed class DistillationStudent : Module<Tensor, Tensor>
{
    /// <summary>Wraps <paramref name="student"/>; <paramref name="regressors"/> (may be empty) train with it.</summary>
    public DistillationStudent(Module<Tensor, Tensor> student, IReadOnlyList<HintRegressor> regressors, bool blockOutputs = false, bool attentions = false, bool qkv = false)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(regressors);
        Student = RegisterModule("student", student);
        Regressors = regressors.Count > 0 ? RegisterModule("hint_regressors", new ModuleList<HintRegressor>(regressors)) : null;
        _blocks = blockOutputs; _attentions = attentions; _qkv = qkv;
    }

    private readonly bool _blocks, _attentions, _qkv;

    /// <summary>The student.</summary>
    public Module<Tensor, Tensor> Student { get; }

    /// <summary>The FitNets regressors, or null.</summary>
    public ModuleList<HintRegressor>? Regressors { get; }

    /// <summary>The student's full output of the last training-mode forward pass (null before one, and for evaluation passes).</summary>
    public VitOutput? LastOutput { get; private set; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (!Training)
        {
            LastOutput = null;
            return Student.Forward(input);
        }
        var output = Student is VisionTransformer vit
            ? vit.ForwardFeatures(input, _blocks, _attentions, _qkv)
            : new VitOutput(Student.Forward(input), null, [], []);
        LastOutput = output;
        return output.Prediction;
    }
}
