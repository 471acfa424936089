using System.Collections;
using System.Globalization;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Formatting;

/// <summary>
/// Renders a <see cref="TensorPreview"/> in a notebook (papers/notebook-format.md §5): <c>text/html</c> shows the
/// shape, dtype, device, autograd flag, min/mean/max and a table preview of the values (a 1-D tensor as one row, a
/// 2-D tensor as a grid, a higher-rank tensor by its first 2-D slice), eliding the middle of long axes;
/// <c>text/plain</c> is <see cref="TensorPreview.ToString"/>. Found by the host through the
/// <see cref="TypeFormatterSourceAttribute"/> on <see cref="TensorPreview"/>. Only the shown elements are copied to
/// the host (a device tensor stays on its device for the statistics).
/// </summary>
public sealed class TensorFormatterSource
{
    /// <summary>Rows and columns shown at each end of an axis longer than twice this.</summary>
    internal const int Edge = 5;

    /// <summary>The formatters: <c>text/html</c> first, then <c>text/plain</c>.</summary>
    public IEnumerable CreateTypeFormatters() => new[]
    {
        new TypeFormatter(typeof(TensorPreview), "text/html", (o, w) => { w.Write(ToHtml(((TensorPreview)o).Tensor)); return true; }),
        new TypeFormatter(typeof(TensorPreview), "text/plain", (o, w) => { w.Write(o.ToString()); return true; }),
    };

    /// <summary>The HTML preview of <paramref name="t"/>.</summary>
    internal static string ToHtml(Tensor t)
    {
        var sb = new StringBuilder("<div class=\"shrink-tensor\">");
        sb.Append("<div><code>").Append(HtmlText.Encode(Header(t))).Append("</code></div>");
        if (t.IsInvalid) return sb.Append("<div><em>disposed (the tensor's dispose scope ended)</em></div></div>").ToString();
        if (t.numel() == 0) return sb.Append("<div><em>no elements</em></div></div>").ToString();
        if (t.is_complex()) return sb.Append("<pre>").Append(HtmlText.Encode(t.ToString(TorchSharp.TensorStringStyle.Numpy))).Append("</pre></div>").ToString();

        using var scope = NewDisposeScope();
        var values = t.detach().to(float64);   // same shape, float64, on t's device
        int rank = (int)t.dim();
        if (rank == 0)
            return sb.Append("<div><code>").Append(Fmt(values.item<double>())).Append("</code></div></div>").ToString();

        sb.Append("<div><code>").Append(HtmlText.Encode(Stats(values))).Append("</code></div>");
        var slice = values;
        while (slice.dim() > 2) slice = slice[0];              // the first 2-D slice: (rows, cols) or (cols,)
        if (rank > 2)
            sb.Append("<div><em>slice [").Append(string.Concat(Enumerable.Repeat("0, ", rank - 2))).Append(":, :]</em></div>");
        if (rank == 1) slice = slice.unsqueeze(0);             // (1, cols)
        AppendTable(sb, slice, rank == 1);
        return sb.Append("</div>").ToString();
    }

    /// <summary><c>Tensor[2, 3] float32 cpu requires_grad</c>.</summary>
    internal static string Header(Tensor t)
    {
        if (t.IsInvalid) return "Tensor (disposed)";
        var sb = new StringBuilder("Tensor[").Append(string.Join(", ", t.shape)).Append("] ");
        sb.Append(t.dtype.ToString().ToLowerInvariant()).Append(' ').Append(t.device.ToString());
        if (t.requires_grad) sb.Append(" requires_grad");
        return sb.ToString();
    }

    // min / mean / max over the non-NaN elements, and the NaN count when there are any (values: float64).
    private static string Stats(Tensor values)
    {
        var nan = values.isnan();                               // same shape, bool
        long nanCount = nan.sum().item<long>();
        var finite = values.masked_select(nan.logical_not());   // (n,)
        string s = finite.numel() == 0
            ? "all NaN"
            : $"min {Fmt(finite.min().item<double>())}  mean {Fmt(finite.mean().item<double>())}  max {Fmt(finite.max().item<double>())}";
        return nanCount > 0 ? s + $"  NaN {nanCount}" : s;
    }

    // The shown rows and columns of a (rows, cols) float64 tensor; only they are copied to the host.
    private static void AppendTable(StringBuilder sb, Tensor slice, bool oneD)
    {
        var rowIdx = Shown((int)slice.shape[0]);
        var colIdx = Shown((int)slice.shape[1]);
        long[] rows = rowIdx.Where(r => r >= 0).Select(r => (long)r).ToArray();
        long[] cols = colIdx.Where(c => c >= 0).Select(c => (long)c).ToArray();
        var picked = slice.index_select(0, tensor(rows, device: slice.device)).index_select(1, tensor(cols, device: slice.device)).cpu();   // (r, c)
        double[] v = picked.data<double>().ToArray();
        var rowPos = rows.Select((r, i) => (r, i)).ToDictionary(p => (int)p.r, p => p.i);
        var colPos = cols.Select((c, i) => (c, i)).ToDictionary(p => (int)p.c, p => p.i);

        sb.Append("<table style=\"font-family:monospace\"><thead><tr><th></th>");
        foreach (var c in colIdx) sb.Append("<th>").Append(c < 0 ? "…" : c.ToString(CultureInfo.InvariantCulture)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var r in rowIdx)
        {
            sb.Append("<tr><th>").Append(oneD ? "" : r < 0 ? "⋮" : r.ToString(CultureInfo.InvariantCulture)).Append("</th>");
            foreach (var c in colIdx)
            {
                sb.Append("<td style=\"text-align:right\">");
                sb.Append(r < 0 || c < 0 ? (r < 0 ? "⋮" : "…") : Fmt(v[rowPos[r] * cols.Length + colPos[c]]));
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

    private static string Fmt(double v) => v.ToString("G5", CultureInfo.InvariantCulture);
}
