using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using Shrink.Formatting;

namespace Shrink.Reports;

/// <summary>
/// A table of results: rows × named columns of numbers, strings and <see cref="MeanStd"/> values. Build it row by
/// row (<see cref="AddRow"/>), from records or anonymous objects (<see cref="From{T}"/>), or from column arrays
/// (<see cref="FromColumns"/>). In a notebook it renders as an HTML table (<c>text/html</c>) and as an aligned text
/// table (<c>text/plain</c>, also <see cref="ToString"/>), through <see cref="ResultTableFormatterSource"/>.
/// <code>
/// var t = new ResultTable("method", "top-1", "sparsity") { Title = "Fashion-MNIST, 3 seeds" };
/// t.AddRow("dense", MeanStd.Of(denseAcc), 0.0);
/// t.AddRow("IMP",   MeanStd.Of(impAcc),   0.9);
/// t   // renders as a table
/// </code>
/// Numbers are printed with 4 significant digits (integers in full) unless a column has a .NET format
/// (<see cref="SetFormat"/>); numbers are right-aligned, text left-aligned.
/// </summary>
[TypeFormatterSource(typeof(ResultTableFormatterSource), PreferredMimeTypes = ["text/html", "text/plain"])]
public sealed class ResultTable
{
    private readonly string[] _columns;
    private readonly List<object?[]> _rows = [];
    private readonly Dictionary<string, string> _formats = new(StringComparer.Ordinal);

