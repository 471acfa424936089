using System.Collections;
using Shrink.Formatting;

namespace Shrink.Charts;

/// <summary>
/// Renders a <see cref="Figure"/> in a notebook (papers/notebook-format.md §5): <c>text/html</c> is the interactive
/// chart (plotly.js inlined in the first chart of a session, see <see cref="PlotlyEmbedding"/>), <c>text/plain</c> the
/// one-line summary. Found by the host through the <c>TypeFormatterSourceAttribute</c> on <see cref="Figure"/>.
/// </summary>
public sealed class FigureFormatterSource
{
    /// <summary>The formatters: <c>text/html</c> first, then <c>text/plain</c>.</summary>
    public IEnumerable CreateTypeFormatters() => new[]
    {
        new TypeFormatter(typeof(Figure), "text/html", (o, w) =>
        {
            w.Write(FigureHtml.Fragment((Figure)o, PlotlyEmbedding.Shared.ClaimLibrary()));
            return true;
        }),
        new TypeFormatter(typeof(Figure), "text/plain", (o, w) => { w.Write(o.ToString()); return true; }),
    };
}
