namespace Shrink.Tensors.Optim;

/// <summary>
/// A learning-rate schedule: the learning rate for optimiser step t (t = 0 for the first step). Call
/// <see cref="Apply"/> before each <see cref="Optimizer.Step"/>; being a pure function of t, a schedule resumes exactly
/// from a checkpoint's step count.
/// <code>
/// for (int t = 0; t &lt; steps; t++) { schedule.Apply(opt, t); …; loss.Backward(); opt.Step(); opt.ZeroGrad(); }
/// </code>
/// </summary>
public abstract class LrSchedule
{
    /// <summary>The learning rate for step <paramref name="step"/> (0-based).</summary>
    public abstract double LearningRate(int step);

    /// <summary>Sets <paramref name="optimizer"/>.<see cref="Optimizer.Lr"/> (every group, times its LrScale) to <see cref="LearningRate"/>(step) and returns it.</summary>
    public double Apply(Optimizer optimizer, int step)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        double lr = LearningRate(step);
        optimizer.Lr = lr;
        return lr;
    }

    /// <summary>Checks a step index.</summary>
    protected static void CheckStep(int step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), $"LrSchedule: step must be ≥ 0, got {step}.");
    }
}

/// <summary>lr(t) = lr for every step.</summary>
public sealed class ConstantLr(double lr) : LrSchedule
{
    /// <summary>The constant learning rate.</summary>
    public double Lr { get; } = lr >= 0 ? lr : throw new ArgumentException($"ConstantLr: lr must be ≥ 0, got {lr}.");

    /// <inheritdoc/>
    public override double LearningRate(int step) { CheckStep(step); return Lr; }
}

/// <summary>Step decay (PyTorch <c>StepLR</c>): lr(t) = baseLr · γ^⌊t / stepSize⌋.</summary>
public sealed class StepLr : LrSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentException">stepSize ≤ 0 or a negative lr / γ.</exception>
    public StepLr(double baseLr, int stepSize, double gamma = 0.1)
    {
        if (!(baseLr >= 0)) throw new ArgumentException($"StepLr: base lr must be ≥ 0, got {baseLr}.");
        if (stepSize <= 0) throw new ArgumentException($"StepLr: step size must be > 0, got {stepSize}.");
        if (!(gamma >= 0)) throw new ArgumentException($"StepLr: gamma must be ≥ 0, got {gamma}.");
        BaseLr = baseLr; StepSize = stepSize; Gamma = gamma;
    }

    /// <summary>Learning rate for steps 0 … stepSize − 1.</summary>
    public double BaseLr { get; }

    /// <summary>Number of steps between decays.</summary>
    public int StepSize { get; }

    /// <summary>Multiplicative decay γ.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public override double LearningRate(int step) { CheckStep(step); return BaseLr * Math.Pow(Gamma, step / StepSize); }
}

/// <summary>
/// Linear warm-up followed by a half-cosine decay (the ViT/DeiT recipe), with W = warmupSteps and T = totalSteps:
/// <code>
/// t &lt; W:       lr(t) = warmupStartLr + (baseLr − warmupStartLr) · t / W
/// W ≤ t &lt; T:   lr(t) = minLr + ½ (baseLr − minLr) (1 + cos(π (t − W) / (T − W)))
/// t ≥ T:       lr(t) = minLr
/// </code>
/// so lr(0) = warmupStartLr, lr(W) = baseLr, lr(T) = minLr (with W = 0 the schedule starts at baseLr).
/// </summary>
public sealed class CosineWithWarmup : LrSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentException">Negative values, or warmupSteps &gt; totalSteps.</exception>
    public CosineWithWarmup(double baseLr, int warmupSteps, int totalSteps, double minLr = 0, double warmupStartLr = 0)
    {
        if (!(baseLr >= 0) || !(minLr >= 0) || !(warmupStartLr >= 0))
            throw new ArgumentException($"CosineWithWarmup: learning rates must be ≥ 0 (base {baseLr}, min {minLr}, warm-up start {warmupStartLr}).");
        if (warmupSteps < 0 || totalSteps < 0 || warmupSteps > totalSteps)
            throw new ArgumentException($"CosineWithWarmup: need 0 ≤ warmupSteps ≤ totalSteps, got {warmupSteps} and {totalSteps}.");
        BaseLr = baseLr; WarmupSteps = warmupSteps; TotalSteps = totalSteps; MinLr = minLr; WarmupStartLr = warmupStartLr;
    }

    /// <summary>Peak learning rate, reached at step <see cref="WarmupSteps"/>.</summary>
    public double BaseLr { get; }

    /// <summary>Number of warm-up steps W.</summary>
    public int WarmupSteps { get; }

    /// <summary>Step T at which the cosine reaches <see cref="MinLr"/>.</summary>
    public int TotalSteps { get; }

    /// <summary>Final learning rate.</summary>
    public double MinLr { get; }

    /// <summary>Learning rate at step 0 when warming up.</summary>
    public double WarmupStartLr { get; }

    /// <inheritdoc/>
    public override double LearningRate(int step)
    {
        CheckStep(step);
        if (step < WarmupSteps) return WarmupStartLr + (BaseLr - WarmupStartLr) * step / WarmupSteps;
        if (step >= TotalSteps) return MinLr;
        double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return MinLr + 0.5 * (BaseLr - MinLr) * (1 + Math.Cos(Math.PI * progress));
    }
}
