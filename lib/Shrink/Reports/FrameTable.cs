using System.Globalization;
using System.Text;
using Deedle;
using Shrink.Formatting;

namespace Shrink.Reports;

/// <summary>
/// Any Deedle frame as a table to read: <see cref="ToText"/> (aligned columns, a dashed rule under the header) and
/// <see cref="ToHtml"/> (a self-contained <c>&lt;table&gt;</c>, styled inline). The row keys are the first column, with
/// an empty header (a Deedle frame does not name its row index).
/// <list type="bullet">
/// <item><see cref="MeanStd"/> prints as <c>mean ± std</c> with the std to two significant digits (<see cref="MeanStd.ToString()"/>).</item>
/// <item>A column of real numbers prints with one number of decimals, enough for three significant digits of its median
/// magnitude, so the decimal points line up (0.5593, 2.207, 1 → 0.56, 2.21, 1.00; 100, 51.2, 10.74 → 100.0, 51.2, 10.7); a column whose nonzero values
/// span more than four orders of magnitude prints each value with 4 significant digits instead (<see cref="FormatValue"/>).</item>
/// <item>Whole numbers print in full, with thousands separators from 10 000.</item>
/// <item>A missing value (including <see cref="double.NaN"/>, which Deedle stores as missing) prints as <c>—</c>.</item>
/// <item>Numbers are right-aligned, text left-aligned; a column whose values are all numbers has a right-aligned header.</item>
/// <item>Frames with more than <see cref="MaxRows"/> rows show the first and last rows around a <c>…</c> row.</item>
/// </list>
/// </summary>
public static class FrameTable
{
    /// <summary>The most rows shown; longer frames show the first <see cref="MaxRows"/> − 10 and the last 10.</summary>
    public const int MaxRows = 100;

    /// <summary>What a missing value prints as.</summary>
    public const string Missing = "—";

    /// <summary>The frame as aligned text: the header, a dashed rule, then one line per row.</summary>
    public static string ToText(IFrame frame)
    {
        var g = Read(frame);
        var widths = Enumerable.Range(0, g.Header.Length).Select(c => g.Rows.Select(r => r.Cells[c].Length).Append(g.Header[c].Length).Max()).ToArray();
        var sb = new StringBuilder();
        void Line(Func<int, string> cell)
        {
            var line = new StringBuilder();
            for (int c = 0; c < widths.Length; c++)
            {
                if (c > 0) line.Append("  ");
                line.Append(cell(c));
            }
            sb.Append(line.ToString().TrimEnd()).Append('\n');
        }
        Line(c => g.RightHeader[c] ? g.Header[c].PadLeft(widths[c]) : g.Header[c].PadRight(widths[c]));
        sb.AppendJoin("  ", widths.Select(w => new string('-', w))).Append('\n');
        foreach (var row in g.Rows)
            Line(c => row.Right[c] ? row.Cells[c].PadLeft(widths[c]) : row.Cells[c].PadRight(widths[c]));
        if (g.Note is not null) sb.Append(g.Note).Append('\n');
        return sb.ToString().TrimEnd('\n');
    }

    /// <summary>The frame as an HTML <c>&lt;table&gt;</c> with inline styles (no stylesheet or script needed).</summary>
    public static string ToHtml(IFrame frame)
    {
        const string cell = "padding:2px 10px;";
        var g = Read(frame);
        var sb = new StringBuilder("<table class=\"shrink-frame\" style=\"border-collapse:collapse;font-variant-numeric:tabular-nums\">");
        sb.Append("<thead><tr>");
        for (int c = 0; c < g.Header.Length; c++)
            sb.Append("<th style=\"").Append(cell).Append("border-bottom:1px solid #888;text-align:").Append(g.RightHeader[c] ? "right" : "left")
              .Append("\">").Append(HtmlText.Encode(g.Header[c])).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var row in g.Rows)
        {
            sb.Append("<tr>");
            for (int c = 0; c < row.Cells.Length; c++)
            {
                var tag = c == 0 ? "th" : "td";
                sb.Append('<').Append(tag).Append(" style=\"").Append(cell).Append("text-align:").Append(row.Right[c] ? "right" : "left")
                  .Append(tag == "th" ? ";font-weight:600" : "").Append("\">").Append(HtmlText.Encode(row.Cells[c])).Append("</").Append(tag).Append('>');
            }
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        if (g.Note is not null) sb.Append("<div style=\"font-size:smaller;color:#666\">").Append(HtmlText.Encode(g.Note)).Append("</div>");
        return sb.ToString();
    }

