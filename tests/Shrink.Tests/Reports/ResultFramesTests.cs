using Deedle;
using Shrink.Reports;

namespace Shrink.Tests.Reports;

public class ResultFramesTests
{
    // Three seeds: the baseline 80/81/82, one method 4 points above it, one 1 point above it (std 1 everywhere).
    private static Frame<int, string> PerSeed() =>
        ResultFrames.PerSeed([0, 1, 2], ("no KD", [80.0, 81.0, 82.0]), ("Hinton KD", [84.0, 85.0, 86.0]), ("DeiT soft", [81.0, 82.0, 83.0]));

    [Fact]
    public void PerSeedHasOneRowPerSeedAndOneColumnPerMethodInOrder()
    {
        var f = PerSeed();
        Assert.Equal([0, 1, 2], f.RowKeys.ToArray());
        Assert.Equal(["no KD", "Hinton KD", "DeiT soft"], f.ColumnKeys.ToArray());
        Assert.Equal(85.0, f.GetColumn<double>("Hinton KD")[1]);
        Assert.Equal([81.0, 82.0, 83.0], f.GetColumn<double>("DeiT soft").Values.ToArray());

        var fromLinq = ResultFrames.PerSeed([7, 3], new[] { "b", "a" }.Select(m => (m, Enumerable.Repeat(m == "a" ? 1.0 : 2.0, 2))));
        Assert.Equal([7, 3], fromLinq.RowKeys.ToArray());
        Assert.Equal(["b", "a"], fromLinq.ColumnKeys.ToArray());
    }

