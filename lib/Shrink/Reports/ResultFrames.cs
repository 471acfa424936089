using System.Collections;
using Deedle;

namespace Shrink.Reports;

/// <summary>
/// Builds result tables as Deedle frames: one number per seed and method (<see cref="PerSeed(IEnumerable{int}, ValueTuple{string, double[]}[])"/>),
/// the summary of those seeds with mean ± std, the difference from a baseline and the noise rule's verdict
/// (<see cref="Summary{TSeed}"/>), and small tables keyed by row, built by columns (<see cref="Table{TRow}"/>) or by rows
/// (<see cref="FromRows{TRow}"/>).
/// A frame shows as an HTML table in a notebook and as an aligned text table in <c>text/plain</c>
/// (<see cref="FrameFormatters"/>, <see cref="FrameTable"/>).
/// <code>
/// var perSeed = ResultFrames.PerSeed([0, 1, 2], ("no KD", noKd), ("Hinton KD", hinton));   // seeds × methods
/// var summary = ResultFrames.Summary(perSeed, baseline: "no KD");                          // methods × (seeds, mean ± std, Δ, SE, verdict)
/// summary.GetColumn&lt;MeanStd&gt;(ResultFrames.MeanStdColumn)["Hinton KD"]                  // 84.1 ± 0.6
/// </code>
/// Deedle stores <see cref="double.NaN"/> as a missing value; a summary treats a missing value as NaN, so a diverged
/// or missing seed shows in the mean instead of silently shrinking the sample.
/// </summary>
public static class ResultFrames
{
    /// <summary>The summary column with the number of seeds (rows of the per-seed frame) per method.</summary>
    public const string SeedsColumn = "seeds";

    /// <summary>The summary column with each method's <see cref="MeanStd"/> over its seeds.</summary>
    public const string MeanStdColumn = "mean ± std";

    /// <summary>The summary column with the method's mean minus the baseline's mean (missing for the baseline).</summary>
    public const string DeltaColumn = "Δ vs baseline";

    /// <summary>The summary column with the standard error of that difference (<see cref="MeanStd.StandardErrorOfDifference"/>).</summary>
    public const string StandardErrorColumn = "SE(Δ)";

    /// <summary>The summary column with the noise rule's verdict (<see cref="MeanStd.NoiseVerdict(MeanStd, MeanStd)"/>).</summary>
    public const string VerdictColumn = "verdict";

    /// <summary>The verdict written in the baseline's own row.</summary>
    public const string BaselineVerdict = "baseline";

