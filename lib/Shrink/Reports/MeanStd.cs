using System.Globalization;

namespace Shrink.Reports;

/// <summary>
/// The mean and standard deviation of repeated measurements (e.g. one accuracy per seed), printed as
/// <c>0.9123 ± 0.0041</c>. The std is the sample standard deviation (divisor n − 1, as PyTorch's <c>std()</c>;
/// 0 for a single value). By default the std keeps two significant digits and the mean is rounded to the same
/// decimal place; <see cref="ToString(string?, IFormatProvider?)"/> takes an explicit .NET format for both.
/// </summary>
/// <param name="Mean">The mean.</param>
/// <param name="Std">The sample standard deviation.</param>
/// <param name="Count">How many values.</param>
public readonly record struct MeanStd(double Mean, double Std, int Count) : IFormattable
{
    /// <summary>The mean and sample std of <paramref name="values"/> (NaN values included, so a diverged seed shows).</summary>
    /// <exception cref="ArgumentException">No values.</exception>
    public static MeanStd Of(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var v = values.ToArray();
        if (v.Length == 0) throw new ArgumentException("MeanStd.Of needs at least one value.", nameof(values));
        double mean = v.Average();
        double ss = 0;
        foreach (var x in v) ss += (x - mean) * (x - mean);
        return new MeanStd(mean, v.Length > 1 ? Math.Sqrt(ss / (v.Length - 1)) : 0, v.Length);
    }

    /// <summary>The mean and sample std of <paramref name="values"/>.</summary>
    public static MeanStd Of(IEnumerable<float> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Of(values.Select(x => (double)x));
    }

    /// <summary>
    /// Standard error of the difference of two means measured over independent seeds (Welch):
    /// SE(ā − b̄) = √(s_a²/n_a + s_b²/n_b). A single value contributes no spread (its std is 0).
    /// </summary>
    public static double StandardErrorOfDifference(MeanStd a, MeanStd b) =>
        Math.Sqrt(a.Std * a.Std / a.Count + b.Std * b.Std / b.Count);

    /// <summary>
    /// The notebooks' rule for a difference Δ with standard error <paramref name="standardError"/>: "within seed noise"
    /// when |Δ| ≤ 2·SE, else "a gain beyond seed noise" (Δ &gt; 0) or "a loss beyond seed noise" (Δ &lt; 0).
    /// </summary>
    public static string NoiseVerdict(double delta, double standardError) =>
        Math.Abs(delta) <= 2 * standardError ? "within seed noise" : delta > 0 ? "a gain beyond seed noise" : "a loss beyond seed noise";

    /// <summary>
    /// The same rule for <paramref name="value"/> against <paramref name="baseline"/> measured over independent seeds:
    /// Δ = difference of the means, SE from <see cref="StandardErrorOfDifference"/>. With fewer than two values on
    /// either side there is no spread to compare with ("no noise estimate (one seed)"), and a NaN mean or std gives
    /// "no verdict (NaN)" rather than a direction.
    /// </summary>
    public static string NoiseVerdict(MeanStd value, MeanStd baseline)
    {
        double delta = value.Mean - baseline.Mean, se = StandardErrorOfDifference(value, baseline);
        if (double.IsNaN(delta) || double.IsNaN(se)) return "no verdict (NaN)";
        if (value.Count < 2 || baseline.Count < 2) return "no noise estimate (one seed)";
        return NoiseVerdict(delta, se);
    }

    /// <summary><c>mean ± std</c> of <paramref name="values"/> in the default format, e.g. <c>0.9123 ± 0.0041</c>.</summary>
    public static string Format(IEnumerable<double> values) => Of(values).ToString();

    /// <summary><c>mean ± std</c>, the std to two significant digits and the mean to the same decimal place.</summary>
    public override string ToString() => ToString(null, CultureInfo.InvariantCulture);

    /// <summary><c>mean ± std</c> with both numbers in the .NET <paramref name="format"/> (null: see <see cref="ToString()"/>).</summary>
    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        formatProvider ??= CultureInfo.InvariantCulture;
        if (format is not null) return $"{Mean.ToString(format, formatProvider)} ± {Std.ToString(format, formatProvider)}";
        if (!double.IsFinite(Mean) || !double.IsFinite(Std) || Std == 0)
            return $"{Mean.ToString("G4", formatProvider)} ± {Std.ToString("G2", formatProvider)}";
        int decimals = Math.Clamp(1 - (int)Math.Floor(Math.Log10(Std)), 0, 12);
        var f = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        return $"{Mean.ToString(f, formatProvider)} ± {Std.ToString(f, formatProvider)}";
    }
}
