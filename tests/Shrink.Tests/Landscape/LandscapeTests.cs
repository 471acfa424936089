using Shrink.Data;
using Shrink.Landscape;
using Shrink.Pruning;
using Shrink.Tests.Training;
using Shrink.Torch;
using Shrink.Training;
using TorchSharp.Modules;
using static Shrink.Tests.Pruning.PruningTestData;
using static TorchSharp.torch;

namespace Shrink.Tests.Landscape;

[Collection(DefaultGeneratorCollection.Name)]
public class LandscapeTests
{
    private static readonly ImageDataset Train = Synthetic(160, 1), Test = Synthetic(40, 2);
    private static readonly LandscapeEvaluator OnTrain = new(Train, Normalization.FashionMnist, maxSamples: 64);

    /// <summary>A small conv net with BatchNorm for 1×8×8 images (initialised from torch's default generator, reseeded).</summary>
    private static nn.Module<Tensor, Tensor> BnNet(ulong seed)
    {
        Seed.ManualSeed(seed);
        return nn.Sequential(("conv", nn.Conv2d(1, 4, 3, padding: 1)), ("bn", nn.BatchNorm2d(4)), ("act", nn.ReLU()), ("flat", nn.Flatten()), ("fc", nn.Linear(4 * 64, 4)));
    }

    private static Dictionary<string, float[]> State(nn.Module m) => m.state_dict().ToDictionary(kv => kv.Key, kv => Values(kv.Value));

    [Fact]
    public void TheBarrierBetweenAModelAndItselfIsZero()
    {
        var lenet = SmallLeNet(1);
        MagnitudePruner.Prune(lenet, new PruningHparams { Fraction = 0.5 });
        var curve = new LinearInterpolation().Evaluate(lenet, lenet, OnTrain, LinearInterpolation.DefaultAlphas(7));
        Assert.Equal(7, curve.Alphas.Length);
        Assert.Equal(0.0, curve.LossBarrier);
        Assert.Equal(0.0, curve.ErrorBarrier);
        Assert.Equal(0.0, curve.LossBarrierAboveLinear, 12);

        var bn = BnNet(2);
        bn.train();
        using (no_grad()) bn.forward(Train.Take(32).ToTensor(Normalization.FashionMnist));   // move the running statistics
        var withBn = new LinearInterpolation { Recalibration = (Train, Normalization.FashionMnist), RecalibrationBatches = 2, RecalibrationBatchSize = 32 };
        var before = State(bn);
        var bnCurve = withBn.Evaluate(bn, bn, OnTrain, LinearInterpolation.DefaultAlphas(5));
        Assert.Equal(0.0, bnCurve.LossBarrier);
        Assert.Equal(0.0, bnCurve.ErrorBarrier);
        foreach (var (k, v) in State(bn)) Assert.Equal(before[k], v);   // restored
    }

