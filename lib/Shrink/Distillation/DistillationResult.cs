using TorchSharp;
using static TorchSharp.torch;
using Shrink.Training;

namespace Shrink.Distillation;

/// <summary>What <see cref="Distiller.Fit"/> returns: the trained student, the trainer's result and the teacher cost.</summary>
public sealed record DistillationResult
{
    /// <summary>The trained student (without the hint regressors), in evaluation mode; its state dict has timm names.</summary>
    public required nn.Module<Tensor, Tensor> Student { get; init; }

    /// <summary>The trainer's result (history, test accuracy, run folder, reuse, resume); its model is the <see cref="DistillationStudent"/> wrapper.</summary>
    public required TrainingResult Training { get; init; }

    /// <summary>Test accuracy after the last step (null without a test set).</summary>
    public double? TestAccuracy => Training.TestAccuracy;

    /// <summary>
    /// Teacher forward passes (images × teachers) run during the run's training steps: 0 when every teacher output came
    /// from a cache. Counts are those of the whole run: with a run folder they are recorded there
    /// (<c>teacher-passes.json</c>), so a resumed run includes its earlier sessions and a reused run reports what it cost
    /// when it was trained (like <see cref="TrainingResult.Seconds"/>); without one, this call's.
    /// </summary>
    public long LiveTeacherForwardPasses { get; init; }

    /// <summary>Teacher forward passes (images × teachers) the run spent filling caches (0 when they were already on disk: another run paid for them).</summary>
    public long CacheFillTeacherForwardPasses { get; init; }

    /// <summary>Wall-clock seconds the run spent filling caches (0 when they were already on disk).</summary>
    public double CacheFillSeconds { get; init; }

    /// <summary>The passes live teachers would have needed for the run's steps: steps × batch size × teachers.</summary>
    public long LiveEquivalentTeacherForwardPasses { get; init; }

    /// <summary>Teacher forward passes saved against live distillation: <see cref="LiveEquivalentTeacherForwardPasses"/> − live − cache-fill passes (negative when a fill was not yet paid back).</summary>
    public long TeacherForwardPassesSaved => LiveEquivalentTeacherForwardPasses - LiveTeacherForwardPasses - CacheFillTeacherForwardPasses;

    /// <summary>The caches used, one per teacher (empty for live distillation and for a reused run).</summary>
    public IReadOnlyList<TeacherLogitCache> Caches { get; init; } = [];
}
