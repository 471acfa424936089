using Shrink.Reports;

namespace Shrink.Tests.Reports;

public class MeanStdTests
{
    [Fact]
    public void MeanStdUsesTheSampleStdAndRoundsToItsSecondDigit()
    {
        var m = MeanStd.Of(new[] { 0.90, 0.92, 0.94 });
        Assert.Equal(0.92, m.Mean, 12);
        Assert.Equal(0.02, m.Std, 12);        // sample std (n − 1): sqrt((0.0004 + 0 + 0.0004) / 2)
        Assert.Equal(3, m.Count);
        Assert.Equal("0.920 ± 0.020", m.ToString());
        Assert.Equal("0.92 ± 0.02", m.ToString("0.00", null));
        Assert.Equal("12.3 ± 1.5", new MeanStd(12.34, 1.5, 2).ToString());
        Assert.Equal("1234 ± 25", new MeanStd(1234.4, 25, 2).ToString());
        Assert.Equal("0.5 ± 0", MeanStd.Of(new[] { 0.5f }).ToString());
        Assert.Equal("NaN ± NaN", MeanStd.Of(new[] { 0.5, double.NaN }).ToString());
        Assert.Equal("0.9123 ± 0.0041", MeanStd.Format(new[] { 0.9082, 0.9123, 0.9164 }));
        Assert.Throws<ArgumentException>(() => MeanStd.Of(Array.Empty<double>()));
    }

    [Fact]
    public void StandardErrorOfTheDifferenceAndTheNoiseRule()
    {
        var a = MeanStd.Of([1.0, 3.0]);          // mean 2, std √2
        var b = MeanStd.Of([0.0, 0.0, 3.0]);     // mean 1, std √3
        Assert.Equal(Math.Sqrt(2.0 / 2 + 3.0 / 3), MeanStd.StandardErrorOfDifference(a, b), 12);
        Assert.Equal(0, MeanStd.StandardErrorOfDifference(MeanStd.Of([5.0]), MeanStd.Of([4.0])));
        Assert.Equal("within seed noise", MeanStd.NoiseVerdict(2.0, 1.0));
        Assert.Equal("a gain beyond seed noise", MeanStd.NoiseVerdict(2.01, 1.0));
        Assert.Equal("a loss beyond seed noise", MeanStd.NoiseVerdict(-2.01, 1.0));
    }

    [Fact]
    public void NoiseVerdictOfTwoMeasurementsNeedsTwoSeedsAndNumbers()
    {
        var baseline = MeanStd.Of([80.0, 81.0, 82.0]);                 // mean 81, std 1
        var gain = MeanStd.Of([84.0, 85.0, 86.0]);                     // Δ = 4, SE = √(2/3) ≈ 0.816: 4 > 1.63
        var close = MeanStd.Of([81.0, 82.0, 83.0]);                    // Δ = 1 ≤ 1.63
        Assert.Equal("a gain beyond seed noise", MeanStd.NoiseVerdict(gain, baseline));
        Assert.Equal("a loss beyond seed noise", MeanStd.NoiseVerdict(baseline, gain));
        Assert.Equal("within seed noise", MeanStd.NoiseVerdict(close, baseline));
        Assert.Equal("no noise estimate (one seed)", MeanStd.NoiseVerdict(MeanStd.Of([90.0]), baseline));
        Assert.Equal("no verdict (NaN)", MeanStd.NoiseVerdict(MeanStd.Of([90.0, double.NaN]), baseline));
    }
}
