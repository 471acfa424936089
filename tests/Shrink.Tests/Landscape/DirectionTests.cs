using Shrink.Landscape;
using Shrink.Pruning;
using Shrink.Torch;
using static Shrink.Tests.Pruning.PruningTestData;

namespace Shrink.Tests.Landscape;

public class DirectionTests
{
    private static double RowNorm(float[] data, long row, long size) =>
        Math.Sqrt(Enumerable.Range((int)(row * size), (int)size).Sum(i => (double)data[i] * data[i]));

    [Fact]
    public void FilterNormalisedDirectionsHaveTheFilterNormsOfTheWeightsAndZeroBiases()
    {
        var model = SmallLeNet(1);
        var d = RandomDirections.FilterNormalized(model, Seed.Generator(3));
        foreach (var (name, shape, data) in d.Entries)
        {
            var w = Values(model, name);
            var v = Values(data);
            if (shape.Count == 1) { Assert.All(v, x => Assert.Equal(0f, x)); continue; }
            long size = v.Length / shape[0];
            for (long f = 0; f < shape[0]; f++)
                Assert.Equal(RowNorm(w, f, size), RowNorm(v, f, size), 4);
        }
        Assert.NotEqual(Values(d["fc1.weight"]), Values(RandomDirections.FilterNormalized(model, Seed.Generator(4))["fc1.weight"]));
        Assert.Equal(Values(d["fc1.weight"]), Values(RandomDirections.FilterNormalized(model, Seed.Generator(3))["fc1.weight"]));   // seeded
    }

    [Fact]
    public void MaskedDirectionsAreZeroAtPrunedCoordinatesWithTheFilterNormsOfTheSurvivors()
    {
        var model = SmallLeNet(2);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.75 });
        var d = RandomDirections.FilterNormalized(model, Seed.Generator(5));
        foreach (var mp in PruningMask.All(model))
        {
            var m = Values(mp.Mask); var w = Values(mp.Parameter); var data = Values(d[mp.Name]);
            for (int i = 0; i < m.Length; i++) if (m[i] == 0f) Assert.Equal(0f, data[i]);
            long rows = mp.Parameter.shape[0], size = m.Length / rows;
            for (long f = 0; f < rows; f++) Assert.Equal(RowNorm(w, f, size), RowNorm(data, f, size), 4);
        }
        var u = RandomDirections.UnitSphere(model, Seed.Generator(6));
        Assert.Equal(1.0, u.Norm(), 6);
        foreach (var mp in PruningMask.All(model))
        {
            var m = Values(mp.Mask); var data = Values(u[mp.Name]);
            for (int i = 0; i < m.Length; i++) if (m[i] == 0f) Assert.Equal(0f, data[i]);
        }
    }

    [Fact]
    public void VitTokensAreOneFilterAndNormsAreIgnored()
    {
        var vit = SmallVit(0);
        var d = RandomDirections.FilterNormalized(vit, Seed.Generator(1));
        var pos = Values(vit, "pos_embed");
        Assert.Equal(Math.Sqrt(pos.Sum(v => (double)v * v)), Math.Sqrt(Values(d["pos_embed"]).Sum(v => (double)v * v)), 4);
        Assert.All(Values(d["blocks.0.norm1.weight"]), v => Assert.Equal(0f, v));
        var conv = Values(vit, "patch_embed.proj.weight");
        long size = conv.Length / d.ShapeOf("patch_embed.proj.weight")[0];
        Assert.Equal(RowNorm(conv, 3, size), RowNorm(Values(d["patch_embed.proj.weight"]), 3, size), 4);
    }

    [Fact]
    public void DistancesAreZeroToItselfAndMatchTheDefinition()
    {
        var a = SmallLeNet(1);
        var b = SmallLeNet(2);
        Assert.Equal(0.0, ParameterDistance.L2(a, a));
        Assert.Equal(0.0, ParameterDistance.L2(a, a.state_dict()));
        var pa = ParameterVector.FromModel(a); var pb = ParameterVector.FromModel(b);
        double expected = Math.Sqrt(pa.Entries.Zip(pb.Entries).Sum(e => Values(e.First.Data).Zip(Values(e.Second.Data)).Sum(t => (double)(t.First - t.Second) * (t.First - t.Second))));
        Assert.Equal(expected, ParameterDistance.L2(a, b), 9);
        Assert.Equal(1.0, ParameterDistance.Cosine(pa, pa), 9);
        Assert.Equal(expected / pb.Norm(), ParameterDistance.Relative(pa, pb), 9);
        Assert.Throws<ArgumentException>(() => pa.Dot(pa.Where(n => n != "fc1.bias")));
    }
}
