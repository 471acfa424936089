using Shrink.Data;
using Shrink.Experiments;
using Shrink.Pruning;
using Shrink.Training;
using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// Runs an instability analysis (<see cref="InstabilityHparams"/>): builds the network at step k twice, trains each copy
/// from step k to T with its own data seed (pruning masks enforced, so pruned networks stay in their subspace), caches
/// each copy in a run folder, and evaluates the linear path between the two solutions (<see cref="LinearInterpolation"/>,
/// BatchNorm statistics recomputed per point when <see cref="Interpolation"/> says so).
/// <code>
/// var hp = new InstabilityHparams { Training = lottery.Training, Start = level.RunFolder ?? "", StartStep = lottery.RewindStep };
/// var result = new InstabilityAnalysis(hp).Run(() => BuildAt(level.Start), train, test, evaluator, "runs");
/// Console.WriteLine(result.Instability);
/// </code>
/// </summary>
public sealed class InstabilityAnalysis
{
    /// <summary>Prepares the analysis.</summary>
    public InstabilityAnalysis(InstabilityHparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        if (hparams.DataSeeds.Length != 2) throw new ArgumentException($"InstabilityAnalysis: DataSeeds must hold exactly two seeds, got {hparams.DataSeeds.Length}.");
        if (hparams.DataSeeds[0] == hparams.DataSeeds[1]) throw new ArgumentException("InstabilityAnalysis: the two data seeds must differ.");
        hparams.Training.Validate();
        Hparams = hparams;
    }

    /// <summary>The hyperparameters.</summary>
    public InstabilityHparams Hparams { get; }

    /// <summary>How the path is evaluated (BatchNorm recalibration). Default: interpolated statistics kept.</summary>
    public LinearInterpolation Interpolation { get; init; } = new();

    /// <summary>Progress of the training runs (default silent).</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Batches the trainers' loaders prepare ahead.</summary>
    public int Prefetch { get; set; } = 2;

    /// <summary>
    /// Trains (or reuses) the two copies built by <paramref name="startModel"/> (the network at step k, masks attached) and
    /// evaluates the path between them with <paramref name="evaluator"/> at <paramref name="alphas"/> (default 30 points).
    /// </summary>
    public InstabilityResult Run(Func<nn.Module<Tensor, Tensor>> startModel, ImageDataset train, ImageDataset? test, LandscapeEvaluator evaluator, string root, IReadOnlyList<double>? alphas = null)
    {
        ArgumentNullException.ThrowIfNull(startModel);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(evaluator);
        ArgumentNullException.ThrowIfNull(root);
        int perEpoch = Math.Max(1, train.Count / Hparams.Training.BatchSize);
        int k = Hparams.StartStep.ToIterations(perEpoch);
        var copies = Hparams.DataSeeds.Select(seed =>
        {
            var model = startModel() ?? throw new ArgumentException("InstabilityAnalysis: the start-model factory returned null.");
            var trainer = PruningMask.Enforce(new Trainer(Hparams.Training with { Seed = seed }) { StartStep = k, Progress = Progress, Prefetch = Prefetch });
            return trainer.Fit(model, train, test, RunFolder.For(root, Hparams with { DataSeeds = [seed] }));
        }).ToArray();
        var curve = Interpolation.Evaluate(copies[0].Model, copies[1].Model, evaluator, alphas);
        return new InstabilityResult(copies[0], copies[1], curve, ParameterDistance.L2(copies[0].Model, copies[1].Model));
    }
}