    /// <summary>A value as a table cell prints it (see the class remarks); null is <see cref="Missing"/>.</summary>
    public static string FormatValue(object? value)
    {
        var inv = CultureInfo.InvariantCulture;
        return value switch
        {
            null => Missing,
            string s => s,
            MeanStd m => m.ToString(),
            double d => FormatReal(d),
            float f => FormatReal(double.Parse(f.ToString(inv), inv)),
            Half h => FormatReal((double)h),
            decimal m => m.ToString("G", inv),
            int or long or short or byte or uint or ulong or ushort or sbyte => FormatWhole(Convert.ToDecimal(value, inv)),
            IFormattable x => x.ToString(null, inv),
            _ => value.ToString() ?? "",
        };
    }

    /// <summary>Whether a value is a number (right-aligned).</summary>
    public static bool IsNumber(object? value) =>
        value is MeanStd or double or float or decimal or int or long or short or byte or uint or ulong or ushort or sbyte or Half;

    /// <summary>The shared .NET format of a column of real numbers (see the class remarks), or null to format cell by cell.</summary>
    private static string? RealColumnFormat(object?[] column)
    {
        var values = column.Where(v => v is not null).ToArray();
        if (values.Length == 0 || !values.All(v => v is double or float or Half)) return null;
        var magnitudes = values.Select(v => Math.Abs(Convert.ToDouble(v, CultureInfo.InvariantCulture))).Where(x => double.IsFinite(x) && x > 0).ToArray();
        if (magnitudes.Length == 0 || magnitudes.All(x => x == Math.Round(x))) return null;   // zeros, or whole numbers: printed in full
        Array.Sort(magnitudes);
        double max = magnitudes[^1], min = magnitudes[0], median = magnitudes[(magnitudes.Length - 1) / 2];
        if (max / min > 1e4 || max >= 1e15) return null;
        int decimals = Math.Clamp(2 - (int)Math.Floor(Math.Log10(median)), 0, 10);
        return (max >= 10_000 ? "N" : "F") + decimals.ToString(CultureInfo.InvariantCulture);
    }

    private static string FormatReal(double d, string format) =>
        double.IsNaN(d) ? Missing : d.ToString(format, CultureInfo.InvariantCulture);

    private static string FormatReal(double d)
    {
        if (double.IsNaN(d)) return Missing;
        if (double.IsFinite(d) && d == Math.Round(d) && Math.Abs(d) < 1e15) return FormatWhole((decimal)d);
        return d.ToString("G4", CultureInfo.InvariantCulture);
    }

    private static string FormatWhole(decimal d) => d.ToString(Math.Abs(d) >= 10_000 ? "N0" : "F0", CultureInfo.InvariantCulture);

    private sealed record Row(string[] Cells, bool[] Right);

    private sealed record Grid(string[] Header, bool[] RightHeader, List<Row> Rows, string? Note);

    private static Grid Read(IFrame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return frame.Apply(new GridReader());
    }

    /// <summary>Reads a frame of any key types (Deedle's visitor for a frame whose type arguments are not known here).</summary>
    private sealed class GridReader : IFrameOperation<Grid>
    {
        public Grid Invoke<TRow, TColumn>(Frame<TRow, TColumn> frame)
        {
            var rowKeys = frame.RowKeys.ToArray();
            var columnKeys = frame.ColumnKeys.ToArray();
            var columns = Enumerable.Range(0, columnKeys.Length)
                .Select(c => frame.GetColumnAt<object>(c).GetAllValues().Select(v => v.HasValue ? v.Value : null).ToArray()).ToArray();
            var formats = columns.Select(RealColumnFormat).ToArray();
            var shown = Enumerable.Range(0, rowKeys.Length).ToList();
            string? note = null;
            if (rowKeys.Length > MaxRows)
            {
                shown = [.. Enumerable.Range(0, MaxRows - 10), -1, .. Enumerable.Range(rowKeys.Length - 10, 10)];
                note = $"{rowKeys.Length} rows × {columnKeys.Length} columns";
            }
            var header = new List<string> { "" };
            var rightHeader = new List<bool> { rowKeys.Length > 0 && rowKeys.All(k => IsNumber(k)) };
            for (int c = 0; c < columnKeys.Length; c++)
            {
                header.Add(FormatValue(columnKeys[c]));
                rightHeader.Add(columns[c].Any(v => v is not null) && columns[c].All(v => v is null || IsNumber(v)));
            }
            var rows = new List<Row>();
            foreach (int r in shown)
            {
                var cells = new List<string> { r < 0 ? "…" : FormatValue(rowKeys[r]) };
                var right = new List<bool> { rightHeader[0] };
                for (int c = 0; c < columnKeys.Length; c++)
                {
                    var v = r < 0 ? null : columns[c][r];
                    cells.Add(r < 0 ? "…" : formats[c] is { } f && v is not null ? FormatReal(Convert.ToDouble(v, CultureInfo.InvariantCulture), f) : FormatValue(v));
                    right.Add(v is null ? rightHeader[c + 1] : IsNumber(v));
                }
                rows.Add(new Row([.. cells], [.. right]));
            }
            return new Grid([.. header], [.. rightHeader], rows, note);
        }
    }
}
