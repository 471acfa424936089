using Shrink.Tensors;
using Shrink.Tensors.Nn;
using Shrink.Training;

namespace Shrink.Distillation;

/// <summary>What <see cref="Distiller.Fit"/> returns: the trained student, the trainer's result and the teacher cost.</summary>
public sealed record DistillationResult
{
    /// <summary>The trained student (without the hint regressors), in evaluation mode; its state dict has timm names.</summary>
    public required Module<Tensor, Tensor> Student { get; init; }

    /// <summary>The trainer's result (history, test accuracy, run folder, reuse, resume); its model is the <see cref="DistillationStudent"/> wrapper.</summary>
    public required TrainingResult Training { get; init; }

    /// <summary>Test accuracy after the last step (null without a test set).</summary>
    public double? TestAccuracy => Training.TestAccuracy;

    /// <summary>Teacher forward passes (images × teachers) run during this call's training steps: 0 when every teacher output came from a cache.</summary>
    public long LiveTeacherForwardPasses { get; init; }

    /// <summary>Teacher forward passes (images × teachers) this call spent filling caches (0 when they were already on disk).</summary>
    public long CacheFillTeacherForwardPasses { get; init; }

    /// <summary>The passes live teachers would have needed for the steps this call trained: steps × batch size × teachers.</summary>
    public long LiveEquivalentTeacherForwardPasses { get; init; }

    /// <summary>Teacher forward passes saved against live distillation: <see cref="LiveEquivalentTeacherForwardPasses"/> − live − cache-fill passes (negative when a fill was not yet paid back).</summary>
    public long TeacherForwardPassesSaved => LiveEquivalentTeacherForwardPasses - LiveTeacherForwardPasses - CacheFillTeacherForwardPasses;

    /// <summary>The caches used, one per teacher (empty for live distillation).</summary>
    public IReadOnlyList<TeacherLogitCache> Caches { get; init; } = [];
}
