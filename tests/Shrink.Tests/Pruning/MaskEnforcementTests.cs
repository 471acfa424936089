using Shrink.Models;
using Shrink.Pruning;
using Shrink.Tensors;
using Shrink.Tensors.Optim;
using Shrink.Tests.Training;
using Shrink.Training;
using F = Shrink.Tensors.Functional;

namespace Shrink.Tests.Pruning;

[Collection(DefaultGeneratorCollection.Name)]
public class MaskEnforcementTests
{
    private static readonly string[] Layers = ["fc1.weight", "fc2.weight", "fc3.weight"];

    private static void AssertPrunedAreZero(LeNet300100 model, string when)
    {
        foreach (var mp in PruningMask.All(model))
        {
            var w = mp.Parameter.ToArray(); var m = mp.Mask.ToArray();
            for (int i = 0; i < w.Length; i++)
                if (m[i] == 0f) Assert.True(w[i] == 0f, $"{mp.Name}[{i}] = {w[i]} is pruned but not zero {when}");
        }
    }

    /// <summary>Runs steps of <paramref name="optimizer"/> on a fixed batch; with <paramref name="enforce"/> the masks are applied to gradients and weights.</summary>
    private static void Steps(LeNet300100 model, Optimizer optimizer, int steps, bool enforce)
    {
        var g = new Generator(11);
        var x = Tensor.Randn([16, 64], g);
        var y = Enumerable.Range(0, 16).Select(i => i % 4).ToArray();
        for (int s = 0; s < steps; s++)
        {
            using var scope = TensorScope.Begin();
            optimizer.ZeroGrad();
            F.CrossEntropy(model.Forward(x), y).Backward();
            if (enforce) PruningMask.ApplyToGradients(model);
            optimizer.Step();
            if (enforce) PruningMask.ApplyToWeights(model);
        }
    }

    public static TheoryData<string> Optimizers => ["sgd-momentum", "sgd-nesterov-wd", "adamw"];

    private static Optimizer Make(string kind, LeNet300100 model) => kind switch
    {
        "sgd-momentum" => new Sgd(model.Parameters(), 0.05, momentum: 0.9),
        "sgd-nesterov-wd" => new Sgd(model.Parameters(), 0.05, momentum: 0.9, weightDecay: 1e-2, nesterov: true),
        _ => new AdamW(model.Parameters(), 1e-2, weightDecay: 0.1),
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void PrunedWeightsStayZeroThroughOptimiserStepsWhoseStatePredatesThePruning(string kind)
    {
        // Build optimiser state (momentum, Adam moments) densely, then prune: that state would revive pruned weights.
        var model = PruningTestData.SmallLeNet(1);
        var opt = Make(kind, model);
        Steps(model, opt, 3, enforce: false);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.7 });
        AssertPrunedAreZero(model, "right after pruning");

        // The control: the same steps without re-applying the mask move pruned weights away from zero.
        var control = PruningTestData.SmallLeNet(1);
        var controlOpt = Make(kind, control);
        Steps(control, controlOpt, 3, enforce: false);
        MagnitudePruner.Prune(control, new PruningHparams { Fraction = 0.7 });
        Steps(control, controlOpt, 2, enforce: false);
        Assert.Contains(PruningMask.All(control), mp => mp.Parameter.ToArray().Where((w, i) => mp.Mask.ToArray()[i] == 0f).Any(w => w != 0f));

        Steps(model, opt, 5, enforce: true);
        AssertPrunedAreZero(model, $"after 5 {kind} steps");
        Assert.Contains(PruningMask.All(model), mp => mp.Parameter.ToArray().Where((w, i) => mp.Mask.ToArray()[i] != 0f).Any(w => w != 0f));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void TrainerWithEnforcedMasksKeepsPrunedWeightsZeroAndTrainsTheRest(string optimizer)
    {
        var model = PruningTestData.SmallLeNet(2);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.8 });
        var masked = PruningMask.Snapshot(model);
        var before = Layers.ToDictionary(n => n, n => model.GetParameter(n).ToArray());
        var hp = new TrainingHparams { Steps = "2ep", BatchSize = 32, Optimizer = optimizer, Lr = optimizer == "sgd" ? 0.05 : 1e-2, WeightDecay = 0.1, EvalEvery = "0it" };
        var trainer = PruningMask.Enforce(new Trainer(hp) { Progress = null, Prefetch = 0 });
        int backwardCalls = 0;
        trainer.AfterBackward += m =>
        {
            backwardCalls++;
            foreach (var mp in PruningMask.All(m))   // gradients are masked before the step
            {
                var g = mp.Parameter.Grad!.ToArray(); var k = mp.Mask.ToArray();
                for (int i = 0; i < g.Length; i++) if (k[i] == 0f) Assert.Equal(0f, g[i]);
            }
        };
        trainer.Fit(model, PruningTestData.Synthetic(160, 1));
        Assert.Equal(10, backwardCalls);
        AssertPrunedAreZero(model, "after training");
        foreach (var name in Layers)
        {
            Assert.Equal(masked[name].ToArray(), PruningMask.Get(model, name)!.ToArray());
            Assert.NotEqual(before[name], model.GetParameter(name).ToArray());
        }
        Assert.Equal(Sparsity.Measure(model).Zeros, masked.Values.Sum(m => m.ToArray().Count(v => v == 0f)));
    }
}
