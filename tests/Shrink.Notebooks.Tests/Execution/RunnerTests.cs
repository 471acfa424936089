using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Execution;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Tests.Execution;

public class RunnerTests(RunnerFixture run) : IClassFixture<RunnerFixture>
{
    static string Plain(InteractiveDocumentElement cell) => NotebookBuilder.Plain(cell);

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
        Assert.Equal([typeof(TextElement), typeof(TextElement), typeof(DisplayElement), typeof(DisplayElement), typeof(TextElement)], outputs.Select(o => o.GetType()));
        Assert.Equal(("stdout", "out 1\n"), (((TextElement)outputs[0]).Name, ((TextElement)outputs[0]).Text));
        Assert.Equal(("stderr", "err 1\n"), (((TextElement)outputs[1]).Name, ((TextElement)outputs[1]).Text));
        Assert.Equal(["text/plain"], outputs[2].Bundle().Select(d => d.Key));
        Assert.Equal("shown", outputs[2].Get("text/plain"));
        Assert.Equal("<b>bold</b>", outputs[3].Get("text/html"));
        Assert.Equal(("stdout", "out 2"), (((TextElement)outputs[4]).Name, ((TextElement)outputs[4]).Text));
    }

    [Fact]
    public void ConventionFormatterOfALibraryTypeIsUsed()
    {
        // .NET Interactive's Formatter finds the library's TypeFormatterSourceAttribute by name and uses its formatters
        // for the types the attribute prefers.
        var output = Assert.Single(run.Cell("convention").Outputs);
        Assert.IsType<ReturnValueElement>(output);
        Assert.Equal("<meter value=\"0.25\"></meter>", output.Get("text/html"));
        Assert.Equal("gauge 0.25", output.Get("text/plain"));
    }

    [Fact]
    public void CompileErrorNamesCellAndLine()
    {
        var result = run.CellResult("compile-error");
        Assert.Equal(CellStatus.Failed, result.Status);
        var error = Assert.IsType<ErrorElement>(Assert.Single(run.Cell("compile-error").Outputs));
        Assert.Equal("CompilationError", error.ErrorName);
        int number = RunnerFixture.CodeNumber("compile-error");
        Assert.StartsWith($"code cell {number} (notebook cell {number + 1}), line 2, column 19: error CS0103:", error.ErrorValue);
        Assert.Contains("missing", error.ErrorValue);
        Assert.Contains("    2 | var broken = ok + missing;", error.StackTrace);
        Assert.Equal(error.ErrorValue!.Split('\n')[0], result.Error);
    }

    [Fact]
    public void RuntimeExceptionNamesCellAndLine()
    {
        var error = Assert.IsType<ErrorElement>(Assert.Single(run.Cell("throw").Outputs));
        int number = RunnerFixture.CodeNumber("throw");
        Assert.Equal("System.InvalidOperationException", error.ErrorName);
        Assert.Equal($"code cell {number} (notebook cell {number + 1}), line 3: InvalidOperationException: boom", error.ErrorValue);
        Assert.Contains(error.StackTrace, l => l.Contains("InvalidOperationException: boom"));

        var nested = Assert.IsType<ErrorElement>(Assert.Single(run.Cell("throw-in-earlier-cell").Outputs));
        int define = RunnerFixture.CodeNumber("define"), caller = RunnerFixture.CodeNumber("throw-in-earlier-cell");
        Assert.Equal($"code cell {define} (notebook cell {define + 1}), line 1, called from code cell {caller} (notebook cell {caller + 1}), line 2: DivideByZeroException: Attempted to divide by zero.",
            nested.ErrorValue);
    }

    [Fact]
    public void TimeMagicShowsWallTime()
    {
        // As the .NET Interactive tool's #!time: a text/plain display after the cell's outputs.
        var output = Assert.IsType<DisplayElement>(Assert.Single(run.Cell("time").Outputs));
        Assert.Matches(@"^Wall time: \d+(\.\d+)?ms$", output.Get("text/plain"));
    }

    [Fact]
    public void UnknownMagicCommandsNameCellAndLine()
    {
        var error = Assert.IsType<ErrorElement>(Assert.Single(run.Cell("unknown-magic").Outputs));
        int number = RunnerFixture.CodeNumber("unknown-magic");
        Assert.StartsWith($"code cell {number} (notebook cell {number + 1}), line 2, column 1: error DNI101:", error.ErrorValue);
        Assert.Contains("#!frobnicate", error.ErrorValue);
    }

    [Fact]
    public void NonCSharpCellsAreUnsupported()
    {
        var error = Assert.IsType<ErrorElement>(Assert.Single(run.Cell("fsharp").Outputs));
        Assert.Equal("UnsupportedKernel", error.ErrorName);
        int number = RunnerFixture.CodeNumber("fsharp");
        Assert.StartsWith($"code cell {number} (notebook cell {number + 1}), line 1: a \"fsharp\" cell", error.ErrorValue);
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
        // Read back from the file the runner would write: what Documents writes, Documents reads.
        var reread = NotebookFile.Parse(NotebookFile.ToIpynb(run.Result.Notebook), "executed.ipynb");
        var code = reread.Elements.Where(c => c.IsCode()).ToList();
        Assert.Equal(Enumerable.Range(1, RunnerFixture.Cells.Length), code.Select(c => c.ExecutionOrder));
        foreach (var cell in code)
        {
            var timing = (IDictionary<string, object>)((IDictionary<string, object>)cell.Metadata!["shrink"])["execution"];
            Assert.True((double)timing["duration"] >= 0);
            Assert.True(DateTimeOffset.Parse((string)timing["end"]) >= DateTimeOffset.Parse((string)timing["start"]));
        }
        string[] failed = ["compile-error", "throw", "throw-in-earlier-cell", "unknown-magic", "fsharp"];
        Assert.Equal(failed.Length, run.Result.FailedCount);
        foreach (var (name, _) in RunnerFixture.Cells)
        {
            var expected = failed.Contains(name) ? CellStatus.Failed : CellStatus.Succeeded;
            Assert.True(expected == run.CellResult(name).Status, $"{name}: {run.CellResult(name).Status} {run.CellResult(name).Error}");
            var execution = (IDictionary<string, object>)((IDictionary<string, object>)run.Cell(name).Metadata!["shrink"])["execution"];
            Assert.Equal(expected == CellStatus.Failed ? "failed" : "succeeded", (string)execution["status"]);
        }
        Assert.Equal("# Fixture", run.Result.Notebook.Elements[0].Contents);
    }

    [Fact]
    public void SourceNotebookIsNotModified()
    {
        Assert.Equal(run.SourceBytes, File.ReadAllBytes(run.Path_));
        var source = NotebookFile.Load(run.Path_);
        Assert.All(source.Elements.Where(c => c.IsCode()), c =>
        {
            Assert.Equal(0, c.ExecutionOrder);
            Assert.Empty(c.Outputs);
            Assert.False(c.Metadata?.ContainsKey("shrink") ?? false);
        });
    }
}

