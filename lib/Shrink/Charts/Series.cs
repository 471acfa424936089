using System.Globalization;
using System.Numerics;

namespace Shrink.Charts;

/// <summary>Conversions of the numeric inputs a chart accepts into the doubles its JSON carries, with shape checks.</summary>
internal static class Series
{
    /// <summary>The values as doubles; a float keeps its shortest decimal form (0.1f → 0.1, not 0.100000001490116).</summary>
    public static double[] ToDoubles<T>(IEnumerable<T> values, string what) where T : INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(values, what);
        var list = new List<double>(values is ICollection<T> c ? c.Count : 16);
        foreach (var v in values) list.Add(ToDouble(v));
        return [.. list];
    }

    /// <summary>One value as a double (see <see cref="ToDoubles{T}"/>).</summary>
    public static double ToDouble<T>(T v) where T : INumberBase<T>
    {
        if (typeof(T) == typeof(float))
        {
            float f = (float)(object)v;
            return float.IsFinite(f) ? double.Parse(f.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : f;
        }
        return double.CreateTruncating(v);
    }

    /// <summary>Rows of a rectangular matrix: <c>z[i, j]</c> becomes row i, column j.</summary>
    public static double[][] ToRows<T>(T[,] z, string trace) where T : INumberBase<T>
    {
        if (z is null) throw new ArgumentNullException(nameof(z), $"{trace}: z is null.");
        int rows = z.GetLength(0), cols = z.GetLength(1);
        if (rows == 0 || cols == 0) throw new ArgumentException($"{trace}: z is empty ({rows}×{cols}); it needs at least one row and one column.", nameof(z));
        var result = new double[rows][];
        for (int i = 0; i < rows; i++)
        {
            var row = result[i] = new double[cols];
            for (int j = 0; j < cols; j++) row[j] = ToDouble(z[i, j]);
        }
        return result;
    }

    /// <summary>Rows of a jagged matrix; every row must have the same length.</summary>
    public static double[][] ToRows<T>(IEnumerable<IEnumerable<T>> z, string trace) where T : INumberBase<T>
    {
        if (z is null) throw new ArgumentNullException(nameof(z), $"{trace}: z is null.");
        var rows = new List<double[]>();
        foreach (var row in z)
        {
            if (row is null) throw new ArgumentException($"{trace}: z row {rows.Count} is null.", nameof(z));
            var r = ToDoubles(row, nameof(z));
            if (rows.Count > 0 && r.Length != rows[0].Length)
                throw new ArgumentException($"{trace}: z is ragged: row {rows.Count} has {r.Length} values but row 0 has {rows[0].Length}; every row needs one value per column.", nameof(z));
            rows.Add(r);
        }
        if (rows.Count == 0 || rows[0].Length == 0)
            throw new ArgumentException($"{trace}: z is empty; it needs at least one row and one column.", nameof(z));
        return [.. rows];
    }

    /// <summary>Throws unless <paramref name="actual"/> equals <paramref name="expected"/>, naming the trace and both arrays.</summary>
    public static void CheckLength(int actual, int expected, string trace, string what, string against, string paramName)
    {
        if (actual != expected)
            throw new ArgumentException($"{trace}: {what} has {actual} values but {against} has {expected}; they must have the same length.", paramName);
    }

    /// <summary>The label used in error messages, e.g. <c>Scatter 'train'</c> or <c>Heatmap</c>.</summary>
    public static string Label(string kind, string? name) => name is null ? kind : $"{kind} '{name}'";

    /// <summary>Category labels (null becomes "").</summary>
    public static string[] Labels(IEnumerable<string> labels, string what)
    {
        ArgumentNullException.ThrowIfNull(labels, what);
        return labels.Select(l => l ?? "").ToArray();
    }

    /// <summary>Checks that x has one value per column of <paramref name="z"/> and y one per row (when given).</summary>
    public static void CheckMatrixAxes(double[][] z, int? xCount, int? yCount, string trace)
    {
        int cols = z[0].Length;
        if (xCount is { } nx && nx != cols)
            throw new ArgumentException($"{trace}: x has {nx} values but z has {cols} columns; x needs one value per column of z (z[row][column], row = y).", "x");
        if (yCount is { } ny && ny != z.Length)
            throw new ArgumentException($"{trace}: y has {ny} values but z has {z.Length} rows; y needs one value per row of z (z[row][column], row = y).", "y");
    }

    /// <summary>The values as JSON numbers with NaN and ±infinity as null (a gap in Plotly).</summary>
    public static double?[] WithGaps(double[] values) => values.Select(v => double.IsFinite(v) ? v : (double?)null).ToArray();
}
