using System.Globalization;
using System.Text;

namespace Shrink.Notebooks.Parameters;

/// <summary>
/// The shortest round-trip spelling of a double as Python's <c>repr(float)</c> prints it, which is how papermill writes a
/// float parameter into the injected cell.
/// </summary>
internal static class PythonFloatText
{
    /// <summary>Splits a finite non-zero double into its shortest digits and the position of the decimal point
    /// (value = 0.d1d2…dn × 10^point).</summary>
    public static (bool Negative, string Digits, int Point) Decompose(double d)
    {
        // "R" gives the shortest round-trip digits; parse them back out of its (possibly exponent) form.
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int exp = 0;
        int e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exp = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }
        int dot = r.IndexOf('.');
        string intPart = dot < 0 ? r : r[..dot];
        string frac = dot < 0 ? "" : r[(dot + 1)..];
        string digits = intPart + frac;
        int point = intPart.Length + exp;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; point--; }
        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        return (d < 0, digits, point);
    }

    /// <summary>The double as Python's <c>repr</c>/<c>str</c> prints it ("100000.0", "1e-05", "1.5e+16", "nan", "inf").</summary>
    public static string Python(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        var (neg, digits, decpt) = Decompose(d);
        var sb = new StringBuilder();
        if (neg) sb.Append('-');
        int k = digits.Length;
        if (decpt <= -4 || decpt > 16)
        {
            sb.Append(digits[0]);
            if (k > 1) sb.Append('.').Append(digits, 1, k - 1);
            int x = decpt - 1;
            sb.Append('e').Append(x < 0 ? '-' : '+').Append(Math.Abs(x).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (decpt <= 0)
            sb.Append("0.").Append('0', -decpt).Append(digits);
        else if (decpt >= k)
            sb.Append(digits).Append('0', decpt - k).Append(".0");
        else
            sb.Append(digits, 0, decpt).Append('.').Append(digits, decpt, k - decpt);
        return sb.ToString();
    }
}
