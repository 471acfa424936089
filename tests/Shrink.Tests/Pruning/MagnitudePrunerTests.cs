using Shrink.Pruning;
using Shrink.Tensors;

namespace Shrink.Tests.Pruning;

public class MagnitudePrunerTests
{
    private static readonly string[] Layers = ["fc1.weight", "fc2.weight", "fc3.weight"];

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(0.937)]
    public void GlobalPruningRemovesExactlyTheRequestedCountAndOnlyTheSmallestMagnitudes(double fraction)
    {
        var model = PruningTestData.SmallLeNet(1);
        var before = Layers.ToDictionary(n => n, n => model.GetParameter(n).ToArray());
        int total = before.Values.Sum(v => v.Length);

        var sparsity = MagnitudePruner.Prune(model, new PruningHparams { Fraction = fraction });

        Assert.Equal((int)Math.Ceiling(fraction * total - 1e-9), sparsity.Zeros);
        Assert.Equal(total, sparsity.Total);
        float maxPruned = 0, minKept = float.MaxValue;
        foreach (var name in Layers)
        {
            var mask = PruningMask.Get(model, name)!.ToArray();
            var w = model.GetParameter(name).ToArray();
            for (int i = 0; i < mask.Length; i++)
            {
                if (mask[i] == 0f) { Assert.Equal(0f, w[i]); maxPruned = Math.Max(maxPruned, MathF.Abs(before[name][i])); }
                else { Assert.Equal(before[name][i], w[i]); minKept = Math.Min(minKept, MathF.Abs(before[name][i])); }
            }
        }
        Assert.True(minKept >= maxPruned, $"a surviving |w| = {minKept} is below a pruned |w| = {maxPruned}");
    }

    [Fact]
    public void LayerwisePruningRemovesTheFractionOfEveryTensorWithOverrides()
    {
        var model = PruningTestData.SmallLeNet(2);
        var hp = new PruningHparams { Fraction = 0.3, Scope = PruningScope.Layerwise, LayerFractions = ["fc3=0.1"] };
        var before = Layers.ToDictionary(n => n, n => model.GetParameter(n).ToArray());
        var sparsity = MagnitudePruner.Prune(model, hp);
        foreach (var layer in sparsity.Layers)
        {
            double f = layer.Name == "fc3.weight" ? 0.1 : 0.3;
            Assert.Equal((long)Math.Ceiling(f * layer.Total - 1e-9), layer.Zeros);
            // Within each layer, every kept magnitude is ≥ every pruned one.
            var mask = PruningMask.Get(model, layer.Name)!.ToArray();
            var w0 = before[layer.Name];
            float maxPruned = Enumerable.Range(0, w0.Length).Where(i => mask[i] == 0f).Max(i => MathF.Abs(w0[i]));
            float minKept = Enumerable.Range(0, w0.Length).Where(i => mask[i] != 0f).Min(i => MathF.Abs(w0[i]));
            Assert.True(minKept >= maxPruned, layer.Name);
        }
    }

    [Fact]
    public void MasksNestAcrossLevelsAndSparsityFollowsTheGeometricSchedule()
    {
        var model = PruningTestData.SmallLeNet(3);
        var hp = new PruningHparams { Fraction = 0.2 };
        Dictionary<string, Tensor>? previous = null;
        long remaining = Sparsity.Measure(model).Total;
        for (int level = 1; level <= 6; level++)
        {
            // Perturb the surviving weights as training would, so each level ranks new magnitudes.
            var g = new Generator((ulong)level);
            foreach (var mp in PruningMask.All(model).Concat(Layers.Where(n => PruningMask.Get(model, n) is null).Select(n => new MaskedParameter(n, model.GetParameter(n), Tensor.OnesLike(model.GetParameter(n))))))
            {
                var span = mp.Parameter.AsSpan();
                for (int i = 0; i < span.Length; i++) span[i] += (float)(0.05 * g.NextNormal());
            }
            PruningMask.ApplyToWeights(model);
            var s = MagnitudePruner.Prune(model, hp);
            remaining -= (long)Math.Ceiling(0.2 * remaining - 1e-9);
            Assert.Equal(remaining, s.Remaining);
            var masks = PruningMask.Snapshot(model);
            if (previous is not null)
                foreach (var (name, mask) in masks)
                {
                    var now = mask.ToArray(); var before = previous[name].ToArray();
                    for (int i = 0; i < now.Length; i++) Assert.True(now[i] <= before[i], $"{name}[{i}] was revived at level {level}");
                }
            previous = masks;
        }
        Assert.InRange(Sparsity.Measure(model).Fraction, 1 - Math.Pow(0.8, 6) - 0.01, 1 - Math.Pow(0.8, 6) + 0.01);
    }

    [Fact]
    public void IgnoreListLeavesLayersAloneAndRejectsUnknownNames()
    {
        var model = PruningTestData.SmallLeNet(4);
        var fc3 = model.GetParameter("fc3.weight").ToArray();
        var s = MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.5, Ignore = ["fc3"] });
        Assert.Equal(fc3, model.GetParameter("fc3.weight").ToArray());
        Assert.Null(PruningMask.Get(model, "fc3.weight"));
        Assert.DoesNotContain(s.Layers, l => l.Name == "fc3.weight");
        var e = Assert.Throws<ArgumentException>(() => MagnitudePruner.Prune(model, new PruningHparams { Ignore = ["fc9"] }));
        Assert.Contains("fc9", e.Message);
    }

    [Fact]
    public void DefaultTargetsAreLinearAndConvWeightsOnly()
    {
        var vit = PruningTestData.SmallVit(0);
        var names = Prunable.Parameters(vit).Select(p => p.Name).ToList();
        Assert.Contains("patch_embed.proj.weight", names);
        Assert.Contains("blocks.0.attn.qkv.weight", names);
        Assert.Contains("head.weight", names);
        Assert.DoesNotContain(names, n => n.EndsWith(".bias") || n.Contains("norm") || n is "cls_token" or "pos_embed");
    }

    [Fact]
    public void RandomPruningRemovesTheSameCountsAtRandomAndSameSparsityKeepsPerTensorCounts()
    {
        var a = PruningTestData.SmallLeNet(5);
        var b = PruningTestData.SmallLeNet(5);
        var hp = new PruningHparams { Fraction = 0.4, Scope = PruningScope.Layerwise };
        var sm = MagnitudePruner.Prune(a, hp);
        var sr = MagnitudePruner.Prune(b, hp with { Method = PruningMethod.Random, Seed = 3 });
        Assert.Equal(sm.Layers.Select(l => l.Zeros), sr.Layers.Select(l => l.Zeros));
        Assert.NotEqual(PruningMask.Get(a, "fc1.weight")!.ToArray(), PruningMask.Get(b, "fc1.weight")!.ToArray());

        var masks = PruningMask.Snapshot(a);
        var random = RandomPruner.SameSparsity(masks, 7);
        foreach (var (name, m) in masks)
        {
            Assert.Equal(m.ToArray().Count(v => v != 0), random[name].ToArray().Count(v => v != 0));
            Assert.NotEqual(m.ToArray(), random[name].ToArray());
        }
        Assert.Equal(random["fc2.weight"].ToArray(), RandomPruner.SameSparsity(masks, 7)["fc2.weight"].ToArray());
    }

    [Fact]
    public void MasksRoundTripThroughTheStateDict()
    {
        var model = PruningTestData.SmallLeNet(6);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.6 });
        var state = model.StateDict(clone: true);
        Assert.Contains("fc1.weight_mask", state.Keys);
        Assert.Contains("fc3.weight_mask", state.Keys);

        var copy = PruningTestData.SmallLeNet(99);
        Assert.Throws<ArgumentException>(() => copy.LoadStateDict(state));   // plain load: unexpected mask keys
        PruningMask.LoadStateDict(copy, state);
        foreach (var name in Layers)
        {
            Assert.Equal(PruningMask.Get(model, name)!.ToArray(), PruningMask.Get(copy, name)!.ToArray());
            Assert.Equal(model.GetParameter(name).ToArray(), copy.GetParameter(name).ToArray());
        }
        Assert.Equal(Sparsity.Measure(model).Zeros, Sparsity.Measure(copy).Zeros);

        PruningMask.RemoveAll(copy);
        Assert.Empty(PruningMask.All(copy));
        Assert.DoesNotContain("fc1.weight_mask", copy.StateDict().Keys);
    }
}