    /// <summary>
    /// A seeds × methods frame: one row per seed (the row keys), one column per method holding that method's value for
    /// each seed, in the given order. Every method needs one value per seed.
    /// </summary>
    /// <exception cref="ArgumentException">No seeds or methods, a repeated seed or method, or a method with a different number of values.</exception>
    public static Frame<int, string> PerSeed<TValues>(IEnumerable<int> seeds, IEnumerable<(string Method, TValues Values)> methods)
        where TValues : IEnumerable<double>
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(methods);
        var keys = seeds.ToArray();
        if (keys.Length == 0) throw new ArgumentException("ResultFrames.PerSeed needs at least one seed.", nameof(seeds));
        if (keys.Distinct().Count() != keys.Length) throw new ArgumentException($"ResultFrames.PerSeed: a seed appears twice in [{string.Join(", ", keys)}].", nameof(seeds));
        var builder = new FrameBuilder.Columns<int, string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (method, values) in methods)
        {
            if (string.IsNullOrWhiteSpace(method)) throw new ArgumentException("ResultFrames.PerSeed: a method has no name.", nameof(methods));
            if (!names.Add(method)) throw new ArgumentException($"ResultFrames.PerSeed: method '{method}' appears twice.", nameof(methods));
            var v = (values ?? throw new ArgumentException($"ResultFrames.PerSeed: method '{method}' has no values.", nameof(methods))).ToArray();
            if (v.Length != keys.Length)
                throw new ArgumentException($"ResultFrames.PerSeed: method '{method}' has {v.Length} values for {keys.Length} seeds.", nameof(methods));
            builder.Add(method, new Series<int, double>(keys, v));
        }
        if (names.Count == 0) throw new ArgumentException("ResultFrames.PerSeed needs at least one method.", nameof(methods));
        return builder.Frame;
    }

    /// <summary>A seeds × methods frame from methods listed inline: <c>PerSeed([0, 1, 2], ("no KD", a), ("KD", b))</c>.</summary>
    /// <inheritdoc cref="PerSeed{TValues}(IEnumerable{int}, IEnumerable{ValueTuple{string, TValues}})"/>
    public static Frame<int, string> PerSeed(IEnumerable<int> seeds, params (string Method, double[] Values)[] methods) =>
        PerSeed<double[]>(seeds, methods);

    /// <summary>
    /// One row per method (a column of <paramref name="perSeed"/>, in its order; the row key is the method's name) with
    /// <see cref="SeedsColumn"/> and <see cref="MeanStdColumn"/>; with a <paramref name="baseline"/> method also
    /// <see cref="DeltaColumn"/> (mean − the baseline's mean), <see cref="StandardErrorColumn"/> (Welch, seeds
    /// independent) and <see cref="VerdictColumn"/>: the noise rule, within seed noise when |Δ| ≤ 2·SE
    /// (<see cref="MeanStd.NoiseVerdict(MeanStd, MeanStd)"/>). The baseline's own row has Δ and SE missing and the
    /// verdict <see cref="BaselineVerdict"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An empty frame, a column that is not numeric, or a baseline that is not a column.</exception>
    public static Frame<string, string> Summary<TSeed>(Frame<TSeed, string> perSeed, string? baseline = null)
    {
        ArgumentNullException.ThrowIfNull(perSeed);
        var methods = perSeed.ColumnKeys.ToArray();
        if (methods.Length == 0 || perSeed.RowCount == 0) throw new ArgumentException("ResultFrames.Summary needs at least one seed and one method.", nameof(perSeed));
        var stats = methods.Select(m => MeanStd.Of(Values(perSeed, m))).ToArray();
        var builder = new FrameBuilder.Columns<string, string>();
        builder.Add(SeedsColumn, new Series<string, int>(methods, stats.Select(s => s.Count).ToArray()));
        builder.Add(MeanStdColumn, new Series<string, MeanStd>(methods, stats));
        if (baseline is not null)
        {
            int b = Array.IndexOf(methods, baseline);
            if (b < 0) throw new ArgumentException($"ResultFrames.Summary: the baseline '{baseline}' is not a method; the methods are {string.Join(", ", methods)}.", nameof(baseline));
            var delta = stats.Select((s, i) => i == b ? double.NaN : s.Mean - stats[b].Mean).ToArray();
            var se = stats.Select((s, i) => i == b ? double.NaN : MeanStd.StandardErrorOfDifference(s, stats[b])).ToArray();
            var verdict = stats.Select((s, i) => i == b ? BaselineVerdict : MeanStd.NoiseVerdict(s, stats[b])).ToArray();
            builder.Add(DeltaColumn, new Series<string, double>(methods, delta));
            builder.Add(StandardErrorColumn, new Series<string, double>(methods, se));
            builder.Add(VerdictColumn, new Series<string, string>(methods, verdict));
        }
        return builder.Frame;
    }

    /// <summary>
    /// A table whose rows are keyed by <paramref name="rows"/> (shown as the first column, e.g. method names; read a cell
    /// back with <c>frame.GetColumn&lt;T&gt;(column)[row]</c>) and one column per (name, values) pair, in order.
    /// A column keeps its values' type: numbers stay numbers, <see cref="MeanStd"/> stays <see cref="MeanStd"/>; an
    /// <c>object</c> column takes the type its values share, or stays <c>object</c> when they mix types; a null is a
    /// missing value.
    /// </summary>
    /// <exception cref="ArgumentException">No columns, a repeated row key or column name, or a column whose length is not the number of rows.</exception>
    public static Frame<TRow, string> Table<TRow>(IEnumerable<TRow> rows, params (string Column, IEnumerable Values)[] columns)
        where TRow : notnull
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(columns);
        return Build(rows.ToArray(), columns.Select(c => (c.Column,
            (c.Values ?? throw new ArgumentException($"ResultFrames.Table: column '{c.Column}' is null.", nameof(columns))).Cast<object?>().ToArray(),
            ElementType(c.Values))).ToArray(), "ResultFrames.Table");
    }

    /// <summary>
    /// A table built row by row: <paramref name="columns"/> names the columns after the row key, and each row is its key
    /// and one cell per column, e.g. <c>FromRows(["models", "epochs"], [("one decomposition", [12, 6.0]), ("every depth", [4, 24])])</c>.
    /// Each column takes the type its cells share (<c>object</c> when they mix types); a null cell is a missing value.
    /// </summary>
    /// <exception cref="ArgumentException">No columns, a repeated row key or column name, or a row with a different number of cells.</exception>
    public static Frame<TRow, string> FromRows<TRow>(IReadOnlyList<string> columns, IEnumerable<(TRow Row, object?[] Cells)> rows)
        where TRow : notnull
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        var list = rows.ToArray();
        for (int r = 0; r < list.Length; r++)
            if ((list[r].Cells?.Length ?? -1) != columns.Count)
                throw new ArgumentException($"ResultFrames.FromRows: row '{list[r].Row}' has {list[r].Cells?.Length ?? 0} cells for {columns.Count} columns ({string.Join(", ", columns)}).", nameof(rows));
        return Build(list.Select(r => r.Row).ToArray(),
            columns.Select((name, c) => (name, list.Select(r => r.Cells[c]).ToArray(), typeof(object))).ToArray(), "ResultFrames.FromRows");
    }

    private static Frame<TRow, string> Build<TRow>(TRow[] keys, (string Name, object?[] Values, Type Declared)[] columns, string caller)
        where TRow : notnull
    {
        if (columns.Length == 0) throw new ArgumentException($"{caller} needs at least one column.", nameof(columns));
        if (keys.Distinct().Count() != keys.Length)
            throw new ArgumentException($"{caller}: a row key appears twice in {string.Join(", ", keys)}.", nameof(keys));
        var builder = new FrameBuilder.Columns<TRow, string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, values, declared) in columns)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"{caller}: a column has no name.", nameof(columns));
            if (!names.Add(name)) throw new ArgumentException($"{caller}: column '{name}' appears twice.", nameof(columns));
            if (values.Length != keys.Length)
                throw new ArgumentException($"{caller}: column '{name}' has {values.Length} values for {keys.Length} rows.", nameof(columns));
            var make = typeof(ResultFrames).GetMethod(nameof(MakeSeries), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(typeof(TRow), ColumnType(declared, values));
            builder.Add(name, (ISeries<TRow>)make.Invoke(null, [keys, values])!);
        }
        return builder.Frame;
    }

    private static double[] Values<TSeed>(Frame<TSeed, string> frame, string column)
    {
        try
        {
            return frame.GetColumn<double>(column).GetAllValues().Select(v => v.HasValue ? v.Value : double.NaN).ToArray();
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
        {
            throw new ArgumentException($"ResultFrames.Summary: column '{column}' is not numeric.", nameof(frame), e);
        }
    }

    /// <summary>T for an IEnumerable&lt;T&gt;; object for anything else and for T? (so a null there is a missing value).</summary>
    private static Type ElementType(IEnumerable values)
    {
        if (values is string) return typeof(object);
        var generic = values.GetType().GetInterfaces().Append(values.GetType())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            .Select(i => i.GetGenericArguments()[0]).ToArray();
        return generic.Length == 1 && Nullable.GetUnderlyingType(generic[0]) is null ? generic[0] : typeof(object);
    }

    /// <summary>The declared element type, else the one runtime type the values share (object when they mix or a value type has nulls).</summary>
    private static Type ColumnType(Type declared, object?[] values)
    {
        if (declared != typeof(object)) return declared;
        var types = values.Where(v => v is not null).Select(v => v!.GetType()).Distinct().ToArray();
        return types.Length == 1 && (!types[0].IsValueType || Array.IndexOf(values, null) < 0) ? types[0] : typeof(object);
    }

    private static ISeries<TRow> MakeSeries<TRow, T>(TRow[] keys, object?[] values) where TRow : notnull =>
        new Series<TRow, T>(keys, values.Select(v => (T)v!).ToArray());
}
