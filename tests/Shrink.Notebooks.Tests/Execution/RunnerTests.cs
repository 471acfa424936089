using System.Text.Json.Nodes;
using Shrink.Notebooks.Execution;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Tests.Execution;

public class RunnerTests(RunnerFixture run) : IClassFixture<RunnerFixture>
{
    static string Plain(NotebookCell cell) => Assert.Single(cell.Outputs, o => o.OutputType == "display_data").GetData("text/plain")!;

    [Fact]
    public void StateCarriesAcrossCellsAndTrailingExpressionsDisplay()
    {
        Assert.Empty(run.Cell("state").Outputs);
        Assert.Equal("6", Plain(run.Cell("expression")));
        Assert.Empty(run.Cell("statement").Outputs);
        Assert.Empty(run.Cell("void-expression").Outputs);
        Assert.Empty(run.Cell("await-void").Outputs);
        Assert.Equal("5", Plain(run.Cell("await-value")));
        Assert.Equal("<null>", Plain(run.Cell("null")));
        Assert.Equal("9", Plain(run.Cell("after-failures")));
    }

    [Fact]
    public void ConsoleAndDisplayOutputsKeepTheirOrder()
    {
        var outputs = run.Cell("console").Outputs;
        Assert.Equal(["stream", "stream", "display_data", "display_data", "stream"], outputs.Select(o => o.OutputType));
        Assert.Equal(("stdout", "out 1\n"), (outputs[0].StreamName, outputs[0].Text));
        Assert.Equal(("stderr", "err 1\n"), (outputs[1].StreamName, outputs[1].Text));
        Assert.Equal(["text/plain"], outputs[2].Data.Select(d => d.Key));
        Assert.Equal("shown", outputs[2].GetData("text/plain"));
        Assert.Equal("<b>bold</b>", outputs[3].GetData("text/html"));
        Assert.Equal(("stdout", "out 2"), (outputs[4].StreamName, outputs[4].Text));
    }

    [Fact]
    public void ConventionFormatterOfALibraryTypeIsUsed()
    {
        var output = Assert.Single(run.Cell("convention").Outputs);
        Assert.Equal(["text/html", "text/plain", "application/json"], output.Data.Select(d => d.Key));
        Assert.Equal("<meter value=\"0.25\"></meter>", output.GetData("text/html"));
        Assert.Equal(0.25, (double)output.Json["data"]!["application/json"]!["value"]!);
    }

    [Fact]
    public void CompileErrorNamesCellAndLine()
    {
        var result = run.CellResult("compile-error");
        Assert.Equal(CellStatus.Failed, result.Status);
        var error = Assert.Single(run.Cell("compile-error").Outputs);
        Assert.Equal("CompilationError", error.ErrorName);
        int number = RunnerFixture.CodeNumber("compile-error");
        Assert.StartsWith($"code cell {number} (notebook cell {number + 1}), line 2, column 19: error CS0103:", error.ErrorValue);
        Assert.Contains("missing", error.ErrorValue);
        Assert.Contains("    2 | var broken = ok + missing;", error.Traceback);
        Assert.Equal(error.ErrorValue!.Split('\n')[0], result.Error);
    }

    [Fact]
    public void RuntimeExceptionNamesCellAndLine()
    {
        var error = Assert.Single(run.Cell("throw").Outputs);
        int number = RunnerFixture.CodeNumber("throw");
        Assert.Equal("System.InvalidOperationException", error.ErrorName);
        Assert.Equal($"code cell {number} (notebook cell {number + 1}), line 3: InvalidOperationException: boom", error.ErrorValue);
        Assert.Contains(error.Traceback, l => l.Contains("InvalidOperationException: boom"));

        var nested = Assert.Single(run.Cell("throw-in-earlier-cell").Outputs);
        int define = RunnerFixture.CodeNumber("define"), caller = RunnerFixture.CodeNumber("throw-in-earlier-cell");
        Assert.Equal($"code cell {define} (notebook cell {define + 1}), line 1, called from code cell {caller} (notebook cell {caller + 1}), line 2: DivideByZeroException: Attempted to divide by zero.",
            nested.ErrorValue);
    }

