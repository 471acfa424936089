using System.Diagnostics;
using Xunit.Abstractions;

namespace Shrink.Notebooks.Tests.Jupyter;

/// <summary>
/// The Jupyter route, as a JupyterLab user runs it: every notebook of the suite executed in quick mode by Jupyter's own
/// client (nbclient, through <c>scripts/jupyter_run.py</c>) on the <c>.net-csharp</c> kernel of the pinned
/// <c>dotnet-interactive</c> tool — not by our runner. Each notebook must run every cell with no error output and show
/// what the suite promises: charts (Plotly HTML) and tables (HTML <c>&lt;table&gt;</c>).
/// </summary>
public class JupyterQuickModeTests(ITestOutputHelper log)
{
    // A notebook in quick mode takes well under a minute on 2 cores; the kernel's first start compiles a lot.
    private static readonly TimeSpan NotebookTimeout = TimeSpan.FromMinutes(20);

    [Fact]
    public void EveryNotebookRunsInJupyterWithItsChartsAndTables()
    {
        string folder = Path.Combine(TestPaths.RepositoryRoot, "notebooks");
        var notebooks = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.ipynb").OrderBy(Path.GetFileName, StringComparer.Ordinal).ToList()
            : [];
        Assert.True(notebooks.Count > 0, $"no notebooks in {folder}");
        // The notebooks #r "../artifacts/bin/Shrink/release/Shrink.dll": this project builds it (a project reference).
        string shrink = Path.Combine(TestPaths.RepositoryRoot, "artifacts", "bin", "Shrink", "release", "Shrink.dll");
        Assert.True(File.Exists(shrink), $"{shrink} is missing: build with `dotnet build -c Release` first");

        var jupyter = JupyterClient.Find();
        string outFolder = Path.Combine(TestPaths.RepositoryRoot, "artifacts", "jupyter");
        Directory.CreateDirectory(outFolder);
        log.WriteLine($"Jupyter's client: {jupyter.Python}; executed notebooks in {outFolder}");

        var failures = new List<string>();
        foreach (var path in notebooks)
        {
            string name = Path.GetFileName(path);
            string executedPath = Path.Combine(outFolder, name);
            File.Delete(executedPath);
            var clock = Stopwatch.StartNew();
            var (exitCode, output) = jupyter.Execute(path, outFolder, ["quick=true"], NotebookTimeout);
            clock.Stop();
            if (!File.Exists(executedPath))
            {
                failures.Add($"{name}: Jupyter wrote no executed notebook (exit code {exitCode}):\n{output}");
                continue;
            }
            var executed = ExecutedNotebook.Load(executedPath);
            log.WriteLine($"{name}: {clock.Elapsed.TotalSeconds:0.0} s, {executed.ExecutedCells}/{executed.CodeCells} code cells ran, " +
                          $"{executed.Errors.Count} errors, {executed.Charts} charts, {executed.Tables} tables");
            failures.AddRange(executed.Errors.Select(e => $"{name}: {e}"));
            if (exitCode != 0 && executed.Errors.Count == 0)
                failures.Add($"{name}: scripts/jupyter_run.py exited with {exitCode}:\n{output}");
            if (exitCode != 0) continue;
            if (executed.ExecutedCells != executed.CodeCells)
                failures.Add($"{name}: {executed.CodeCells - executed.ExecutedCells} of {executed.CodeCells} code cells did not run");
            // DESIGN.md: each notebook shows charts and a claims table; the tour's per-class accuracy is its table.
            if (executed.Charts == 0) failures.Add($"{name}: no chart was displayed (no text/html output calling Plotly.newPlot or Plotly.react)");
            if (executed.Tables == 0) failures.Add($"{name}: no table was displayed (no text/html output with a <table>)");
        }
        Assert.True(failures.Count == 0, "Jupyter (nbclient, kernel .net-csharp) found:\n" + string.Join("\n", failures));
    }
}