public class RunnerStopTests
{
    [Fact]
    public async Task StopsAtTheFirstFailingCellUnlessKeepGoing()
    {
        var nb = NotebookBuilder.Create("var a = 1;", "throw new Exception(\"stop\");", "md:between", "a + 1");
        nb.Elements[3].Outputs.Add(new TextElement("stale output from an earlier run", "stdout"));
        string folder = TestPaths.NewTempFolder();

        var stopped = await NotebookRunner.RunAsync(nb, folder);
        Assert.Equal([CellStatus.Succeeded, CellStatus.Failed, CellStatus.NotRun], stopped.Cells.Select(c => c.Status));
        Assert.Equal((1, 1), (stopped.FailedCount, stopped.NotRunCount));
        var last = stopped.Notebook.Elements[3];
        Assert.Equal(0, last.ExecutionOrder);
        Assert.Empty(last.Outputs);
        Assert.Single(nb.Elements[3].Outputs);   // the notebook passed in is untouched

        var kept = await NotebookRunner.RunAsync(nb, folder, options: new NotebookRunOptions { KeepGoing = true });
        Assert.Equal([CellStatus.Succeeded, CellStatus.Failed, CellStatus.Succeeded], kept.Cells.Select(c => c.Status));
        Assert.Equal("2", NotebookBuilder.Plain(kept.Notebook.Elements[3]));
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
        Assert.Null(NotebookSession.CurrentId);
    }

    [Fact]
    public async Task DibNotebooksRun()
    {
        string folder = TestPaths.NewTempFolder();
        string path = Path.Combine(folder, "x.dib");
        File.WriteAllText(path, "#!markdown\n\n# T\n\n#!csharp\n\nvar z = 20;\n\n#!csharp\n\nz + 1\n");
        var result = await NotebookRunner.RunAsync(path);
        Assert.True(result.Succeeded);
        Assert.Equal("21", NotebookBuilder.Plain(result.Notebook.Elements[2]));
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
        Assert.Equal("42", NotebookBuilder.Plain(result.Notebook.Elements[1]));
    }
}

public class NuGetTests
{
    // `#r "nuget:…"` restores through Microsoft.DotNet.Interactive.PackageManagement, as in VS Code and Jupyter.
    [Fact]
    public async Task NuGetReferencesRestoreThroughPackageManagement()
    {
        var nb = NotebookBuilder.Create("#r \"nuget: YamlDotNet, 18.1.0\"", "new YamlDotNet.Serialization.SerializerBuilder().Build().Serialize(new { a = 1 }).Trim()");
        var result = await NotebookRunner.RunAsync(nb, TestPaths.NewTempFolder());
        Assert.True(result.Succeeded, string.Join("\n", result.Cells.Select(c => c.Error)));
        Assert.Equal("a: 1", NotebookBuilder.Plain(result.Notebook.Elements[1]));
    }
}
