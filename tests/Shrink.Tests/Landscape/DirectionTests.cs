using Shrink.Landscape;
using Shrink.Pruning;
using Shrink.Tensors;
using Shrink.Tests.Pruning;

namespace Shrink.Tests.Landscape;

public class DirectionTests
{
    private static double RowNorm(float[] data, int row, int size) =>
        Math.Sqrt(Enumerable.Range(row * size, size).Sum(i => (double)data[i] * data[i]));

    [Fact]
    public void FilterNormalisedDirectionsHaveTheFilterNormsOfTheWeightsAndZeroBiases()
    {
        var model = PruningTestData.SmallLeNet(1);
        var d = RandomDirections.FilterNormalized(model, new Generator(3));
        foreach (var (name, shape, data) in d.Entries)
        {
            var w = model.GetParameter(name).ToArray();
            if (shape.Count == 1) { Assert.All(data, v => Assert.Equal(0f, v)); continue; }
            int size = data.Length / shape[0];
            for (int f = 0; f < shape[0]; f++)
                Assert.Equal(RowNorm(w, f, size), RowNorm(data, f, size), 4);
        }
        Assert.NotEqual(d["fc1.weight"], RandomDirections.FilterNormalized(model, new Generator(4))["fc1.weight"]);
    }

    [Fact]
    public void MaskedDirectionsAreZeroAtPrunedCoordinatesWithTheFilterNormsOfTheSurvivors()
    {
        var model = PruningTestData.SmallLeNet(2);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.75 });
        var d = RandomDirections.FilterNormalized(model, new Generator(5));
        foreach (var mp in PruningMask.All(model))
        {
            var m = mp.Mask.ToArray(); var w = mp.Parameter.ToArray(); var data = d[mp.Name];
            for (int i = 0; i < m.Length; i++) if (m[i] == 0f) Assert.Equal(0f, data[i]);
            int rows = mp.Parameter.Shape[0], size = m.Length / rows;
            for (int f = 0; f < rows; f++) Assert.Equal(RowNorm(w, f, size), RowNorm(data, f, size), 4);
        }
        var u = RandomDirections.UnitSphere(model, new Generator(6));
        Assert.Equal(1.0, u.Norm(), 6);
        foreach (var mp in PruningMask.All(model))
        {
            var m = mp.Mask.ToArray();
            for (int i = 0; i < m.Length; i++) if (m[i] == 0f) Assert.Equal(0f, u[mp.Name][i]);
        }
    }

    [Fact]
    public void VitTokensAreOneFilterAndNormsAreIgnored()
    {
        var vit = PruningTestData.SmallVit(0);
        var d = RandomDirections.FilterNormalized(vit, new Generator(1));
        var pos = vit.GetParameter("pos_embed").ToArray();
        Assert.Equal(Math.Sqrt(pos.Sum(v => (double)v * v)), Math.Sqrt(d["pos_embed"].Sum(v => (double)v * v)), 4);
        Assert.All(d["blocks.0.norm1.weight"], v => Assert.Equal(0f, v));
        var conv = vit.GetParameter("patch_embed.proj.weight");
        int size = conv.Numel / conv.Shape[0];
        Assert.Equal(RowNorm(conv.ToArray(), 3, size), RowNorm(d["patch_embed.proj.weight"], 3, size), 4);
    }

    [Fact]
    public void DistancesAreZeroToItselfAndMatchTheDefinition()
    {
        var a = PruningTestData.SmallLeNet(1);
        var b = PruningTestData.SmallLeNet(2);
        Assert.Equal(0.0, ParameterDistance.L2(a, a));
        Assert.Equal(0.0, ParameterDistance.L2(a, a.StateDict()));
        var pa = ParameterVector.FromModel(a); var pb = ParameterVector.FromModel(b);
        double expected = Math.Sqrt(pa.Entries.Zip(pb.Entries).Sum(e => e.First.Data.Zip(e.Second.Data).Sum(t => (double)(t.First - t.Second) * (t.First - t.Second))));
        Assert.Equal(expected, ParameterDistance.L2(a, b), 9);
        Assert.Equal(1.0, ParameterDistance.Cosine(pa, pa), 9);
        Assert.Equal(expected / pb.Norm(), ParameterDistance.Relative(pa, pb), 9);
    }
}