    [Fact]
    public void PerSeedRejectsRaggedOrRepeatedInput()
    {
        var e = Assert.Throws<ArgumentException>(() => ResultFrames.PerSeed([0, 1, 2], ("a", [1.0, 2.0, 3.0]), ("b", [1.0, 2.0])));
        Assert.Contains("method 'b' has 2 values for 3 seeds", e.Message);
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() => ResultFrames.PerSeed([0, 1], ("a", [1.0, 2.0]), ("a", [1.0, 2.0]))).Message);
        Assert.Contains("a seed appears twice", Assert.Throws<ArgumentException>(() => ResultFrames.PerSeed([0, 0], ("a", [1.0, 2.0]))).Message);
        Assert.Throws<ArgumentException>(() => ResultFrames.PerSeed([], ("a", Array.Empty<double>())));
        Assert.Throws<ArgumentException>(() => ResultFrames.PerSeed([0]));
    }

    [Fact]
    public void SummaryHasMeanStdDeltaStandardErrorAndTheNoiseVerdict()
    {
        var s = ResultFrames.Summary(PerSeed(), baseline: "no KD");
        Assert.Equal(["no KD", "Hinton KD", "DeiT soft"], s.RowKeys.ToArray());
        Assert.Equal([ResultFrames.SeedsColumn, ResultFrames.MeanStdColumn, ResultFrames.DeltaColumn, ResultFrames.StandardErrorColumn, ResultFrames.VerdictColumn],
            s.ColumnKeys.ToArray());

        var mean = s.GetColumn<MeanStd>(ResultFrames.MeanStdColumn);
        Assert.Equal(new MeanStd(85, 1, 3), mean["Hinton KD"]);
        Assert.Equal(81, mean["no KD"].Mean, 12);
        Assert.Equal(3, s.GetColumn<int>(ResultFrames.SeedsColumn)["DeiT soft"]);

        var delta = s.GetColumn<double>(ResultFrames.DeltaColumn);
        var se = s.GetColumn<double>(ResultFrames.StandardErrorColumn);
        Assert.Equal(4, delta["Hinton KD"], 12);
        Assert.Equal(1, delta["DeiT soft"], 12);
        Assert.Equal(Math.Sqrt(1.0 / 3 + 1.0 / 3), se["Hinton KD"], 12);   // Welch: √(s_a²/n_a + s_b²/n_b)
        Assert.False(delta.TryGet("no KD").HasValue);                        // the baseline has no Δ …
        Assert.False(se.TryGet("no KD").HasValue);

        var verdict = s.GetColumn<string>(ResultFrames.VerdictColumn);
        Assert.Equal(ResultFrames.BaselineVerdict, verdict["no KD"]);      // … and is named as such
        Assert.Equal("a gain beyond seed noise", verdict["Hinton KD"]);     // 4 > 2 · 0.816
        Assert.Equal("within seed noise", verdict["DeiT soft"]);            // 1 ≤ 2 · 0.816
        Assert.Equal(MeanStd.NoiseVerdict(mean["DeiT soft"], mean["no KD"]), verdict["DeiT soft"]);
    }

    [Fact]
    public void SummaryWithoutABaselineHasOnlyTheSpread()
    {
        var s = ResultFrames.Summary(PerSeed());
        Assert.Equal([ResultFrames.SeedsColumn, ResultFrames.MeanStdColumn], s.ColumnKeys.ToArray());
        var e = Assert.Throws<ArgumentException>(() => ResultFrames.Summary(PerSeed(), baseline: "CE"));
        Assert.Contains("the baseline 'CE' is not a method; the methods are no KD, Hinton KD, DeiT soft", e.Message);
    }

    [Fact]
    public void ADivergedSeedShowsAsNaNAndOneSeedGivesNoNoiseEstimate()
    {
        var diverged = ResultFrames.Summary(ResultFrames.PerSeed([0, 1], ("base", [1.0, 2.0]), ("lr 10", [1.0, double.NaN])), "base");
        Assert.True(double.IsNaN(diverged.GetColumn<MeanStd>(ResultFrames.MeanStdColumn)["lr 10"].Mean));
        Assert.Equal(2, diverged.GetColumn<int>(ResultFrames.SeedsColumn)["lr 10"]);
        Assert.Equal("no verdict (NaN)", diverged.GetColumn<string>(ResultFrames.VerdictColumn)["lr 10"]);

        var single = ResultFrames.Summary(ResultFrames.PerSeed([0], ("base", [1.0]), ("other", [5.0])), "base");
        Assert.Equal("no noise estimate (one seed)", single.GetColumn<string>(ResultFrames.VerdictColumn)["other"]);
        Assert.Equal(4, single.GetColumn<double>(ResultFrames.DeltaColumn)["other"]);
    }

    [Fact]
    public void SummaryOfAFrameBuiltWithDeedleDirectly()
    {
        var runs = Frame.FromRecords(new[] { new { a = 1.0, b = 3 }, new { a = 3.0, b = 5 } });   // ints convert to doubles
        var s = ResultFrames.Summary(runs, "a");
        Assert.Equal(2, s.GetColumn<double>(ResultFrames.DeltaColumn)["b"], 12);
        var text = ResultFrames.Table(["x"], ("name", new[] { "t" }));
        Assert.Contains("column 'name' is not numeric", Assert.Throws<ArgumentException>(() => ResultFrames.Summary(text)).Message);
    }

    [Fact]
    public void TableKeepsColumnTypesAndMissingValues()
    {
        var t = ResultFrames.Table(["dense", "IMP"],
            ("top-1 %", new[] { new MeanStd(91.23, 0.41, 3), new MeanStd(90.7, 1.2, 3) }),
            ("parameters", new[] { 120_000L, 12_000L }),
            ("Pre-Fin", new object?[] { new MeanStd(89, 1, 3), null }),
            ("note", new[] { "reference", "90 % pruned" }));
        Assert.Equal(["dense", "IMP"], t.RowKeys.ToArray());
        Assert.Equal(new MeanStd(90.7, 1.2, 3), t.GetColumn<MeanStd>("top-1 %")["IMP"]);
        Assert.Equal(12_000L, t.GetColumn<long>("parameters")["IMP"]);
        Assert.Equal([typeof(MeanStd), typeof(long), typeof(object), typeof(string)], t.ColumnTypes.ToArray());
        Assert.False(t.GetColumn<object>("Pre-Fin").TryGet("IMP").HasValue);

        Assert.Contains("column 'b' has 1 values for 2 rows", Assert.Throws<ArgumentException>(() => ResultFrames.Table([1, 2], ("a", new[] { 1, 2 }), ("b", new[] { 1 }))).Message);
        var nullable = ResultFrames.Table([1, 2], ("a", new double?[] { 0.5, null }));
        Assert.Equal(0.5, nullable.GetColumn<double>("a")[1]);
        Assert.False(nullable.GetColumn<double>("a").TryGet(2).HasValue);
    }

    [Fact]
    public void FromRowsTypesEachColumnByItsCells()
    {
        var f = ResultFrames.FromRows(["models", "epochs", "accuracy %", "Pre-Fin"], [
            ("one decomposition", [12, 6.0, new MeanStd(80, 1, 3), null]),
            ("every depth", [4, 24, new MeanStd(81, 2, 3), new MeanStd(79, 1, 3)])]);
        Assert.Equal(["one decomposition", "every depth"], f.RowKeys.ToArray());
        Assert.Equal([typeof(int), typeof(object), typeof(MeanStd), typeof(object)], f.ColumnTypes.ToArray());   // MeanStd with a missing cell: object
        Assert.Equal(4, f.GetColumn<int>("models")["every depth"]);
        Assert.Equal(24.0, f.GetColumn<double>("epochs")["every depth"]);   // an int and a double: object, still numeric
        Assert.False(f.GetColumn<MeanStd>("Pre-Fin").TryGet("one decomposition").HasValue);
        var e = Assert.Throws<ArgumentException>(() => ResultFrames.FromRows(["a", "b"], [("r", new object?[] { 1 })]));
        Assert.Contains("row 'r' has 1 cells for 2 columns (a, b)", e.Message);
        Assert.Contains("a row key appears twice", Assert.Throws<ArgumentException>(() => ResultFrames.FromRows(["a"], [("r", [1]), ("r", [2])])).Message);
    }
}
