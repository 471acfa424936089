using Shrink.Data;

namespace Shrink.Training;

/// <summary>
/// Every <see cref="TrainingHparams.EvalEvery"/> steps and after the last one: evaluates the model on the test set
/// (<see cref="ClassifierEvaluation"/>, evaluation mode, no grad) and turns the training window's sums into one
/// <see cref="TrainingMetrics"/>, appended to the history and left in <see cref="TrainingContext.Evaluated"/> for the
/// log and the progress report.
/// </summary>
internal sealed class EvaluationCallback : TrainingCallback
{
    private DataLoader? _test;

    public override void OnStart(TrainingContext ctx)
    {
        _test = ctx.Test is null ? null
            : new DataLoader(ctx.Test, ctx.Trainer.EvalBatchSize, normalization: ctx.Normalization, prefetch: ctx.Trainer.Prefetch, device: ctx.Device);
    }

    public override void OnStepEnd(TrainingContext ctx)
    {
        ctx.Evaluated = null;
        int t = ctx.Step;
        if (!ctx.IsDue(ctx.EvalEvery, t)) return;
        var state = ctx.State;
        EvalResult? eval = _test is null ? null : ClassifierEvaluation.Measure(ctx.Model, _test);
        var metrics = new TrainingMetrics
        {
            Step = t,
            Epoch = (double)t / ctx.PerEpoch,
            TrainLoss = state.WindowLossSum / state.WindowSteps,
            TrainAccuracy = (double)state.WindowCorrect / state.WindowSamples,
            TestLoss = eval?.Loss,
            TestAccuracy = eval?.Accuracy,
            Lr = state.LastLr,
            Seconds = ctx.Seconds,
        };
        state.History.Add(metrics);
        state.WindowLossSum = 0; state.WindowSteps = 0; state.WindowCorrect = 0; state.WindowSamples = 0;
        ctx.Evaluated = metrics;
    }
}
