using TorchSharp;

namespace Shrink.Training;

/// <summary>
/// The learning rate of optimiser step t (0-based) for <see cref="TrainingHparams.Schedule"/>, with W warm-up steps,
/// T steps in all, peak η = <see cref="TrainingHparams.Lr"/> and floor η_min = <see cref="TrainingHparams.MinLr"/>:
/// <code>
/// t &lt; W:       lr(t) = η · t / W                                       (linear warm-up from 0)
/// "cosine":    lr(t) = η_min + ½ (η − η_min) (1 + cos(π (t − W) / (T − W)))   for W ≤ t &lt; T   (Loshchilov &amp; Hutter, SGDR)
/// "constant":  lr(t) = η                                               for W ≤ t
/// </code>
/// It is a pure function of t, computed by us and written into every parameter group's <c>lr</c> before each step:
/// TorchSharp's schedulers keep their position in fields that have no state dict, whereas this schedule resumes at any
/// step by construction.
/// </summary>
public sealed class LearningRateSchedule
{
    /// <summary>Creates the schedule of <paramref name="hparams"/> for <paramref name="warmupSteps"/> W and <paramref name="totalSteps"/> T.</summary>
    /// <exception cref="ArgumentException">W &gt; T, negative counts, or an unknown schedule.</exception>
    public LearningRateSchedule(TrainingHparams hparams, int warmupSteps, int totalSteps)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        if (warmupSteps < 0 || totalSteps < 0 || warmupSteps > totalSteps)
            throw new ArgumentException($"LearningRateSchedule: need 0 ≤ warm-up steps ≤ total steps, got {warmupSteps} and {totalSteps}.");
        if (hparams.Schedule is not ("cosine" or "constant"))
            throw new ArgumentException($"LearningRateSchedule: unknown schedule \"{hparams.Schedule}\" (\"cosine\" or \"constant\").");
        Kind = hparams.Schedule;
        PeakLr = hparams.Lr;
        MinLr = hparams.Schedule == "cosine" ? hparams.MinLr : hparams.Lr;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
    }

    /// <summary><c>"cosine"</c> or <c>"constant"</c>.</summary>
    public string Kind { get; }

    /// <summary>Peak learning rate η, reached at step W.</summary>
    public double PeakLr { get; }

    /// <summary>Learning rate at step T (η for the constant schedule).</summary>
    public double MinLr { get; }

    /// <summary>Warm-up steps W.</summary>
    public int WarmupSteps { get; }

    /// <summary>Total steps T.</summary>
    public int TotalSteps { get; }

    /// <summary>lr(t) for step <paramref name="step"/> ≥ 0 (see the class formula; t ≥ T gives η_min).</summary>
    public double At(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (step < WarmupSteps) return PeakLr * step / WarmupSteps;
        if (step >= TotalSteps) return MinLr;
        double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return MinLr + 0.5 * (PeakLr - MinLr) * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>Writes lr(<paramref name="step"/>) into every parameter group of <paramref name="optimizer"/> and returns it.</summary>
    public double Apply(torch.optim.Optimizer optimizer, int step)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        double lr = At(step);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        return lr;
    }
}
