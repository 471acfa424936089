using System.Collections;
using Shrink.Formatting;

namespace Shrink.Reports;

/// <summary>
/// Renders a <see cref="ResultTable"/> in a notebook (papers/notebook-format.md §5): <c>text/html</c> is an HTML
/// table, <c>text/plain</c> the aligned text table. Found by the host through the <c>TypeFormatterSourceAttribute</c>
/// on <see cref="ResultTable"/>.
/// </summary>
public sealed class ResultTableFormatterSource
{
    /// <summary>The formatters: <c>text/html</c> first, then <c>text/plain</c>.</summary>
    public IEnumerable CreateTypeFormatters() => new[]
    {
        new TypeFormatter(typeof(ResultTable), "text/html", (o, w) => { w.Write(((ResultTable)o).ToHtml()); return true; }),
        new TypeFormatter(typeof(ResultTable), "text/plain", (o, w) => { w.Write(o.ToString()); return true; }),
    };
}