    [Fact]
    public void TimeMagicPrintsWallTime()
    {
        var output = Assert.Single(run.Cell("time").Outputs);
        Assert.Equal("stdout", output.StreamName);
        Assert.Matches(@"^Wall time: \d+(\.\d+)?ms\n$", output.Text);
    }

    [Fact]
    public void NuGetReferencesAreRefusedWithDirections()
    {
        var error = Assert.Single(run.Cell("nuget").Outputs);
        Assert.Equal("UnsupportedMagicCommand", error.ErrorName);
        int number = RunnerFixture.CodeNumber("nuget");
        Assert.StartsWith($"code cell {number} (notebook cell {number + 1}), line 2: `#r \"nuget: Plotly.NET, 4.2.0\"`", error.ErrorValue);
        Assert.Contains("NuGet packages cannot be restored here", error.ErrorValue);
        Assert.Contains("#r \"../artifacts/bin/Shrink/release/Shrink.dll\"", error.ErrorValue);
    }

    [Fact]
    public void NonCSharpCellsAreUnsupported()
    {
        var error = Assert.Single(run.Cell("fsharp").Outputs);
        Assert.Equal("UnsupportedKernel", error.ErrorName);
        Assert.Contains("\"fsharp\" cell", error.ErrorValue);
        Assert.Equal("fsharp", run.CellResult("fsharp").Kernel);
    }

    [Fact]
    public void RelativeReferencesAndFilesResolveAgainstTheNotebookFolder()
    {
        Assert.Equal(CellStatus.Succeeded, run.CellResult("relative-r").Status);
        Assert.Equal("4", Plain(run.Cell("relative-r")));
        Assert.Equal("hello|" + run.Folder, Plain(run.Cell("cwd")));
    }

    [Fact]
    public void EachRunHasASessionIdThatIsRestoredAfterwards()
    {
        Assert.True(Guid.TryParse(Plain(run.Cell("session")), out _));
        Assert.NotEqual(Plain(run.Cell("session")), run.SessionAfter);
        Assert.Equal(run.DirectoryBefore, run.DirectoryAfter);
        Assert.Same(run.ConsoleOutBefore, run.ConsoleOutAfter);
    }

    [Fact]
    public void ExecutionCountsTimingsAndStatusesAreRecorded()
    {
        var code = run.Result.Notebook.Cells.Where(c => c.IsCode).ToList();
        Assert.Equal(Enumerable.Range(1, RunnerFixture.Cells.Length), code.Select(c => c.ExecutionCount ?? 0));
        foreach (var cell in code)
        {
            var timing = cell.Metadata["shrink"]!["execution"]!.AsObject();
            Assert.True((double)timing["duration"]! >= 0);
            Assert.True(DateTimeOffset.Parse((string)timing["end"]!) >= DateTimeOffset.Parse((string)timing["start"]!));
        }
        string[] failed = ["compile-error", "throw", "throw-in-earlier-cell", "nuget", "fsharp"];
        Assert.Equal(failed.Length, run.Result.FailedCount);
        foreach (var (name, _) in RunnerFixture.Cells)
        {
            var expected = failed.Contains(name) ? CellStatus.Failed : CellStatus.Succeeded;
            Assert.True(expected == run.CellResult(name).Status, $"{name}: {run.CellResult(name).Status} {run.CellResult(name).Error}");
            Assert.Equal(expected == CellStatus.Failed ? "failed" : "succeeded", (string)run.Cell(name).Metadata["shrink"]!["execution"]!["status"]!);
        }
        Assert.Equal("# Fixture", run.Result.Notebook.Cells[0].Source);
    }

