using System.Globalization;
using Shrink.Torch;

namespace Shrink.Training;

/// <summary>
/// Sends <see cref="TrainingProgress"/> reports to <see cref="Trainer.Progress"/>: started or resumed, per step (after
/// the step's evaluation and checkpoint, if any), finished. Reports are synchronous: a handler that throws stops
/// training at once, like a crash.
/// </summary>
internal sealed class ProgressCallback : TrainingCallback
{
    public override void OnStart(TrainingContext ctx)
    {
        var hp = ctx.Hparams;
        int t = ctx.Step, total = ctx.Total, perEpoch = ctx.PerEpoch;
        string message = !ctx.Resumed
            ? (t > 0 ? Invariant($"Starting at step {t}: ") : "")
              + Invariant($"Training {total} steps ({hp.Steps}: {Plural((total + perEpoch - 1) / perEpoch, "epoch")} of {perEpoch} batches of {hp.BatchSize}) on {ctx.Train.Count} images, {ctx.Model.ParameterCount(trainableOnly: true):N0} trainable parameters, {hp.Describe()}, on {ctx.Device}")
              + (ctx.Folder is null ? "" : $" → {ctx.Folder}")
            : Invariant($"Resuming {ctx.Folder} from its checkpoint at step {t}/{total} (epoch {t / perEpoch + 1}, batch {t % perEpoch})");
        ctx.Report(new TrainingProgress
        {
            Event = ctx.Resumed ? TrainingEvent.Resumed : TrainingEvent.Started,
            Step = t, TotalSteps = total, IterationsPerEpoch = perEpoch, RunFolder = ctx.Folder, Lr = ctx.LastLr, Message = message,
        });
    }

    public override void OnStepEnd(TrainingContext ctx)
    {
        if (ctx.Trainer.Progress is null) return;
        int t = ctx.Step, total = ctx.Total, perEpoch = ctx.PerEpoch;
        if (ctx.Evaluated is { } m)
            ctx.Report(new TrainingProgress
            {
                Event = TrainingEvent.Evaluated, Step = t, TotalSteps = total, IterationsPerEpoch = perEpoch, Loss = ctx.LastLoss,
                Lr = ctx.LastLr, Elapsed = ctx.Session.Elapsed, Metrics = m, RunFolder = ctx.Folder,
                Message = Invariant($"epoch {(t + perEpoch - 1) / perEpoch}/{(total + perEpoch - 1) / perEpoch} step {t}/{total}: ") + Summary(m),
            });
        if (ctx.Checkpointed)
            ctx.Report(new TrainingProgress { Event = TrainingEvent.Checkpointed, Step = t, TotalSteps = total, IterationsPerEpoch = perEpoch, Lr = ctx.LastLr, RunFolder = ctx.Folder });
        int done = t - ctx.SessionStart;
        var state = ctx.State;
        ctx.Report(new TrainingProgress
        {
            Event = TrainingEvent.Step, Step = t, TotalSteps = total, IterationsPerEpoch = perEpoch, Loss = ctx.LastLoss,
            RunningLoss = state.WindowSteps > 0 ? state.WindowLossSum / state.WindowSteps : double.NaN,
            Lr = ctx.LastLr, ImagesPerSecond = ctx.StepSeconds > 0 ? ctx.SessionImages / ctx.StepSeconds : 0,
            Elapsed = ctx.Session.Elapsed,
            Eta = done > 0 ? TimeSpan.FromSeconds(ctx.Session.Elapsed.TotalSeconds / done * (total - t)) : null,
            RunFolder = ctx.Folder,
        });
    }

    public override void OnEnd(TrainingContext ctx)
    {
        var history = ctx.State.History;
        var final = history.Count > 0 ? history[^1] : null;
        ctx.Report(new TrainingProgress
        {
            Event = TrainingEvent.Finished, Step = ctx.Total, TotalSteps = ctx.Total, IterationsPerEpoch = ctx.PerEpoch, Loss = ctx.LastLoss,
            Lr = ctx.LastLr, Elapsed = ctx.Session.Elapsed, Metrics = final, RunFolder = ctx.Folder,
            Message = Invariant($"Finished {ctx.Total} steps in {ConsoleProgress.FormatDuration(TimeSpan.FromSeconds(ctx.State.Seconds))}")
                + (final is null ? "" : ": " + Summary(final)) + (ctx.Folder is null ? "" : $" — saved in {ctx.Folder}"),
        });
    }

    /// <summary>One evaluation as text: train loss and accuracy, test loss and accuracy, lr and seconds.</summary>
    public static string Summary(TrainingMetrics m)
    {
        var s = Invariant($"train loss {m.TrainLoss:0.0000} acc {m.TrainAccuracy:P1}");
        if (m.TestLoss is { } tl && m.TestAccuracy is { } ta) s += Invariant($" | test loss {tl:0.0000} acc {ta:P1}");
        return s + Invariant($" | lr {m.Lr:0.00e+00} | {m.Seconds:0.0} s");
    }

    private static string Plural(int n, string word) => Invariant($"{n} {word}{(n == 1 ? "" : "s")}");

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
