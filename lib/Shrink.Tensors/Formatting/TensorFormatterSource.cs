using System.Collections;
using System.Globalization;
using System.Net;
using System.Text;

namespace Shrink.Tensors.Formatting;

/// <summary>
/// Renders a <see cref="Tensor"/> in a notebook (papers/notebook-format.md §5): <c>text/html</c> shows the shape,
/// dtype, autograd flags, min/mean/max and a table preview of the values (a 1-D tensor as one row, a 2-D tensor as a
/// grid, a higher-rank tensor by its first 2-D slice), eliding the middle of long axes; <c>text/plain</c> is
/// <see cref="Tensor.ToString"/>. Found by the host through <see cref="TypeFormatterSourceAttribute"/> on
/// <see cref="Tensor"/>.
/// </summary>
public sealed class TensorFormatterSource
{
    /// <summary>Rows and columns shown at each end of an axis longer than twice this.</summary>
    internal const int Edge = 5;

    /// <summary>The formatters: <c>text/html</c> first, then <c>text/plain</c>.</summary>
    public IEnumerable CreateTypeFormatters() => new[]
    {
        new TypeFormatter(typeof(Tensor), "text/html", (o, w) => { w.Write(ToHtml((Tensor)o)); return true; }),
        new TypeFormatter(typeof(Tensor), "text/plain", (o, w) => { w.Write(o.ToString()); return true; }),
    };

    /// <summary>The HTML preview of <paramref name="t"/>.</summary>
    internal static string ToHtml(Tensor t)
    {
        var sb = new StringBuilder("<div class=\"shrink-tensor\">");
        sb.Append("<div><code>").Append(Encode(Header(t))).Append("</code></div>");
        if (t.IsReleased)
        {
            sb.Append("<div><em>storage released (the tensor's TensorScope ended)</em></div></div>");
            return sb.ToString();
        }
        if (t.Numel == 0) return sb.Append("<div><em>no elements</em></div></div>").ToString();

        var values = t.ToArray();
        if (t.Rank > 0) sb.Append("<div><code>").Append(Encode(Stats(values))).Append("</code></div>");

        int rank = t.Rank;
        if (rank == 0)
        {
            sb.Append("<div><code>").Append(Fmt(values[0])).Append("</code></div>");
        }
        else
        {
            int rows = rank == 1 ? 1 : t.Shape[rank - 2];
            int cols = t.Shape[rank - 1];
            if (rank > 2)
                sb.Append("<div><em>slice [").Append(string.Concat(Enumerable.Repeat("0, ", rank - 2))).Append(":, :]</em></div>");
            // The first 2-D slice starts at element 0 of the row-major copy.
            AppendTable(sb, values, rows, cols, rank == 1);
        }
        return sb.Append("</div>").ToString();
    }

    private static string Header(Tensor t)
    {
        var sb = new StringBuilder("Tensor").Append(ShapeUtil.Format(t.ShapeArray)).Append(" float32");
        if (t.RequiresGrad) sb.Append(" requires_grad");
        if (t.GradFn is not null) sb.Append(" grad_fn=").Append(t.GradFn.Name);
        return sb.ToString();
    }

    private static string Stats(float[] values)
    {
        double sum = 0; float min = float.PositiveInfinity, max = float.NegativeInfinity; int nan = 0;
        foreach (var v in values)
        {
            if (float.IsNaN(v)) { nan++; continue; }
            sum += v;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        int n = values.Length - nan;
        var s = n == 0 ? "all NaN" : $"min {Fmt(min)}  mean {Fmt((float)(sum / n))}  max {Fmt(max)}";
        return nan > 0 ? s + $"  NaN {nan}" : s;
    }

    private static void AppendTable(StringBuilder sb, float[] values, int rows, int cols, bool oneD)
    {
        var rowIdx = Shown(rows);
        var colIdx = Shown(cols);
        sb.Append("<table style=\"font-family:monospace\"><thead><tr><th></th>");
        foreach (var c in colIdx) sb.Append("<th>").Append(c < 0 ? "…" : c.ToString(CultureInfo.InvariantCulture)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var r in rowIdx)
        {
            sb.Append("<tr><th>").Append(oneD ? "" : r < 0 ? "⋮" : r.ToString(CultureInfo.InvariantCulture)).Append("</th>");
            foreach (var c in colIdx)
            {
                sb.Append("<td style=\"text-align:right\">");
                sb.Append(r < 0 || c < 0 ? (r < 0 ? "⋮" : "…") : Fmt(values[r * cols + c]));
                sb.Append("</td>");
            }
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
    }

    /// <summary>Indices shown along an axis of length <paramref name="n"/>; -1 marks the elided middle.</summary>
    internal static List<int> Shown(int n)
    {
        var list = new List<int>();
        if (n <= 2 * Edge) { for (int i = 0; i < n; i++) list.Add(i); return list; }
        for (int i = 0; i < Edge; i++) list.Add(i);
        list.Add(-1);
        for (int i = n - Edge; i < n; i++) list.Add(i);
        return list;
    }

    private static string Fmt(float v) => v.ToString("G5", CultureInfo.InvariantCulture);

    private static string Encode(string s) => WebUtility.HtmlEncode(s);
}
