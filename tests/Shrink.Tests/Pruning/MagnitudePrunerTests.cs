using Shrink.Pruning;
using Shrink.Torch;
using static Shrink.Tests.Pruning.PruningTestData;
using static TorchSharp.torch;

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
        var model = SmallLeNet(1);
        var before = Layers.ToDictionary(n => n, n => Values(model, n));
        int total = before.Values.Sum(v => v.Length);

        var sparsity = MagnitudePruner.Prune(model, new PruningHparams { Fraction = fraction });

        Assert.Equal((int)Math.Ceiling(fraction * total - 1e-9), sparsity.Zeros);
        Assert.Equal(total, sparsity.Total);
        float maxPruned = 0, minKept = float.MaxValue;
        foreach (var name in Layers)
        {
            var mask = Values(PruningMask.Get(model, name)!);
            var w = Values(model, name);
            for (int i = 0; i < mask.Length; i++)
            {
                if (mask[i] == 0f) { Assert.Equal(0f, w[i]); Assert.False(float.IsNegative(w[i]), "pruned weights are +0"); maxPruned = Math.Max(maxPruned, MathF.Abs(before[name][i])); }
                else { Assert.Equal(before[name][i], w[i]); minKept = Math.Min(minKept, MathF.Abs(before[name][i])); }
            }
        }
        Assert.True(minKept >= maxPruned, $"a surviving |w| = {minKept} is below a pruned |w| = {maxPruned}");
    }

    [Fact]
    public void LayerwisePruningRemovesTheFractionOfEveryTensorWithOverrides()
    {
        var model = SmallLeNet(2);
        var hp = new PruningHparams { Fraction = 0.3, Scope = PruningScope.Layerwise, LayerFractions = ["fc3=0.1"] };
        var before = Layers.ToDictionary(n => n, n => Values(model, n));
        var sparsity = MagnitudePruner.Prune(model, hp);
        foreach (var layer in sparsity.Layers)
        {
            double f = layer.Name == "fc3.weight" ? 0.1 : 0.3;
            Assert.Equal((long)Math.Ceiling(f * layer.Total - 1e-9), layer.Zeros);
            // Within each layer, every kept magnitude is ≥ every pruned one.
            var mask = Values(PruningMask.Get(model, layer.Name)!);
            var w0 = before[layer.Name];
            float maxPruned = Enumerable.Range(0, w0.Length).Where(i => mask[i] == 0f).Max(i => MathF.Abs(w0[i]));
            float minKept = Enumerable.Range(0, w0.Length).Where(i => mask[i] != 0f).Min(i => MathF.Abs(w0[i]));
            Assert.True(minKept >= maxPruned, layer.Name);
        }
    }

    [Fact]
    public void TiesAreBrokenByTensorOrderThenPosition()
    {
        var model = SmallLeNet(3);
        using (no_grad())
            foreach (var name in Layers) model.named_parameters().First(p => p.name == name).parameter.fill_(0.5f);   // all tied
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.4 });
        long total = Layers.Sum(n => Values(model, n).LongLength), k = (long)Math.Ceiling(0.4 * total);
        var flat = Layers.SelectMany(n => Values(PruningMask.Get(model, n)!)).ToArray();
        Assert.All(flat.Take((int)k), m => Assert.Equal(0f, m));      // the first k in (tensor, position) order go
        Assert.All(flat.Skip((int)k), m => Assert.Equal(1f, m));
    }

    [Fact]
    public void MasksNestAcrossLevelsAndSparsityFollowsTheGeometricSchedule()
    {
        var model = SmallLeNet(3);
        var hp = new PruningHparams { Fraction = 0.2 };
        Dictionary<string, Tensor>? previous = null;
        long remaining = Sparsity.Measure(model).Total;
        for (int level = 1; level <= 6; level++)
        {
            // Perturb the surviving weights as training would, so each level ranks new magnitudes.
            using (no_grad())
            {
                ulong i = 0;
                foreach (var name in Layers)
                {
                    var p = model.named_parameters().First(q => q.name == name).parameter;
                    p.add_(Randn(Seed.Mix((ulong)level, i++), p.shape) * 0.05f);
                }
            }
            PruningMask.ApplyToWeights(model);
            var s = MagnitudePruner.Prune(model, hp);
            remaining -= (long)Math.Ceiling(0.2 * remaining - 1e-9);
            Assert.Equal(remaining, s.Remaining);
            var masks = PruningMask.Snapshot(model);
            if (previous is not null)
                foreach (var (name, mask) in masks)
                {
                    var now = Values(mask); var before = Values(previous[name]);
                    for (int i = 0; i < now.Length; i++) Assert.True(now[i] <= before[i], $"{name}[{i}] was revived at level {level}");
                }
            previous = masks;
        }
        Assert.InRange(Sparsity.Measure(model).Fraction, 1 - Math.Pow(0.8, 6) - 0.01, 1 - Math.Pow(0.8, 6) + 0.01);
    }

    [Fact]
    public void IgnoreListLeavesLayersAloneAndRejectsUnknownNames()
    {
        var model = SmallLeNet(4);
        var fc3 = Values(model, "fc3.weight");
        var s = MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.5, Ignore = ["fc3"] });
        Assert.Equal(fc3, Values(model, "fc3.weight"));
        Assert.Null(PruningMask.Get(model, "fc3.weight"));
        Assert.DoesNotContain(s.Layers, l => l.Name == "fc3.weight");
        var e = Assert.Throws<ArgumentException>(() => MagnitudePruner.Prune(model, new PruningHparams { Ignore = ["fc9"] }));
        Assert.Contains("fc9", e.Message);
    }

    [Fact]
    public void DefaultTargetsAreLinearAndConvWeightsOnly()
    {
        var vit = SmallVit(0);
        var names = Prunable.Parameters(vit).Select(p => p.Name).ToList();
        Assert.Contains("patch_embed.proj.weight", names);
        Assert.Contains("blocks.0.attn.qkv.weight", names);
        Assert.Contains("head.weight", names);
        Assert.DoesNotContain(names, n => n.EndsWith(".bias") || n.Contains("norm") || n is "cls_token" or "pos_embed");
    }

    [Fact]
    public void RandomPruningRemovesTheSameCountsAtRandomAndSameSparsityKeepsPerTensorCounts()
    {
        var a = SmallLeNet(5);
        var b = SmallLeNet(5);
        var hp = new PruningHparams { Fraction = 0.4, Scope = PruningScope.Layerwise };
        var sm = MagnitudePruner.Prune(a, hp);
        var sr = MagnitudePruner.Prune(b, hp with { Method = PruningMethod.Random, Seed = 3 });
        Assert.Equal(sm.Layers.Select(l => l.Zeros), sr.Layers.Select(l => l.Zeros));
        Assert.NotEqual(Values(PruningMask.Get(a, "fc1.weight")!), Values(PruningMask.Get(b, "fc1.weight")!));
        var c = SmallLeNet(5);
        MagnitudePruner.Prune(c, hp with { Method = PruningMethod.Random, Seed = 3 });
        Assert.Equal(Values(PruningMask.Get(b, "fc1.weight")!), Values(PruningMask.Get(c, "fc1.weight")!));   // seeded

        var masks = PruningMask.Snapshot(a);
        var random = RandomPruner.SameSparsity(masks, 7);
        foreach (var (name, m) in masks)
        {
            Assert.Equal(Values(m).Count(v => v != 0), Values(random[name]).Count(v => v != 0));
            Assert.NotEqual(Values(m), Values(random[name]));
        }
        Assert.Equal(Values(random["fc2.weight"]), Values(RandomPruner.SameSparsity(masks, 7)["fc2.weight"]));
    }

    [Fact]
    public void MasksArePersistentBuffersThatRoundTripThroughTheStateDict()
    {
        var model = SmallLeNet(6);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.6 });
        Assert.Contains("fc1.weight_mask", model.named_buffers().Select(b => b.name));
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        Assert.Contains("fc1.weight_mask", state.Keys);
        Assert.Contains("fc3.weight_mask", state.Keys);

        var copy = SmallLeNet(99);
        Assert.Throws<ArgumentException>(() => copy.LoadStateDictChecked(state));   // plain load: unexpected mask keys
        PruningMask.LoadStateDict(copy, state);
        foreach (var name in Layers)
        {
            Assert.Equal(Values(PruningMask.Get(model, name)!), Values(PruningMask.Get(copy, name)!));
            Assert.Equal(Values(model, name), Values(copy, name));
        }
        Assert.Equal(Sparsity.Measure(model).Zeros, Sparsity.Measure(copy).Zeros);

        PruningMask.RemoveAll(copy);
        Assert.Empty(PruningMask.All(copy));
        Assert.DoesNotContain("fc1.weight_mask", copy.state_dict().Keys);
        Assert.Equal(Sparsity.Measure(model).Zeros, Sparsity.Measure(copy).Zeros);   // the zeros stay
    }

    [Fact]
    public void SetRejectsUnknownParametersAndWrongShapes()
    {
        var model = SmallLeNet(7);
        Assert.Throws<ArgumentException>(() => PruningMask.Set(model, "fc9.weight", ones(2, 2)));
        var e = Assert.Throws<ArgumentException>(() => PruningMask.Set(model, "fc1.weight", ones(2, 2)));
        Assert.Contains("fc1.weight", e.Message);
    }
}
