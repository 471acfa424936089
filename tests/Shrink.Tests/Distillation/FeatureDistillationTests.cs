using Shrink.Distillation;
using Shrink.Torch;
using TorchSharp;
using static Shrink.Tests.Distillation.DistillationGradCheck;
using static TorchSharp.torch;

namespace Shrink.Tests.Distillation;

/// <summary>Hint, attention, Q-K-V relation and manifold losses: closed forms in double and gradient checks.</summary>
public class FeatureDistillationTests
{
    public FeatureDistillationTests() => TorchNative.EnsureLoaded();

    private static void Near(double expected, float actual, double tol = 5e-5) => DistillationLossTests.Near(expected, actual, tol);

    private static double[] Data(Tensor t) => DistillationLossTests.Values(t).Select(v => (double)v).ToArray();

    private static Tensor Randn(long[] shape, ulong seed) => randn(shape, generator: Seed.Generator(seed));

    [Fact]
    public void HintIsTheMseOfTheRegressedFeatures()
    {
        var reg = new HintRegressor(3, 2, Seed.Generator(1));
        var fs = Randn([2, 4, 3], 2);
        var ft = Randn([2, 4, 2], 3);
        double[] s = Data(fs), t = Data(ft), w = Data(reg.Proj.weight!), bias = Data(reg.Proj.bias!);
        Assert.All(w.Concat(bias), v => Assert.InRange(v, -1 / Math.Sqrt(3), 1 / Math.Sqrt(3)));   // PyTorch's Linear init bound
        double sum = 0;
        for (int r = 0; r < 8; r++)
            for (int o = 0; o < 2; o++)
            {
                double y = bias[o];
                for (int i = 0; i < 3; i++) y += w[o * 3 + i] * s[r * 3 + i];
                sum += (y - t[r * 2 + o]) * (y - t[r * 2 + o]);
            }
        Near(sum / 16, FeatureDistillation.Hint(fs, ft, reg).item<float>());
        Assert.Equal(["proj.weight", "proj.bias"], reg.named_parameters().Select(p => p.name));
        Assert.Throws<ArgumentException>(() => FeatureDistillation.Hint(fs, ft));   // widths differ, no regressor
        var e = Assert.Throws<ArgumentException>(() => FeatureDistillation.Hint(ft, ft, reg));   // width 2 into a 3 → 2 regressor
        Assert.Contains("input width 3", e.Message);
        // the same seed gives the same regressor
        Assert.Equal(w, Data(new HintRegressor(3, 2, Seed.Generator(1)).Proj.weight!));
        reg.to(ScalarType.Float64);
        var ft64 = ft.to(ScalarType.Float64);
        Check("Hint", x => FeatureDistillation.Hint(x[0], ft64, reg), Input([2, 4, 3], 4), reg.Proj.weight!, reg.Proj.bias!);
    }

