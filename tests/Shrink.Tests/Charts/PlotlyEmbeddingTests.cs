using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;
using Shrink.Charts;
using Chart = Shrink.Charts.Chart;

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

    /// <summary>The marker that starts the inlined library (<see cref="ChartHtml.LibraryScript"/>).</summary>
    internal const string LibraryMarker = "(MIT), embedded in Plotly.NET */";

    [Fact]
    public void EmbeddedLibraryIsPlotlyNetsCopy()
    {
        Assert.Equal(Globals.PLOTLYJS_VERSION, PlotlyJs.Version);
        Assert.Matches(@"^\d+\.\d+\.\d+$", PlotlyJs.Version);
        Assert.StartsWith("/**\n* plotly.js v" + PlotlyJs.Version + "\n", PlotlyJs.Source);
        Assert.True(PlotlyJs.Source.Length > 1_000_000, $"plotly.js is only {PlotlyJs.Source.Length} characters");
        // The same file Plotly.NET inlines for PlotlyJSReference.Full in its own standalone pages.
        var full = GenericChart.toEmbeddedHTML(GenericChart.setDisplayOptions(
            DisplayOptions.init(null, null, null, null, null, null, Microsoft.FSharp.Core.FSharpOption<PlotlyJSReference>.Some(PlotlyJSReference.Full)),
            Chart.Line(new[] { 1 }, new[] { 1 })));
        Assert.Contains(PlotlyJs.Source[..2000], full);
        Assert.Contains(PlotlyJs.Source[^2000..], full);
    }

    [Fact]
    public void FragmentDrawsIntoAUniqueDivAndWaitsForPlotly()
    {
        var chart = Chart.Line(new[] { 1, 2 }, new[] { 3, 4 }).WithTitle("a </script> title");
        var a = chart.ToHtml();
        var b = chart.ToHtml();
        var idA = Regex.Match(a, "<div id=\"(shrink-chart-[0-9a-f]{32})\"").Groups[1].Value;
        var idB = Regex.Match(b, "<div id=\"(shrink-chart-[0-9a-f]{32})\"").Groups[1].Value;
        Assert.NotEqual("", idA);
        Assert.NotEqual(idA, idB);
        Assert.Contains($"var id = \"{idA}\";", a);
        Assert.Contains("Plotly.newPlot(el, figure.data, figure.layout, config)", a);
        Assert.Contains("setTimeout(draw, 50)", a);
        Assert.Contains(GenericChart.toFigureJson(chart).Replace("</", "<\\/"), a);   // Plotly.NET's figure JSON, "</" escaped
        Assert.Single(Regex.Matches(a, "</script>"));                                   // the title cannot end the script
        Assert.DoesNotContain(PlotlyJs.Source[..200], a);
        Assert.DoesNotContain("http", a);                                               // no CDN, no require.js
        Assert.True(a.Length < 20_000);

        var withLibrary = chart.ToHtml(includePlotlyJs: true);
        Assert.Contains(PlotlyJs.Source[..200], withLibrary);
        Assert.True(withLibrary.IndexOf(LibraryMarker, StringComparison.Ordinal) < withLibrary.IndexOf("<div id=", StringComparison.Ordinal),
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
        Assert.Single(Regex.Matches(html, Regex.Escape(LibraryMarker)));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));   // no temporary file left behind
    }
}

/// <summary>
/// The formatters as .NET Interactive uses them (registered with its <see cref="Formatter"/> by Shrink's module
/// initializer), with the session embedding driven by the AppDomain session id the runner sets.
/// </summary>
[Collection(NotebookSessionCollection.Name)]
public class PlotlySessionFormattingTests
{
    private static int Libraries(string html) => Regex.Matches(html, Regex.Escape(PlotlyEmbeddingTests.LibraryMarker)).Count;

    [Fact]
    public void GenericChartFormatsAsHtmlChartAndTextSummary()
    {
        var chart = Chart.Line(new[] { 1, 2, 3 }, new[] { 0.3, 0.2, 0.1 }, name: "train").WithTitle("loss");
        Assert.Equal(["text/html", "text/plain"], Formatter.GetPreferredMimeTypesFor(typeof(GenericChart)).ToArray());
        var html = Formatter.ToDisplayString(chart, "text/html");
        Assert.Contains("Plotly.newPlot", html);
        Assert.Contains(GenericChart.toFigureJson(chart), html);
        Assert.DoesNotContain("LOL", html);   // not Plotly.NET's own placeholder formatter
        Assert.Equal("GenericChart 'loss': 1 trace (scatter 'train' 3 pts)", Formatter.ToDisplayString(chart, "text/plain"));
    }

    [Fact]
    public void FormatterEmbedsPlotlyOncePerSessionId()
    {
        var chart = Chart.Bar(["a"], new[] { 1 });
        string Html() => Formatter.ToDisplayString(chart, "text/html");
        NotebookSessionCollection.InSession(Guid.NewGuid().ToString(), () =>
        {
            Assert.Equal(1, Libraries(Html()));
            Assert.Equal(0, Libraries(Html()));
            Assert.Equal(0, Libraries(Html()));
        });
        NotebookSessionCollection.InSession(Guid.NewGuid().ToString(), () =>
        {
            Assert.Equal(1, Libraries(Html()));
            Assert.Equal(0, Libraries(Html()));
            PlotlyJs.EmbedInNextChart();
            Assert.Equal(1, Libraries(Html()));
        });
    }
}