    [Fact]
    public void SourceNotebookIsNotModified()
    {
        Assert.Equal(run.SourceBytes, File.ReadAllBytes(run.Path_));
        var source = Notebook.Load(run.Path_);
        Assert.All(source.Cells.Where(c => c.IsCode), c =>
        {
            Assert.Null(c.ExecutionCount);
            Assert.Empty(c.Outputs);
            Assert.False(c.Metadata.ContainsKey("shrink"));
        });
    }
}

public class RunnerStopTests
{
    [Fact]
    public async Task StopsAtTheFirstFailingCellUnlessKeepGoing()
    {
        var nb = NotebookBuilder.Create("var a = 1;", "throw new Exception(\"stop\");", "md:between", "a + 1");
        nb.Cells[3].AddOutput(NotebookOutput.Stream("stdout", "stale output from an earlier run"));
        string folder = TestPaths.NewTempFolder();

        var stopped = await NotebookRunner.RunAsync(nb, folder);
        Assert.Equal([CellStatus.Succeeded, CellStatus.Failed, CellStatus.NotRun], stopped.Cells.Select(c => c.Status));
        Assert.Equal((1, 1), (stopped.FailedCount, stopped.NotRunCount));
        var last = stopped.Notebook.Cells[3];
        Assert.Null(last.ExecutionCount);
        Assert.Empty(last.Outputs);
        Assert.Single(nb.Cells[3].Outputs);   // the notebook passed in is untouched

        var kept = await NotebookRunner.RunAsync(nb, folder, options: new NotebookRunOptions { KeepGoing = true });
        Assert.Equal([CellStatus.Succeeded, CellStatus.Failed, CellStatus.Succeeded], kept.Cells.Select(c => c.Status));
        Assert.Equal("2", kept.Notebook.Cells[3].Outputs[0].GetData("text/plain"));
    }

    [Fact]
    public async Task WorkingDirectoryAndConsoleAreRestoredWhenARunIsCancelled()
    {
        var nb = NotebookBuilder.Create("var a = 1;", "var b = 2;");
        string before = Environment.CurrentDirectory;
        var console = Console.Out;
        using var cts = new CancellationTokenSource();
        var options = new NotebookRunOptions { CellFinished = _ => cts.Cancel() };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => NotebookRunner.RunAsync(nb, TestPaths.NewTempFolder(), null, options, cts.Token));
        Assert.Equal(before, Environment.CurrentDirectory);
        Assert.Same(console, Console.Out);
        Assert.Null(Shrink.Notebooks.Formatting.NotebookSession.CurrentId);
    }

    [Fact]
    public async Task DibNotebooksRun()
    {
        string folder = TestPaths.NewTempFolder();
        string path = Path.Combine(folder, "x.dib");
        File.WriteAllText(path, "#!markdown\n\n# T\n\n#!csharp\n\nvar z = 20;\n\n#!csharp\n\nz + 1\n");
        var result = await NotebookRunner.RunAsync(path);
        Assert.True(result.Succeeded);
        Assert.Equal("21", result.Notebook.Cells[2].Outputs[0].GetData("text/plain"));
    }
}

public class FirstCellTests
{
    [Fact]
    public async Task AFirstCellThatThrowsKeepsWhatItDeclaredBeforeTheThrow()
    {
        var nb = NotebookBuilder.Create("var kept = 41;\nthrow new Exception(\"first\");", "kept + 1");
        var result = await NotebookRunner.RunAsync(nb, TestPaths.NewTempFolder(), options: new NotebookRunOptions { KeepGoing = true });
        Assert.Equal([CellStatus.Failed, CellStatus.Succeeded], result.Cells.Select(c => c.Status));
        Assert.Contains("code cell 1 (notebook cell 1), line 2: Exception: first", result.Cells[0].Error);
        Assert.Equal("42", result.Notebook.Cells[1].Outputs[0].GetData("text/plain"));
    }
}
