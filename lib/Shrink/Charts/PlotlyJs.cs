using Plotly.NET;

namespace Shrink.Charts;

/// <summary>
/// The plotly.js that Plotly.NET embeds in its own assembly (the file Plotly.NET inlines for
/// <c>PlotlyJSReference.Full</c>; MIT licence). Charts inline it (<see cref="ChartHtml"/>), so they draw with no
/// network in VS Code, Jupyter and saved HTML pages alike.
/// </summary>
public static class PlotlyJs
{
    private static readonly Lazy<string> LazySource = new(ReadSource);

    /// <summary>The plotly.js version Plotly.NET embeds (Plotly.NET's <c>Globals.PLOTLYJS_VERSION</c>), e.g. <c>2.28.0</c>.</summary>
    public static string Version => Globals.PLOTLYJS_VERSION;

    /// <summary>The minified plotly.js source (about 3.6 MB), exactly as Plotly.NET embeds it.</summary>
    public static string Source => LazySource.Value;

    /// <summary>
    /// Makes the next chart rendered for a notebook carry plotly.js again. Needed only when the output that carried
    /// it was cleared and the notebook is to be saved and reopened (the library is embedded once per session; see
    /// <see cref="PlotlyEmbedding"/>).
    /// </summary>
    public static void EmbedInNextChart() => PlotlyEmbedding.Shared.Reset();

    private static string ReadSource()
    {
        // Plotly.NET 6 stores it as the manifest resource "Plotly.NET.plotly-<version>.min.js" (read there by its
        // internal InternalUtils.getFullPlotlyJS, which it does not expose).
        var assembly = typeof(GenericChart).Assembly;
        var name = $"Plotly.NET.plotly-{Version}.min.js";
        using var stream = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{assembly.GetName()} has no embedded resource '{name}'; this Shrink build expects Plotly.NET 6.0.0.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
