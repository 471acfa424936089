using Shrink.Notebooks.Execution;
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
            result.Notebook.Save(Path.Combine(outDir, Path.GetFileName(path)));
            if (Path.GetFileName(path) == "00-tour.ipynb" && result.FailedCount == 0) TourHtmlDrawsItsCharts(result, outDir);
            log.WriteLine($"{Path.GetFileName(path)}: {result.Cells.Count} code cells, {result.FailedCount} failed, {result.Duration.TotalSeconds:0.0} s");
            foreach (var cell in result.Cells.Where(c => c.Status != CellStatus.Succeeded))
                failures.Add($"{Path.GetFileName(path)}: {cell.Status}: {cell.Error ?? "(after an earlier failure)"}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    // The browser test of issue 4: the tour's HTML export, loaded in headless Chromium, has every chart drawn by plotly
    // (its SVG inside each chart div), with plotly.js embedded once in the page.
    private void TourHtmlDrawsItsCharts(NotebookRunResult result, string outDir)
    {
        var page = Path.Combine(outDir, "00-tour.html");
        File.WriteAllText(page, Shrink.Notebooks.Html.HtmlExporter.Export(result.Notebook, "00-tour"));
        var html = File.ReadAllText(page);
        var chartIds = System.Text.RegularExpressions.Regex.Matches(html, "<div id=\"(shrink-chart-[^\"]+)\"").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(chartIds.Count >= 4, $"the tour's HTML holds {chartIds.Count} chart divs, expected at least 4");
        int libraries = System.Text.RegularExpressions.Regex.Matches(html, "window.Plotly = Plotly;").Count;
        Assert.True(libraries == 1, $"plotly.js is embedded {libraries} times in the tour's HTML, expected once");
        var dom = Shrink.Tests.Charts.HeadlessChromium.DumpDom(page, TimeSpan.FromSeconds(120));
        foreach (var id in chartIds)
        {
            int at = dom.IndexOf($"id=\"{id}\"", StringComparison.Ordinal);
            Assert.True(at >= 0, $"chart {id} is missing from Chromium's DOM");
            int next = dom.IndexOf("id=\"shrink-chart-", at + 10, StringComparison.Ordinal);
            var div = dom[at..(next < 0 ? dom.Length : next)];
            Assert.True(div.Contains("class=\"main-svg\"", StringComparison.Ordinal), $"chart {id} of the tour was not drawn (no plotly SVG in its div)");
        }
        log.WriteLine($"00-tour.html: {chartIds.Count} charts drawn in Chromium");
    }

    // DESIGN.md: notebooks are stored with outputs stripped, a `parameters` cell holding `quick`, and the built library
    // referenced by a path relative to the notebook.
    [Fact]
    public void EveryNotebookIsStoredStrippedWithAQuickParameter()
    {
        string folder = Path.Combine(TestPaths.RepositoryRoot, "notebooks");
        var notebooks = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.ipynb") : [];
        foreach (var path in notebooks)
        {
            var nb = Shrink.Notebooks.Model.Notebook.Load(path);
            string name = Path.GetFileName(path);
            var code = nb.Cells.Where(c => c.IsCode).ToList();
            Assert.True(code.All(c => c.Outputs.Count == 0 && c.ExecutionCount is null), $"{name}: outputs are not stripped");
            var parameters = code.FirstOrDefault(c => c.HasTag("parameters"));
            Assert.True(parameters is not null, $"{name}: no cell tagged 'parameters'");
            Assert.Contains("bool quick = false;", parameters!.Source);
            Assert.Contains("#r \"../artifacts/bin/Shrink/release/Shrink.dll\"", code[0].Source);
        }
    }
}
