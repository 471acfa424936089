using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;

namespace Shrink.Charts;

/// <summary>
/// Shows Plotly.NET charts in notebooks: registers <c>text/html</c> (the interactive chart; plotly.js inlined in the
/// first chart of a notebook session, see <see cref="PlotlyEmbedding"/>, later charts use <c>window.Plotly</c>) and
/// <c>text/plain</c> (a one-line summary, <see cref="Summary"/>) for <see cref="GenericChart"/> with .NET Interactive's
/// <see cref="Formatter"/>, from a module initializer: it runs the first time a notebook uses any Shrink type.
/// Plotly.NET's own formatter source on GenericChart writes a placeholder, and Plotly.NET.Interactive would fetch
/// plotly.js from a CDN through require.js; neither works offline, hence this registration.
/// </summary>
public static class ChartFormatters
{
#pragma warning disable CA2255 // a library module initializer on purpose: #r "Shrink.dll" is all a notebook does
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        FSharpCoreBinding.Install();
        Register();
    }

    /// <summary>Registers the formatters (idempotent: a later registration replaces the earlier one).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]   // Plotly.NET's types are touched only after the FSharp.Core binding is installed
    public static void Register()
    {
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(ToHtml(chart)), HtmlFormatter.MimeType);
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(Summary(chart)), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(GenericChart), HtmlFormatter.MimeType, PlainTextFormatter.MimeType);
    }

    /// <summary>The <c>text/html</c> of <paramref name="chart"/> in the current notebook session (plotly.js inlined when this is the session's first chart).</summary>
    public static string ToHtml(GenericChart chart) => chart.ToHtml(PlotlyEmbedding.Shared.ClaimLibrary());

    /// <summary>
    /// A one-line summary, e.g. <c>GenericChart 'loss': 2 traces (scatter 'train' 30 pts, scatter 'test' 30 pts)</c>.
    /// </summary>
    public static string Summary(GenericChart chart)
    {
        ArgumentNullException.ThrowIfNull(chart);
        var traces = GenericChart.getTraces(chart).ToList();
        var sb = new StringBuilder("GenericChart");
        if (ChartLayout.TitleText(chart) is { } title) sb.Append(" '").Append(title).Append('\'');
        sb.Append(": ");
        if (GenericChart.getLayout(chart).TryGetPropertyValue("grid")?.Value is DynamicObj.DynamicObj grid)
            sb.Append(grid.TryGetPropertyValue("rows")?.Value).Append('×').Append(grid.TryGetPropertyValue("columns")?.Value).Append(" grid, ");
        sb.Append(traces.Count).Append(traces.Count == 1 ? " trace" : " traces");
        if (traces.Count > 0) sb.Append(" (").AppendJoin(", ", traces.Select(Traces.Describe)).Append(')');
        return sb.ToString();
    }
}
