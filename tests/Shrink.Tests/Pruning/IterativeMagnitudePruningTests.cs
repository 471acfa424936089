using Shrink.Pruning;
using Shrink.Tests.Training;
using Shrink.Training;
using static Shrink.Tests.Pruning.PruningTestData;

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
        new(hp, seed => SmallLeNet(seed), Synthetic(160, 1), Synthetic(40, 2), root) { Prefetch = 0, Progress = null };

    [Fact]
    public void LotteryLineRewindsToInitialisationPrunesNestedMasksAndIsCached()
    {
        using var temp = new TempFolder("imp");
        var root = temp.Path;
        var imp = Make(Hp, root);
        var levels = imp.Run();
        Assert.Equal(3, levels.Count);
        var init = SmallLeNet(0);
        long total = levels[0].Sparsity.Total;
        long remaining = total;
        for (int l = 1; l <= 2; l++)
        {
            remaining -= (long)Math.Ceiling(0.5 * remaining);
            Assert.Equal(remaining, levels[l].Sparsity.Remaining);   // measured from the trained weights
            Assert.Equal(levels[l].Masks.Keys.Select(PruningMask.MaskName).Order(), levels[l].Model.state_dict().Keys.Where(k => k.EndsWith("_mask")).Order());
            foreach (var (name, mask) in levels[l].Masks)
            {
                var m = Values(mask);
                var start = Values(levels[l].Start[name]);
                var theta0 = StateValues(init, name);
                var trained = StateValues(levels[l].Model, name);
                var previous = Values(levels[1].Masks[name]);
                for (int i = 0; i < m.Length; i++)
                {
                    Assert.Equal(m[i] * theta0[i], start[i]);     // m ⊙ θ_0
                    if (m[i] == 0f) Assert.Equal(0f, trained[i]);
                    if (l == 2) Assert.True(m[i] <= previous[i]);   // nested
                }
            }
        }
        Assert.All(levels, l => Assert.False(l.Training.Reused));

        var again = Make(Hp, root).Run();
        Assert.All(again, l => Assert.True(l.Training.Reused));
        Assert.Equal(StateValues(levels[2].Model, "fc1.weight"), StateValues(again[2].Model, "fc1.weight"));
        Assert.Equal(Values(levels[2].Masks["fc2.weight"]), Values(again[2].Masks["fc2.weight"]));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void ControlsUseTheLotteryMasksOrTheirCountsAndLateRewindingStartsFromStepK()
    {
        using var temp = new TempFolder("imp-branches");
        var root = temp.Path;
        var hp = Hp with { RewindStep = "2it", Levels = 1 };
        var imp = Make(hp, root);
        var lottery = imp.RunLevel(1);
        Assert.True(File.Exists(Path.Combine(imp.RunLevel(0).RunFolder!, IterativeMagnitudePruning.RewindFileName)));
        var thetaK = imp.RewindState();
        var theta0 = SmallLeNet(0);
        Assert.NotEqual(StateValues(theta0, "fc1.weight"), Values(thetaK["fc1.weight"]));
        var m = Values(lottery.Masks["fc1.weight"]);
        var start = Values(lottery.Start["fc1.weight"]);
        var wk = Values(thetaK["fc1.weight"]);
        for (int i = 0; i < m.Length; i++) Assert.Equal(m[i] * wk[i], start[i]);
        Assert.Equal(8, lottery.Training.StepsTrained);   // steps 2 … 9 of 10

        var reinit = imp.RunBranch(1, LotteryBranch.RandomReinit, seed: 1);
        Assert.Equal(m, Values(reinit.Masks["fc1.weight"]));
        Assert.NotEqual(start, Values(reinit.Start["fc1.weight"]));

        var randomMask = imp.RunBranch(1, LotteryBranch.RandomMask, seed: 1);
        foreach (var (name, mask) in lottery.Masks)
        {
            Assert.Equal(Values(mask).Count(v => v != 0), Values(randomMask.Masks[name]).Count(v => v != 0));
            Assert.NotEqual(Values(mask), Values(randomMask.Masks[name]));
        }
        Assert.Equal(lottery.Sparsity.Zeros, randomMask.Sparsity.Zeros);
        Assert.Equal(4, new[] { imp.RunLevel(0), lottery, reinit, randomMask }.Select(l => l.RunFolder).Distinct().Count());
    }
}
