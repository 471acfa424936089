using static TorchSharp.torch;

namespace Shrink.Training;

/// <summary>
/// One concern of the training loop (open_lth's callbacks): evaluation, the log, checkpoints, progress, masks. The
/// loop calls every callback, in order, at these points; each does its part and shares results through the
/// <see cref="TrainingContext"/>.
/// </summary>
internal abstract class TrainingCallback
{
    /// <summary>Before the first step of this session (after a checkpoint, if any, was loaded).</summary>
    public virtual void OnStart(TrainingContext ctx) { }

    /// <summary>After the backward pass of a step, inside its dispose scope, before clipping and the optimiser step.</summary>
    public virtual void OnAfterBackward(TrainingContext ctx) { }

    /// <summary>After a step: <see cref="TrainingContext.Step"/> steps are done.</summary>
    public virtual void OnStepEnd(TrainingContext ctx) { }

    /// <summary>Cancellation was requested before step <see cref="TrainingContext.Step"/>.</summary>
    public virtual void OnCancel(TrainingContext ctx) { }

    /// <summary>All steps are done and the model is in evaluation mode.</summary>
    public virtual void OnEnd(TrainingContext ctx) { }
}