    [Fact]
    public void AttentionKlAveragedAndMatched()
    {
        var s = Randn([2, 2, 3, 3], 5).softmax(-1);
        var t = Randn([2, 2, 3, 3], 6).softmax(-1);
        double[] a = Data(s), b = Data(t);
        double matched = 0, averaged = 0;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 3; i++)
            {
                var ps = new double[3]; var pt = new double[3];
                for (int h = 0; h < 2; h++)
                {
                    var rs = Enumerable.Range(0, 3).Select(j => a[((n * 2 + h) * 3 + i) * 3 + j]).ToArray();
                    var rt = Enumerable.Range(0, 3).Select(j => b[((n * 2 + h) * 3 + i) * 3 + j]).ToArray();
                    matched += DistillationLossTests.Kl(rt, rs);
                    for (int j = 0; j < 3; j++) { ps[j] += rs[j] / 2; pt[j] += rt[j] / 2; }
                }
                averaged += DistillationLossTests.Kl(pt, ps);
            }
        Near(matched / 12, AttentionDistillation.Kl(s, t, AttentionHeadMatching.Matched).item<float>());
        Near(averaged / 6, AttentionDistillation.Kl(s, t).item<float>());
        var t64 = t.to(ScalarType.Float64);
        Check("AttentionKl", x => AttentionDistillation.Kl(x[0].softmax(-1), t64, AttentionHeadMatching.Matched), Input([2, 2, 3, 3], 7));
        Check("AttentionKl averaged", x => AttentionDistillation.Kl(x[0].softmax(-1), t64), Input([2, 2, 3, 3], 8));
        Assert.Throws<ArgumentException>(() => AttentionDistillation.Kl(s, ones(2, 3, 3, 3), AttentionHeadMatching.Matched));
        // averaged matching accepts different head counts
        Assert.True(float.IsFinite(AttentionDistillation.Kl(s, ones(2, 3, 3, 3) / 3).item<float>()));
    }

    [Fact]
    public void QkvRelationEqualsMiniLmV2ByHand()
    {
        int b = 2, n = 3, ds = 4, dt = 6, ar = 2;
        var sq = Randn([b, n, 3 * ds], 9);
        var tq = Randn([b, n, 3 * dt], 10);
        double[] s = Data(sq), t = Data(tq);
        double Rel(double[] x, int d, int bi, int i, int j, int head, int row, int col)
        {
            int dr = d / ar; double dot = 0;
            for (int c = 0; c < dr; c++)
                dot += x[(bi * n + row) * 3 * d + i * d + head * dr + c] * x[(bi * n + col) * 3 * d + j * d + head * dr + c];
            return dot / Math.Sqrt(dr);
        }
        double total = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double lij = 0;
                for (int bi = 0; bi < b; bi++)
                    for (int h = 0; h < ar; h++)
                        for (int row = 0; row < n; row++)
                        {
                            var zs = Enumerable.Range(0, n).Select(col => Rel(s, ds, bi, i, j, h, row, col)).ToArray();
                            var zt = Enumerable.Range(0, n).Select(col => Rel(t, dt, bi, i, j, h, row, col)).ToArray();
                            var pt = DistillationLossTests.Softmax(zt); var ps = DistillationLossTests.Softmax(zs);
                            lij -= pt.Select((p, c) => p * Math.Log(ps[c])).Sum();
                        }
                total += lij / (b * ar * n);
            }
        Near(total / 9, RelationDistillation.QkvRelation(sq, tq, ar).item<float>());
        var tq64 = tq.to(ScalarType.Float64);
        Check("QkvRelation", x => RelationDistillation.QkvRelation(x[0], tq64, ar), Input([b, n, 3 * ds], 11));
        Assert.Throws<ArgumentException>(() => RelationDistillation.QkvRelation(sq, tq, 4));   // 4 does not divide 6
    }

    [Fact]
    public void ManifoldLossesEqualTheReferenceFormulas()
    {
        int b = 2, n = 3;
        var fs = Randn([b, n, 4], 12);
        var ft = Randn([b, n, 5], 13);
        double[][] Norm(double[] x, int d) => Enumerable.Range(0, b * n).Select(r =>
        {
            var v = x.Skip(r * d).Take(d).ToArray(); double len = Math.Sqrt(v.Sum(e => e * e));
            return v.Select(e => e / len).ToArray();
        }).ToArray();
        var s = Norm(Data(fs), 4); var t = Norm(Data(ft), 5);
        double Dot(double[] u, double[] v) => u.Select((e, i) => e * v[i]).Sum();
        double Gap(int r1, int r2) { double d = Dot(t[r1], t[r2]) - Dot(s[r1], s[r2]); return d * d; }
        double patch = 0, sample = 0;
        for (int bi = 0; bi < b; bi++) for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) patch += Gap(bi * n + i, bi * n + j);
        for (int p = 0; p < n; p++) for (int i = 0; i < b; i++) for (int j = 0; j < b; j++) sample += Gap(i * n + p, j * n + p);
        int k = 4;
        var rows = randperm(b * n, generator: Seed.Generator(99)).data<long>().ToArray().Take(k).Select(r => (int)r).ToArray();
        double rand = 0;
        foreach (var r1 in rows) foreach (var r2 in rows) rand += Gap(r1, r2);
        var losses = ManifoldDistillation.Compute(fs, ft, k, Seed.Generator(99));
        Near(patch / (b * n * n), losses.Patch.item<float>());
        Near(sample / (n * b * b), losses.Sample.item<float>());
        Near(rand / (k * k), losses.Random.item<float>());
        Near(4 * patch / (b * n * n) + 0.1 * sample / (n * b * b) + 0.2 * rand / (k * k), losses.Weighted(4, 0.1, 0.2).item<float>());
        var ft64 = ft.to(ScalarType.Float64);
        Check("Manifold", x => ManifoldDistillation.Compute(x[0], ft64, k, Seed.Generator(99)).Weighted(1, 1, 1), Input([b, n, 4], 14, margin: 0.1));
        // patch tokens drop the prefix; a bad shape is named
        Assert.Equal([2L, 2, 4], ManifoldDistillation.PatchTokens(fs, 1).shape);
        Assert.Throws<ArgumentException>(() => ManifoldDistillation.PatchTokens(fs, 3));
    }
}
