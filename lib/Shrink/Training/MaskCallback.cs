namespace Shrink.Training;

/// <summary>
/// Runs the trainer's constraint hooks: <see cref="Trainer.AfterBackward"/> after every backward pass (pruning masks
/// the gradients, g ← g ⊙ m) and <see cref="Trainer.AfterStep"/> before the first step and after every optimiser step
/// (pruning re-applies w ← w ⊙ m, so neither momentum, Adam's moments nor weight decay revive a pruned weight).
/// </summary>
internal sealed class MaskCallback : TrainingCallback
{
    public override void OnStart(TrainingContext ctx) => ctx.Trainer.AfterStep?.Invoke(ctx.Model, ctx.Step);

    public override void OnAfterBackward(TrainingContext ctx) => ctx.Trainer.AfterBackward?.Invoke(ctx.Model);

    public override void OnStepEnd(TrainingContext ctx) => ctx.Trainer.AfterStep?.Invoke(ctx.Model, ctx.Step);
}
