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
            log.WriteLine($"{Path.GetFileName(path)}: {result.Cells.Count} code cells, {result.FailedCount} failed, {result.Duration.TotalSeconds:0.0} s");
            foreach (var cell in result.Cells.Where(c => c.Status != CellStatus.Succeeded))
                failures.Add($"{Path.GetFileName(path)}: {cell.Status}: {cell.Error ?? "(after an earlier failure)"}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
