using System.Reflection;

namespace Shrink.Charts;

/// <summary>
/// The plotly.js library embedded in Shrink.dll: the npm package <c>plotly.js-dist-min</c>, vendored byte for byte
/// by <c>scripts/vendor-plotly.sh</c> (MIT licence, lib/Shrink/Charts/plotly/LICENSE). Charts inline it, so they
/// draw with no network (in VS Code, Jupyter and saved HTML pages alike).
/// </summary>
public static class PlotlyJs
{
    private const string SourceResource = "Shrink.Charts.plotly.min.js";
    private const string VersionResource = "Shrink.Charts.plotly.VERSION";

    private static readonly Lazy<string> LazySource = new(() => ReadResource(SourceResource));
    private static readonly Lazy<string> LazyVersion = new(() => ReadResource(VersionResource).Trim());

    /// <summary>The plotly.js version, e.g. <c>4.1.2</c>.</summary>
    public static string Version => LazyVersion.Value;

    /// <summary>The minified plotly.js source (about 4.8 MB), exactly as the npm package ships it.</summary>
    public static string Source => LazySource.Value;

    /// <summary>
    /// Makes the next chart rendered for a notebook carry plotly.js again. Needed only when the output that carried
    /// it was cleared and the notebook is to be saved and reopened (the library is embedded once per session; see
    /// <see cref="PlotlyEmbedding"/>).
    /// </summary>
    public static void EmbedInNextChart() => PlotlyEmbedding.Shared.Reset();

    private static string ReadResource(string name)
    {
        using var stream = typeof(PlotlyJs).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Shrink.dll has no embedded resource '{name}'; it is built from lib/Shrink/Charts/plotly/ (run scripts/vendor-plotly.sh).");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
