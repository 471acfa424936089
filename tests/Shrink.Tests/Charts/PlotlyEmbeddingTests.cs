using System.Text.RegularExpressions;
using Shrink.Charts;
using Shrink.Tests.Formatting;

namespace Shrink.Tests.Charts;

public class PlotlyEmbeddingTests
{
    [Fact]
    public void FirstChartOfASessionCarriesTheLibraryAndANewSessionCarriesItAgain()
    {
        object? session = "session-a";
        var embedding = new PlotlyEmbedding(() => session);
        Assert.True(embedding.ClaimLibrary());   // first chart of session a
        Assert.False(embedding.ClaimLibrary());  // second chart reuses window.Plotly
        Assert.False(embedding.ClaimLibrary());

        session = "session-b";                   // the runner starts the next notebook
        Assert.True(embedding.ClaimLibrary());
        Assert.False(embedding.ClaimLibrary());

        session = "session-a";                   // a different id again (ids are never reused by the runner, but an id change always re-embeds)
        Assert.True(embedding.ClaimLibrary());

        embedding.Reset();                       // PlotlyJs.EmbedInNextChart()
        Assert.True(embedding.ClaimLibrary());
        Assert.False(embedding.ClaimLibrary());
    }

    [Fact]
    public void WithoutASessionIdTheLibraryIsEmbeddedOncePerProcess()
    {
        var embedding = new PlotlyEmbedding(() => null);   // the Polyglot kernel sets no id
        Assert.True(embedding.ClaimLibrary());
        for (int i = 0; i < 5; i++) Assert.False(embedding.ClaimLibrary());
    }

    [Fact]
    public void ConcurrentRendersClaimTheLibraryExactlyOnce()
    {
        var embedding = new PlotlyEmbedding(() => "s");
        int claims = 0;
        Parallel.For(0, 64, _ => { if (embedding.ClaimLibrary()) Interlocked.Increment(ref claims); });
        Assert.Equal(1, claims);
    }

    [Fact]
    public void EmbeddedLibraryIsTheVendoredPlotlyJs()
    {
        Assert.Matches(@"^\d+\.\d+\.\d+$", PlotlyJs.Version);
        Assert.StartsWith("/**\n* plotly.js v" + PlotlyJs.Version + "\n", PlotlyJs.Source);
        Assert.True(PlotlyJs.Source.Length > 1_000_000, $"plotly.js is only {PlotlyJs.Source.Length} characters");
        Assert.Contains("window.Plotly = Plotly;", PlotlyJs.Source);
    }

    [Fact]
    public void FragmentDrawsIntoAUniqueDivAndWaitsForPlotly()
    {
        var fig = Chart.Line(new[] { 1, 2 }, new[] { 3, 4 });
        var a = fig.ToHtml();
        var b = fig.ToHtml();
        var idA = Regex.Match(a, "<div id=\"(shrink-chart-[0-9a-f]{32})\"").Groups[1].Value;
        var idB = Regex.Match(b, "<div id=\"(shrink-chart-[0-9a-f]{32})\"").Groups[1].Value;
        Assert.NotEqual("", idA);
        Assert.NotEqual(idA, idB);
        Assert.Contains($"var id = \"{idA}\";", a);
        Assert.Contains("Plotly.newPlot(el, figure.data, figure.layout, config)", a);
        Assert.Contains("setTimeout(draw, 50)", a);
        Assert.Contains(fig.ToJson(), a);
        Assert.DoesNotContain(PlotlyJs.Source[..200], a);
        Assert.True(a.Length < 5000);

        var withLibrary = fig.ToHtml(includePlotlyJs: true);
        Assert.Contains(PlotlyJs.Source[..200], withLibrary);
        Assert.True(withLibrary.IndexOf("window.Plotly = Plotly;", StringComparison.Ordinal) < withLibrary.IndexOf("<div id=", StringComparison.Ordinal),
            "plotly.js must come before the chart that uses it");
    }

    [Fact]
    public void SaveHtmlWritesAStandalonePageAtomically()
    {
        using var temp = new TempFolder("charts");
        var dir = temp.Path;
        var path = Path.Combine(dir, "sub", "loss.html");
        Chart.Line(new[] { 1, 2 }, new[] { 3, 4 }).WithTitle("a <title>").SaveHtml(path);
        Chart.Line(new[] { 1, 2 }, new[] { 3, 4 }).WithTitle("loss").SaveHtml(path);   // overwrites
        var html = File.ReadAllText(path);
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<title>loss</title>", html);
        Assert.Single(Regex.Matches(html, Regex.Escape("window.Plotly = Plotly;")));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));   // no temporary file left behind
    }
}

/// <summary>The session embedding as the formatters use it: through the AppDomain session id the runner sets.</summary>
[Collection(NotebookSessionCollection.Name)]
public class PlotlySessionFormattingTests
{
    private static bool CarriesLibrary(string html) => html.Contains("window.Plotly = Plotly;", StringComparison.Ordinal);

    [Fact]
    public void FormatterEmbedsPlotlyOncePerSessionId()
    {
        var fig = Chart.Bar(["a"], new[] { 1 });
        NotebookSessionCollection.InSession(Guid.NewGuid().ToString(), () =>
        {
            Assert.True(CarriesLibrary(ConventionFormatter.FormatBundle(fig).Get("text/html")));
            Assert.False(CarriesLibrary(ConventionFormatter.FormatBundle(fig).Get("text/html")));
            Assert.False(CarriesLibrary(ConventionFormatter.FormatBundle(fig).Get("text/html")));
        });
        NotebookSessionCollection.InSession(Guid.NewGuid().ToString(), () =>
        {
            Assert.True(CarriesLibrary(ConventionFormatter.FormatBundle(fig).Get("text/html")));
            Assert.False(CarriesLibrary(ConventionFormatter.FormatBundle(fig).Get("text/html")));
            PlotlyJs.EmbedInNextChart();
            Assert.True(CarriesLibrary(ConventionFormatter.FormatBundle(fig).Get("text/html")));
        });
    }
}