    [Fact]
    public void InterpolationEndpointsAreTheTwoModelsAndBarriersFollowTheirDefinitions()
    {
        var a = SmallLeNet(1);
        var b = SmallLeNet(2);
        var curve = new LinearInterpolation().Evaluate(a, b, OnTrain, [0.25, 0.5, 0.75]);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], curve.Alphas);
        Assert.Equal(OnTrain.Evaluate(a).Loss, curve.Loss[0], 9);
        Assert.Equal(OnTrain.Evaluate(b).Loss, curve.Loss[^1], 9);
        Assert.Equal(curve.Loss.Max() - 0.5 * (curve.Loss[0] + curve.Loss[^1]), curve.LossBarrier, 12);
        Assert.True(curve.ErrorBarrier >= 0 && curve.LossBarrierAboveLinear >= 0);
        Assert.Equal(0.0, ParameterDistance.L2(a, SmallLeNet(1)));   // a restored

        // The midpoint is the average of the two parameter sets.
        var mid = SmallLeNet(1);
        (0.5 * (ParameterVector.FromModel(a) + ParameterVector.FromModel(b))).CopyTo(mid);
        Assert.Equal(OnTrain.Evaluate(mid).Loss, curve.Loss[2], 5);
    }

    [Fact]
    public void BatchNormRecalibrationGivesTheAverageOfTheBatchStatistics()
    {
        var bn = nn.BatchNorm2d(2);
        var model = nn.Sequential(("bn", bn));
        var batches = Enumerable.Range(0, 3).Select(i => Randn((ulong)i, 4, 2, 3, 3) * (i + 1f) + i).ToArray();
        Assert.Equal(3, BatchNormRecalibration.Recompute(model, batches));
        var mean = Values(bn.running_mean!); var variance = Values(bn.running_var!);
        for (int c = 0; c < 2; c++)
        {
            double m = 0, v = 0;
            foreach (var x in batches)
            {
                var xs = Values(x.select(1, c)).Select(t => (double)t).ToArray();
                double mb = xs.Average();
                m += mb / 3; v += xs.Sum(t => (t - mb) * (t - mb)) / (xs.Length - 1) / 3;
            }
            Assert.Equal(m, mean[c], 5);
            Assert.Equal(v, variance[c], 4);
        }
        Assert.True(model.training);
        Assert.Equal(0.1, bn.momentum);   // restored
        Assert.Throws<ArgumentException>(() => BatchNormRecalibration.Recompute(model, Array.Empty<Tensor>()));
        Assert.Equal(mean, Values(bn.running_mean!));   // untouched by the failed call
    }

    [Fact]
    public void SlicesEvaluateTheRequestedPointsAndRestoreTheModel()
    {
        var model = SmallLeNet(3);
        var before = ParameterVector.FromModel(model);
        var d = RandomDirections.FilterNormalized(model, Seed.Generator(1));
        var e = RandomDirections.FilterNormalized(model, Seed.Generator(2));
        var curve = LossLandscape.Slice1D(model, d, LossLandscape.Range(-1, 1, 5), OnTrain);
        Assert.Equal([-1, -0.5, 0, 0.5, 1], curve.Alphas);
        Assert.Equal(OnTrain.Evaluate(model).Loss, curve.Loss[2], 9);
        var surface = LossLandscape.Slice2D(model, d, e, LossLandscape.Range(-1, 1, 3), LossLandscape.Range(-0.5, 0.5, 2), OnTrain);
        Assert.Equal(2, surface.Loss.Length);
        Assert.Equal(3, surface.Loss[0].Length);
        var at = before.Clone().AddInPlace(d, 1).AddInPlace(e, -0.5);
        at.CopyTo(model);
        Assert.Equal(OnTrain.Evaluate(model).Loss, surface.Loss[0][2], 9);
        before.CopyTo(model);
        Assert.Equal(0.0, ParameterDistance.L2(ParameterVector.FromModel(model), before));
    }

    /// <summary>Logits (−‖θ‖², 0, 0, 0) for every image: the mean cross-entropy over balanced labels depends on ‖θ‖ only.</summary>
    private sealed class Radial : nn.Module<Tensor, Tensor>
    {
        public readonly Parameter Theta;

        public Radial(int n) : base(nameof(Radial))
        {
            Theta = new Parameter(zeros(n, 1));
            register_parameter("theta", Theta);
        }

        public override Tensor forward(Tensor x)
        {
            long b = x.shape[0];
            var first = (-Theta.pow(2).sum()).reshape(1, 1).expand(b, 1);            // (B, 1)
            return cat([first, zeros(b, 3, device: x.device)], 1);                  // (B, 4)
        }
    }

    [Fact]
    public void BasinRadiusAndLogVolumeMatchAKnownRadialLoss()
    {
        int n = 10;
        var model = new Radial(n);
        var mask = Enumerable.Range(0, n).Select(i => i % 2 == 0 ? 1f : 0f).ToArray();
        PruningMask.Set(model, "theta", tensor(mask, [n, 1]));
        var evaluator = new LandscapeEvaluator(Train, null, maxSamples: 64);
        double Loss(double r2) => 0.25 * (r2 + 4 * Math.Log(Math.Exp(-r2) + 3));
        double cutoff = Loss(0) + 0.2;
        double lo = 0, hi = 10;
        for (int i = 0; i < 200; i++) { double mid = (lo + hi) / 2; if (Loss(mid * mid) <= cutoff) lo = mid; else hi = mid; }
        double rStar = lo;

        var estimate = new BasinVolume { Directions = 4, Bisections = 30, InitialRadius = 0.05 }.Estimate(model, evaluator, cutoff);
        Assert.Equal(5, estimate.Dimension);
        Assert.All(estimate.Radii, r => Assert.Equal(rStar, r, 3));
        Assert.Equal(0, estimate.Capped);
        double logBall = 2.5 * Math.Log(Math.PI) - BasinVolume.LogGamma(3.5);
        Assert.Equal(logBall + 5 * Math.Log(rStar), estimate.LogVolume, 2);
        Assert.All(Values(model.Theta), v => Assert.Equal(0f, v));   // restored
        Assert.Equal(Math.Log(120), BasinVolume.LogGamma(6), 10);
        Assert.Equal(0.5 * Math.Log(Math.PI), BasinVolume.LogGamma(0.5), 10);
        Assert.Throws<ArgumentException>(() => new BasinVolume().Estimate(model, evaluator, Loss(0) - 0.1));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void InstabilityAnalysisTrainsTwoCopiesWithDifferentDataOrdersAndCachesThem()
    {
        using var temp = new TempFolder("instability");
        var root = temp.Path;
        var start = SmallLeNet(4);
        MagnitudePruner.Prune(start, new PruningHparams { Fraction = 0.5 });
        var state = start.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        Func<nn.Module<Tensor, Tensor>> build = () => { var m = SmallLeNet(0); PruningMask.LoadStateDict(m, state); return m; };
        var hp = new InstabilityHparams
        {
            Training = new TrainingHparams { Steps = "2ep", BatchSize = 32, Optimizer = "sgd", Lr = 0.05, EvalEvery = "0it" },
            Start = "test start", StartStep = "2it",
        };
        var analysis = new InstabilityAnalysis(hp) { Prefetch = 0, Progress = null };
        var evaluator = new LandscapeEvaluator(Test, Normalization.FashionMnist);
        var result = analysis.Run(build, Train, Test, evaluator, root, LinearInterpolation.DefaultAlphas(5));
        Assert.Equal(8, result.CopyA.StepsTrained);
        Assert.True(result.Distance > 0);
        Assert.True(result.Instability >= 0);
        Assert.NotEqual(result.CopyA.RunFolder, result.CopyB.RunFolder);
        foreach (var copy in new[] { result.CopyA.Model, result.CopyB.Model })
            foreach (var mp in PruningMask.All(copy))
            {
                var m = Values(mp.Mask); var w = Values(mp.Parameter);
                for (int i = 0; i < m.Length; i++) if (m[i] == 0f) Assert.Equal(0f, w[i]);
            }
        var again = new InstabilityAnalysis(hp) { Prefetch = 0, Progress = null }.Run(build, Train, Test, evaluator, root, LinearInterpolation.DefaultAlphas(5));
        Assert.True(again.CopyA.Reused && again.CopyB.Reused);
        Assert.Equal(result.Curve.Loss, again.Curve.Loss);
    }
}
