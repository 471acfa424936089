using Shrink.Pruning;
using Shrink.Tensors;
using Shrink.Tests.Training;
using Shrink.Training;

namespace Shrink.Tests.Pruning;

[Collection(DefaultGeneratorCollection.Name)]
public class IterativeMagnitudePruningTests
{
    private static readonly LotteryHparams Hp = new()
    {
        Model = "small lenet",
        Training = new TrainingHparams { Steps = "2ep", BatchSize = 32, Optimizer = "sgd", Lr = 0.05, EvalEvery = "0it" },
        Pruning = new PruningHparams { Fraction = 0.5 },
        Levels = 2,
    };

    private static IterativeMagnitudePruning Make(LotteryHparams hp, string root) =>
        new(hp, seed => PruningTestData.SmallLeNet(seed), PruningTestData.Synthetic(160, 1), PruningTestData.Synthetic(40, 2), root) { Prefetch = 0 };

    [Fact]
    public void LotteryLineRewindsToInitialisationPrunesNestedMasksAndIsCached()
    {
        using var temp = new TempFolder("imp");
        var root = temp.Path;
        var imp = Make(Hp, root);
        var levels = imp.Run();
        Assert.Equal(3, levels.Count);
        var init = PruningTestData.SmallLeNet(0).StateDict();
        long total = levels[0].Sparsity.Total;
        long remaining = total;
        for (int l = 1; l <= 2; l++)
        {
            remaining -= (long)Math.Ceiling(0.5 * remaining);
            Assert.Equal(remaining, levels[l].Sparsity.Remaining);   // measured from the trained weights
            foreach (var (name, mask) in levels[l].Masks)
            {
                var m = mask.ToArray();
                var start = levels[l].Start[name].ToArray();
                var theta0 = init[name].ToArray();
                var trained = levels[l].Model.StateDict()[name].ToArray();
                for (int i = 0; i < m.Length; i++)
                {
                    Assert.Equal(m[i] * theta0[i], start[i]);     // m ⊙ θ_0
                    if (m[i] == 0f) Assert.Equal(0f, trained[i]);
                    if (l == 2) Assert.True(m[i] <= levels[1].Masks[name].ToArray()[i]);   // nested
                }
            }
        }
        Assert.All(levels, l => Assert.False(l.Training.Reused));

        var again = Make(Hp, root).Run();
        Assert.All(again, l => Assert.True(l.Training.Reused));
        Assert.Equal(levels[2].Model.StateDict()["fc1.weight"].ToArray(), again[2].Model.StateDict()["fc1.weight"].ToArray());
        Assert.Equal(levels[2].Masks["fc2.weight"].ToArray(), again[2].Masks["fc2.weight"].ToArray());
    }

    [Fact]
    public void ControlsUseTheLotteryMasksOrTheirCountsAndLateRewindingStartsFromStepK()
    {
        using var temp = new TempFolder("imp-branches");
        var root = temp.Path;
        var hp = Hp with { RewindStep = "2it", Levels = 1 };
        var imp = Make(hp, root);
        var lottery = imp.RunLevel(1);
        Assert.True(File.Exists(Path.Combine(imp.RunLevel(0).RunFolder!, IterativeMagnitudePruning.RewindFileName)));
        var thetaK = imp.RewindState();
        var theta0 = PruningTestData.SmallLeNet(0).StateDict();
        Assert.NotEqual(theta0["fc1.weight"].ToArray(), thetaK["fc1.weight"].ToArray());
        var m = lottery.Masks["fc1.weight"].ToArray();
        var start = lottery.Start["fc1.weight"].ToArray();
        var wk = thetaK["fc1.weight"].ToArray();
        for (int i = 0; i < m.Length; i++) Assert.Equal(m[i] * wk[i], start[i]);
        Assert.Equal(8, lottery.Training.StepsTrained);   // steps 2 … 9 of 10

        var reinit = imp.RunBranch(1, LotteryBranch.RandomReinit, seed: 1);
        Assert.Equal(lottery.Masks["fc1.weight"].ToArray(), reinit.Masks["fc1.weight"].ToArray());
        Assert.NotEqual(start, reinit.Start["fc1.weight"].ToArray());

        var randomMask = imp.RunBranch(1, LotteryBranch.RandomMask, seed: 1);
        foreach (var (name, mask) in lottery.Masks)
        {
            Assert.Equal(mask.ToArray().Count(v => v != 0), randomMask.Masks[name].ToArray().Count(v => v != 0));
            Assert.NotEqual(mask.ToArray(), randomMask.Masks[name].ToArray());
        }
        Assert.Equal(lottery.Sparsity.Zeros, randomMask.Sparsity.Zeros);
        Assert.Equal(4, new[] { imp.RunLevel(0), lottery, reinit, randomMask }.Select(l => l.RunFolder).Distinct().Count());
    }
}