    /// <summary>An empty table with the named columns (unique, non-empty names).</summary>
    public ResultTable(params string[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length == 0) throw new ArgumentException("ResultTable needs at least one column.", nameof(columns));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < columns.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(columns[i])) throw new ArgumentException($"ResultTable: column {i} has no name.", nameof(columns));
            if (!seen.Add(columns[i])) throw new ArgumentException($"ResultTable: column '{columns[i]}' appears twice.", nameof(columns));
        }
        _columns = [.. columns];
    }

    /// <summary>A caption shown above the table, or null.</summary>
    public string? Title { get; set; }

    /// <summary>The column names, in order.</summary>
    public IReadOnlyList<string> Columns => _columns;

    /// <summary>The number of rows.</summary>
    public int RowCount => _rows.Count;

    /// <summary>The cell in row <paramref name="row"/> of column <paramref name="column"/>.</summary>
    public object? this[int row, string column] { get { int c = ColumnIndex(column); return _rows[row][c]; } }

    /// <summary>The cell in row <paramref name="row"/>, column number <paramref name="column"/>.</summary>
    public object? this[int row, int column] => _rows[row][column];

    /// <summary>Appends a row: one cell per column, in column order. Returns this table.</summary>
    public ResultTable AddRow(params object?[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _columns.Length)
            throw new ArgumentException($"ResultTable.AddRow: got {cells.Length} cells for {_columns.Length} columns ({string.Join(", ", _columns)}).", nameof(cells));
        _rows.Add([.. cells]);
        return this;
    }

    /// <summary>Prints column <paramref name="column"/> with the .NET <paramref name="format"/> (e.g. <c>0.000</c>, <c>P1</c>, <c>E2</c>). Returns this table.</summary>
    public ResultTable SetFormat(string column, string format)
    {
        ColumnIndex(column);
        ArgumentException.ThrowIfNullOrEmpty(format);
        _formats[column] = format;
        return this;
    }

    /// <summary>
    /// A table with one row per record and one column per public property or field of <typeparamref name="T"/>, in
    /// declaration order (anonymous objects, records, classes). For <c>T = object</c> the first row's type is used.
    /// </summary>
    public static ResultTable From<T>(IEnumerable<T> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var list = rows.ToList();
        var type = typeof(T);
        if (type == typeof(object))
            type = list.FirstOrDefault()?.GetType() ?? throw new ArgumentException("ResultTable.From<object> needs at least one row to find the columns.", nameof(rows));
        var members = type.GetMembers(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m is FieldInfo || m is PropertyInfo { CanRead: true } p && p.GetIndexParameters().Length == 0)
            .OrderBy(m => m.MetadataToken)
            .ToArray();
        if (members.Length == 0) throw new ArgumentException($"ResultTable.From: {type.Name} has no public properties or fields to make columns of.", nameof(rows));
        var table = new ResultTable(members.Select(m => m.Name).ToArray());
        for (int r = 0; r < list.Count; r++)
        {
            var item = list[r] ?? throw new ArgumentException($"ResultTable.From: row {r} is null.", nameof(rows));
            if (!type.IsInstanceOfType(item)) throw new ArgumentException($"ResultTable.From: row {r} is a {item.GetType().Name}, not a {type.Name} like row 0.", nameof(rows));
            table.AddRow(members.Select(m => m is PropertyInfo p ? p.GetValue(item) : ((FieldInfo)m).GetValue(item)).ToArray());
        }
        return table;
    }

    /// <summary>A table from named columns of equal length, e.g. <c>FromColumns(("lr", lrs), ("top-1", accs))</c>.</summary>
    public static ResultTable FromColumns(params (string Name, IEnumerable Values)[] columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        var table = new ResultTable(columns.Select(c => c.Name).ToArray());
        var values = columns.Select(c => (c.Values ?? throw new ArgumentException($"ResultTable.FromColumns: column '{c.Name}' is null.", nameof(columns))).Cast<object?>().ToArray()).ToArray();
        for (int c = 1; c < values.Length; c++)
            if (values[c].Length != values[0].Length)
                throw new ArgumentException($"ResultTable.FromColumns: column '{columns[c].Name}' has {values[c].Length} values but '{columns[0].Name}' has {values[0].Length}.", nameof(columns));
        for (int r = 0; r < values[0].Length; r++) table.AddRow(values.Select(v => v[r]).ToArray());
        return table;
    }

    /// <summary>The cell as printed (see the class remarks).</summary>
    public string FormatCell(int row, int column) => FormatValue(_rows[row][column], _formats.GetValueOrDefault(_columns[column]));

    /// <summary>An HTML <c>&lt;table&gt;</c> (with the title as its caption).</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder("<table class=\"shrink-result-table\">");
        if (Title is not null) sb.Append("<caption>").Append(HtmlText.Encode(Title)).Append("</caption>");
        sb.Append("<thead><tr>");
        for (int c = 0; c < _columns.Length; c++)
            sb.Append(IsNumericColumn(c) ? "<th style=\"text-align:right\">" : "<th style=\"text-align:left\">").Append(HtmlText.Encode(_columns[c])).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        for (int r = 0; r < _rows.Count; r++)
        {
            sb.Append("<tr>");
            for (int c = 0; c < _columns.Length; c++)
                sb.Append(IsNumeric(_rows[r][c]) ? "<td style=\"text-align:right\">" : "<td style=\"text-align:left\">")
                  .Append(HtmlText.Encode(FormatCell(r, c))).Append("</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</tbody></table>").ToString();
    }

    /// <summary>An aligned text table: the title, the header, a dashed rule, then one line per row.</summary>
    public override string ToString()
    {
        var cells = new string[_rows.Count + 1][];
        cells[0] = _columns;
        for (int r = 0; r < _rows.Count; r++) cells[r + 1] = Enumerable.Range(0, _columns.Length).Select(c => FormatCell(r, c)).ToArray();
        var widths = Enumerable.Range(0, _columns.Length).Select(c => cells.Max(row => row[c].Length)).ToArray();
        var sb = new StringBuilder();
        if (Title is not null) sb.Append(Title).Append('\n');
        for (int r = 0; r < cells.Length; r++)
        {
            var line = new StringBuilder();
            for (int c = 0; c < _columns.Length; c++)
            {
                if (c > 0) line.Append("  ");
                bool right = r == 0 ? IsNumericColumn(c) : IsNumeric(_rows[r - 1][c]);
                line.Append(right ? cells[r][c].PadLeft(widths[c]) : cells[r][c].PadRight(widths[c]));
            }
            sb.Append(line.ToString().TrimEnd()).Append('\n');
            if (r == 0) sb.AppendJoin("  ", widths.Select(w => new string('-', w))).Append('\n');
        }
        return sb.ToString().TrimEnd('\n');
    }

    private int ColumnIndex(string column)
    {
        int i = Array.IndexOf(_columns, column);
        if (i < 0) throw new ArgumentException($"ResultTable has no column '{column}'; its columns are {string.Join(", ", _columns)}.", nameof(column));
        return i;
    }

    private bool IsNumericColumn(int c) => _rows.Count > 0 && _rows.All(r => r[c] is null || IsNumeric(r[c]));

    private static bool IsNumeric(object? v) => v is MeanStd or double or float or decimal or int or long or short or byte or uint or ulong or ushort or sbyte or Half;

    private static string FormatValue(object? v, string? format)
    {
        var inv = CultureInfo.InvariantCulture;
        return v switch
        {
            null => "",
            string s => s,
            MeanStd m => m.ToString(format, inv),
            double d => FormatReal(d, format),
            float f => FormatReal(double.Parse(f.ToString(inv), inv), format),
            Half h => FormatReal((double)h, format),
            decimal m => m.ToString(format ?? "G", inv),
            IFormattable x => x.ToString(format, inv),
            _ => v.ToString() ?? "",
        };
    }

    private static string FormatReal(double d, string? format)
    {
        var inv = CultureInfo.InvariantCulture;
        if (format is not null) return d.ToString(format, inv);
        if (double.IsFinite(d) && d == Math.Round(d) && Math.Abs(d) < 1e15) return d.ToString("F0", inv);
        return d.ToString("G4", inv);
    }
}
