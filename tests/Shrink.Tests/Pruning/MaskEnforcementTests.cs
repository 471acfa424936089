using Shrink.Models;
using Shrink.Pruning;
using Shrink.Tests.Training;
using Shrink.Training;
using TorchSharp;
using static Shrink.Tests.Pruning.PruningTestData;
using static TorchSharp.torch;

namespace Shrink.Tests.Pruning;

[Collection(DefaultGeneratorCollection.Name)]
public class MaskEnforcementTests
{
    private static readonly string[] Layers = ["fc1.weight", "fc2.weight", "fc3.weight"];

    private static void AssertPrunedAreZero(nn.Module model, string when)
    {
        foreach (var mp in PruningMask.All(model))
        {
            var w = Values(mp.Parameter); var m = Values(mp.Mask);
            for (int i = 0; i < w.Length; i++)
                if (m[i] == 0f) Assert.True(w[i] == 0f, $"{mp.Name}[{i}] = {w[i]} is pruned but not zero {when}");
        }
    }

    private static bool AnyPrunedNonZero(nn.Module model) =>
        PruningMask.All(model).Any(mp => Values(mp.Parameter).Where((w, i) => Values(mp.Mask)[i] == 0f).Any(w => w != 0f));

    /// <summary>Runs steps of <paramref name="optimizer"/> on a fixed batch; with <paramref name="enforce"/> the masks are applied to gradients and weights.</summary>
    private static void Steps(LeNet300100 model, optim.Optimizer optimizer, int steps, bool enforce)
    {
        var x = Randn(11, 16, 64);
        var y = tensor(Enumerable.Range(0, 16).Select(i => (long)(i % 4)).ToArray());
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.cross_entropy(model.forward(x), y).backward();
            if (enforce) PruningMask.ApplyToGradients(model);
            optimizer.step();
            if (enforce) PruningMask.ApplyToWeights(model);
        }
    }

    public static TheoryData<string> Optimizers => ["sgd-momentum", "sgd-nesterov-wd", "adamw"];

    private static optim.Optimizer Make(string kind, LeNet300100 model) => kind switch
    {
        "sgd-momentum" => optim.SGD(model.parameters(), 0.05, momentum: 0.9),
        "sgd-nesterov-wd" => optim.SGD(model.parameters(), 0.05, momentum: 0.9, weight_decay: 1e-2, nesterov: true),
        _ => optim.AdamW(model.parameters(), 1e-2, weight_decay: 0.1),
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void PrunedWeightsStayZeroThroughOptimiserStepsWhoseStatePredatesThePruning(string kind)
    {
        // Build optimiser state (momentum, Adam moments) densely, then prune: that state would revive pruned weights.
        var model = SmallLeNet(1);
        var opt = Make(kind, model);
        Steps(model, opt, 3, enforce: false);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.7 });
        AssertPrunedAreZero(model, "right after pruning");

        // The control: the same steps without re-applying the mask move pruned weights away from zero.
        var control = SmallLeNet(1);
        var controlOpt = Make(kind, control);
        Steps(control, controlOpt, 3, enforce: false);
        MagnitudePruner.Prune(control, new PruningHparams { Fraction = 0.7 });
        Steps(control, controlOpt, 2, enforce: false);
        Assert.True(AnyPrunedNonZero(control));

        Steps(model, opt, 5, enforce: true);
        AssertPrunedAreZero(model, $"after 5 {kind} steps");
        Assert.Contains(PruningMask.All(model), mp => Values(mp.Parameter).Where((w, i) => Values(mp.Mask)[i] != 0f).Any(w => w != 0f));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void TrainerWithEnforcedMasksKeepsPrunedWeightsZeroAndTrainsTheRest(string optimizer)
    {
        var model = SmallLeNet(2);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.8 });
        var masked = PruningMask.Snapshot(model);
        var before = Layers.ToDictionary(n => n, n => Values(model, n));
        var hp = new TrainingHparams { Steps = "2ep", BatchSize = 32, Optimizer = optimizer, Lr = optimizer == "sgd" ? 0.05 : 1e-2, WeightDecay = 0.1, EvalEvery = "0it" };
        var trainer = PruningMask.Enforce(new Trainer(hp) { Progress = null, Prefetch = 0 });
        int backwardCalls = 0;
        trainer.AfterBackward += m =>
        {
            backwardCalls++;
            foreach (var mp in PruningMask.All(m))   // gradients are masked before the step
            {
                var g = Values(mp.Parameter.grad!); var k = Values(mp.Mask);
                for (int i = 0; i < g.Length; i++) if (k[i] == 0f) Assert.Equal(0f, g[i]);
            }
        };
        trainer.Fit(model, Synthetic(160, 1));
        Assert.Equal(10, backwardCalls);
        AssertPrunedAreZero(model, "after training");
        foreach (var name in Layers)
        {
            Assert.Equal(Values(masked[name]), Values(PruningMask.Get(model, name)!));
            Assert.NotEqual(before[name], Values(model, name));
        }
        Assert.Equal(Sparsity.Measure(model).Zeros, masked.Values.Sum(m => Values(m).Count(v => v == 0f)));
    }

    [Fact]
    public void MasksKeepWorkingAfterTheModelIsMoved()
    {
        // TorchSharp's Linear moves only its weight and bias in .to(): the masks must still be found, applied and saved.
        var model = SmallLeNet(3);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.5 });
        var masks = PruningMask.Snapshot(model);
        model.to(ScalarType.Float64);
        if (cuda.is_available()) model.to(CUDA);
        using (no_grad()) foreach (var p in model.parameters()) p.add_(1.0);
        Assert.True(AnyPrunedNonZero(model));
        PruningMask.ApplyToWeights(model);
        AssertPrunedAreZero(model, "after moving the model");
        foreach (var mp in PruningMask.All(model))
        {
            Assert.Equal(mp.Parameter.device_type, mp.Mask.device_type);
            Assert.Equal(Values(masks[mp.Name]), Values(mp.Mask));
        }
        Assert.Equal(masks.Keys.Select(PruningMask.MaskName).Order(), model.state_dict().Keys.Where(k => k.EndsWith(PruningMask.Suffix)).Order());
    }
}
