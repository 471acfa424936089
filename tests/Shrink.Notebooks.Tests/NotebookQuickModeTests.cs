using System.Text.RegularExpressions;
using Shrink.Notebooks.Execution;
using Shrink.Notebooks.Model;
using Shrink.Notebooks.Parameters;
using Xunit.Abstractions;

namespace Shrink.Notebooks.Tests;

public class NotebookQuickModeTests(ITestOutputHelper log)
{
    // Every notebook of the suite runs in quick mode (-p quick=true) with no failed cell. A Fact that loops rather than
    // a Theory: xunit fails a Theory whose data is empty, and the suite may have no notebooks yet.
    [Fact]
    public async Task EveryNotebookRunsInQuickMode()
    {
        string folder = Path.Combine(TestPaths.RepositoryRoot, "notebooks");
        var notebooks = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.ipynb").OrderBy(Path.GetFileName, StringComparer.Ordinal).ToList()
            : [];
        if (notebooks.Count == 0)
        {
            log.WriteLine($"no notebooks in {folder}: nothing to run");
            return;
        }
        string outDir = TestPaths.NewTempFolder();
        var failures = new List<string>();
        foreach (var path in notebooks)
        {
            var result = await NotebookRunner.RunAsync(path, [NotebookParameter.Parse("quick=true")]);
            NotebookFile.Save(result.Notebook, Path.Combine(outDir, Path.GetFileName(path)));
            if (Path.GetFileName(path) == "00-tour.ipynb" && result.FailedCount == 0) TourHtmlDrawsItsCharts(result, outDir);
            log.WriteLine($"{Path.GetFileName(path)}: {result.Cells.Count} code cells, {result.FailedCount} failed, {result.Duration.TotalSeconds:0.0} s");
            foreach (var cell in result.Cells.Where(c => c.Status != CellStatus.Succeeded))
                failures.Add($"{Path.GetFileName(path)}: {cell.Status}: {cell.Error ?? "(after an earlier failure)"}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    // The browser test of issues 4 and 13: the tour's HTML export, loaded in headless Chromium with the network off, has
    // every chart drawn by plotly (its SVG inside each chart div), with plotly.js embedded once in the page. Chart divs are
    // found whatever writes them: the library's own `shrink-chart-…` divs, or the ids Plotly.NET passes to
    // `Plotly.newPlot('…')`; plotly.js is counted by the licence header every plotly.min.js starts with.
    private void TourHtmlDrawsItsCharts(NotebookRunResult result, string outDir)
    {
        var page = Path.Combine(outDir, "00-tour.html");
        File.WriteAllText(page, Shrink.Notebooks.Html.HtmlExporter.Export(result.Notebook, "00-tour"));
        var html = File.ReadAllText(page);
        var chartIds = ChartIds(html);
        Assert.True(chartIds.Count >= 4, $"the tour's HTML holds {chartIds.Count} chart divs, expected at least 4");
        int libraries = PlotlyLibraryCount(html);
        Assert.True(libraries == 1, $"plotly.js is embedded {libraries} times in the tour's HTML, expected once");
        var dom = Shrink.Tests.Charts.HeadlessChromium.DumpDom(page, TimeSpan.FromSeconds(120));
        var starts = chartIds.Select(id => (Id: id, At: dom.IndexOf($"id=\"{id}\"", StringComparison.Ordinal))).OrderBy(c => c.At).ToList();
        foreach (var (id, at) in starts)
            Assert.True(at >= 0, $"chart {id} is missing from Chromium's DOM");
        for (int i = 0; i < starts.Count; i++)
        {
            int end = i + 1 < starts.Count ? starts[i + 1].At : dom.Length;
            var div = dom[starts[i].At..end];
            Assert.True(div.Contains("class=\"main-svg\"", StringComparison.Ordinal), $"chart {starts[i].Id} of the tour was not drawn (no plotly SVG in its div)");
        }
        log.WriteLine($"00-tour.html: {chartIds.Count} charts drawn in Chromium");
    }

    /// <summary>The ids of the divs charts draw into: `shrink-chart-…` divs and `Plotly.newPlot('id', …)` targets.</summary>
    internal static List<string> ChartIds(string html) =>
        Regex.Matches(html, "<div id=\"(shrink-chart-[^\"]+)\"").Select(m => m.Groups[1].Value)
            .Concat(Regex.Matches(html, @"Plotly\.(?:newPlot|react)\(\s*['""]([^'""]+)['""]").Select(m => m.Groups[1].Value))
            .Distinct().ToList();

    /// <summary>How many copies of plotly.js a page inlines: each plotly.min.js starts with "* plotly.js vX.Y.Z".</summary>
    internal static int PlotlyLibraryCount(string html) => Regex.Matches(html, @"\* plotly\.js v\d+\.\d+\.\d+").Count;

    // DESIGN.md: notebooks are stored with outputs stripped, a `parameters` cell holding `quick`, and the built library
    // referenced by a path relative to the notebook.
    [Fact]
    public void EveryNotebookIsStoredStrippedWithAQuickParameter()
    {
        string folder = Path.Combine(TestPaths.RepositoryRoot, "notebooks");
        var notebooks = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.ipynb") : [];
        foreach (var path in notebooks)
        {
            var nb = NotebookFile.Load(path);
            string name = Path.GetFileName(path);
            var code = nb.Elements.Where(c => c.IsCode()).ToList();
            Assert.True(code.All(c => c.Outputs.Count == 0 && c.ExecutionOrder == 0), $"{name}: outputs are not stripped");
            var parameters = code.FirstOrDefault(c => c.HasTag("parameters"));
            Assert.True(parameters is not null, $"{name}: no cell tagged 'parameters'");
            Assert.Contains("bool quick = false;", parameters!.Contents);
            Assert.Contains("#r \"../artifacts/bin/Shrink/release/Shrink.dll\"", code[0].Contents);
        }
    }
}
