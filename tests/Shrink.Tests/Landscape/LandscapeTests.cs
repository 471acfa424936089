using Shrink.Data;
using Shrink.Landscape;
using Shrink.Pruning;
using Shrink.Tensors;
using Shrink.Tensors.Nn;
using Shrink.Tests.Pruning;
using Shrink.Tests.Training;
using Shrink.Training;

namespace Shrink.Tests.Landscape;

[Collection(DefaultGeneratorCollection.Name)]
public class LandscapeTests
{
    private static readonly ImageDataset Train = PruningTestData.Synthetic(160, 1), Test = PruningTestData.Synthetic(40, 2);
    private static readonly LandscapeEvaluator OnTrain = new(Train, Normalization.FashionMnist, maxSamples: 64);

    /// <summary>A small conv net with BatchNorm for 1×8×8 images.</summary>
    private static Sequential BnNet(ulong seed)
    {
        var g = new Generator(seed);
        return new Sequential(new Conv2d(1, 4, 3, padding: 1, generator: g), new BatchNorm2d(4), new Relu(), new Flatten(), new Linear(4 * 64, 4, generator: g));
    }

    [Fact]
    public void TheBarrierBetweenAModelAndItselfIsZero()
    {
        var lenet = PruningTestData.SmallLeNet(1);
        MagnitudePruner.Prune(lenet, new PruningHparams { Fraction = 0.5 });
        var curve = new LinearInterpolation().Evaluate(lenet, lenet, OnTrain, LinearInterpolation.DefaultAlphas(7));
        Assert.Equal(7, curve.Alphas.Length);
        Assert.Equal(0.0, curve.LossBarrier);
        Assert.Equal(0.0, curve.ErrorBarrier);
        Assert.Equal(0.0, curve.LossBarrierAboveLinear, 12);

        var bn = BnNet(2);
        bn.Train();
        using (Tensor.NoGrad()) bn.Forward(Train.Take(32).ToTensor(Normalization.FashionMnist));   // move the running statistics
        var withBn = new LinearInterpolation { Recalibration = (Train, Normalization.FashionMnist), RecalibrationBatches = 2, RecalibrationBatchSize = 32 };
        var before = bn.StateDict(clone: true);
        var bnCurve = withBn.Evaluate(bn, bn, OnTrain, LinearInterpolation.DefaultAlphas(5));
        Assert.Equal(0.0, bnCurve.LossBarrier);
        Assert.Equal(0.0, bnCurve.ErrorBarrier);
        foreach (var (k, v) in bn.StateDict()) Assert.Equal(before[k].ToArray(), v.ToArray());   // restored
    }

    [Fact]
    public void InterpolationEndpointsAreTheTwoModelsAndBarriersFollowTheirDefinitions()
    {
        var a = PruningTestData.SmallLeNet(1);
        var b = PruningTestData.SmallLeNet(2);
        var curve = new LinearInterpolation().Evaluate(a, b, OnTrain, [0.25, 0.5, 0.75]);
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], curve.Alphas);
        Assert.Equal(OnTrain.Evaluate(a).Loss, curve.Loss[0], 9);
        Assert.Equal(OnTrain.Evaluate(b).Loss, curve.Loss[^1], 9);
        Assert.Equal(curve.Loss.Max() - 0.5 * (curve.Loss[0] + curve.Loss[^1]), curve.LossBarrier, 12);
        Assert.True(curve.ErrorBarrier >= 0 && curve.LossBarrierAboveLinear >= 0);
        Assert.Equal(0.0, ParameterDistance.L2(a, PruningTestData.SmallLeNet(1)));   // a restored
    }

    [Fact]
    public void BatchNormRecalibrationGivesTheAverageOfTheBatchStatistics()
    {
        var bn = new BatchNorm2d(2);
        var model = new Sequential(bn);
        var batches = Enumerable.Range(0, 3).Select(i => Tensor.Randn([4, 2, 3, 3], new Generator((ulong)i)) * (i + 1f) + i).ToArray();
        Assert.Equal(3, BatchNormRecalibration.Recompute(model, batches));
        for (int c = 0; c < 2; c++)
        {
            double mean = 0, var = 0;
            foreach (var x in batches)
            {
                var v = x.Select(1, c).Contiguous().ToArray().Select(t => (double)t).ToArray();
                double m = v.Average();
                mean += m / 3; var += v.Sum(t => (t - m) * (t - m)) / (v.Length - 1) / 3;
            }
            Assert.Equal(mean, bn.RunningMean.ToArray()[c], 4);
            Assert.Equal(var, bn.RunningVar.ToArray()[c], 3);
        }
        Assert.True(model.Training);
    }

    [Fact]
    public void SlicesEvaluateTheRequestedPointsAndRestoreTheModel()
    {
        var model = PruningTestData.SmallLeNet(3);
        var before = ParameterVector.FromModel(model);
        var d = RandomDirections.FilterNormalized(model, new Generator(1));
        var e = RandomDirections.FilterNormalized(model, new Generator(2));
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
    private sealed class Radial : Module<Tensor, Tensor>
    {
        public readonly Parameter Theta;
        public Radial(int n) { Theta = RegisterParameter("theta", Tensor.Zeros(n, 1)); }
        public override Tensor Forward(Tensor x)
        {
            double r2 = Theta.ToArray().Sum(v => (double)v * v);
            var logits = new float[x.Shape[0] * 4];
            for (int b = 0; b < x.Shape[0]; b++) logits[b * 4] = (float)-r2;
            return Tensor.FromArray(logits, x.Shape[0], 4);
        }
    }

    [Fact]
    public void BasinRadiusAndLogVolumeMatchAKnownRadialLoss()
    {
        int n = 10;
        var model = new Radial(n);
        var mask = Enumerable.Range(0, n).Select(i => i % 2 == 0 ? 1f : 0f).ToArray();
        PruningMask.Set(model, "theta", Tensor.FromArray(mask, n, 1));
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
        Assert.All(model.Theta.ToArray(), v => Assert.Equal(0f, v));   // restored
        Assert.Equal(Math.Log(120), BasinVolume.LogGamma(6), 10);
        Assert.Equal(0.5 * Math.Log(Math.PI), BasinVolume.LogGamma(0.5), 10);
        Assert.Throws<ArgumentException>(() => new BasinVolume().Estimate(model, evaluator, Loss(0) - 0.1));
    }

    [Fact]
    public void InstabilityAnalysisTrainsTwoCopiesWithDifferentDataOrdersAndCachesThem()
    {
        using var temp = new TempFolder("instability");
        var root = temp.Path;
        var start = PruningTestData.SmallLeNet(4);
        MagnitudePruner.Prune(start, new PruningHparams { Fraction = 0.5 });
        var state = start.StateDict(clone: true);
        Func<Module<Tensor, Tensor>> build = () => { var m = PruningTestData.SmallLeNet(0); PruningMask.LoadStateDict(m, state); return m; };
        var hp = new InstabilityHparams
        {
            Training = new TrainingHparams { Steps = "2ep", BatchSize = 32, Optimizer = "sgd", Lr = 0.05, EvalEvery = "0it" },
            Start = "test start", StartStep = "2it",
        };
        var analysis = new InstabilityAnalysis(hp) { Prefetch = 0 };
        var evaluator = new LandscapeEvaluator(Test, Normalization.FashionMnist);
        var result = analysis.Run(build, Train, Test, evaluator, root, LinearInterpolation.DefaultAlphas(5));
        Assert.Equal(8, result.CopyA.StepsTrained);
        Assert.True(result.Distance > 0);
        Assert.True(result.Instability >= 0);
        Assert.NotEqual(result.CopyA.RunFolder, result.CopyB.RunFolder);
        foreach (var copy in new[] { result.CopyA.Model, result.CopyB.Model })
            foreach (var mp in PruningMask.All(copy))
            {
                var m = mp.Mask.ToArray(); var w = mp.Parameter.ToArray();
                for (int i = 0; i < m.Length; i++) if (m[i] == 0f) Assert.Equal(0f, w[i]);
            }
        var again = new InstabilityAnalysis(hp) { Prefetch = 0 }.Run(build, Train, Test, evaluator, root, LinearInterpolation.DefaultAlphas(5));
        Assert.True(again.CopyA.Reused && again.CopyB.Reused);
        Assert.Equal(result.Curve.Loss, again.Curve.Loss);
    }
}
