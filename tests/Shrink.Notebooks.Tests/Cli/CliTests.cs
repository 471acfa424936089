using System.Diagnostics;
using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Cli;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Tests.Cli;

public class CliTests
{
    static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await NotebookCli.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task SucceedingRunExitsZeroAndWritesTheExecutedCopyAndHtml()
    {
        string folder = TestPaths.NewTempFolder();
        string source = NotebookBuilder.Save(NotebookBuilder.Create("md:# Hello", "params:int n = 1;", "display(HTML(\"<i>it</i>\"));\nn * 10"), folder, "ok.ipynb");
        byte[] bytesBefore = File.ReadAllBytes(source);
        var timeBefore = File.GetLastWriteTimeUtc(source);
        string outDir = Path.Combine(folder, "out");

        var (code, stdout, stderr) = await Run("run", source, "-p", "n=4", "--out", outDir, "--html");
        Assert.True(code == NotebookCli.ExitSuccess, stdout + stderr);
        Assert.Contains("[1/3] cell 2 … ", stdout);
        Assert.Contains("[3/3] cell 4 … ", stdout);
        Assert.Contains("ok: 3 cells succeeded, 0 failed, 0 not run", stdout);

        Assert.Equal(bytesBefore, File.ReadAllBytes(source));
        Assert.Equal(timeBefore, File.GetLastWriteTimeUtc(source));
        Assert.Equal(["ok.html", "ok.ipynb"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order());
        var executed = NotebookFile.Load(Path.Combine(outDir, "ok.ipynb"));
        Assert.Equal("40", executed.Elements[3].Outputs[1].Get("text/plain"));
        Assert.Equal(4.0, (double)((IDictionary<string, object>)((IDictionary<string, object>)executed.Metadata["papermill"])["parameters"])["n"]);
        string html = File.ReadAllText(Path.Combine(outDir, "ok.html"));
        Assert.Contains("<i>it</i>", html);
        Assert.Contains("<h1>Hello</h1>", html);
    }

    [Fact]
    public async Task FailingCellExitsTwoAndLeavesLaterCellsUnexecuted()
    {
        string folder = TestPaths.NewTempFolder();
        string source = NotebookBuilder.Save(NotebookBuilder.Create("var a = 1;", "var b = a + nope;", "a"), folder, "bad.ipynb");
        var (code, stdout, stderr) = await Run("run", source, "--out", Path.Combine(folder, "out"));
        Assert.Equal(NotebookCli.ExitCellFailed, code);
        Assert.Contains("[2/3] cell 2 … FAILED", stdout);
        Assert.Contains("bad.ipynb: code cell 2 (notebook cell 2), line 1, column 13: error CS0103", stderr);
        var executed = NotebookFile.Load(Path.Combine(folder, "out", "bad.ipynb"));
        Assert.Equal(0, executed.Elements[2].ExecutionOrder);

        (code, _, _) = await Run("run", source, "--out", Path.Combine(folder, "out2"), "--keep-going");
        Assert.Equal(NotebookCli.ExitCellFailed, code);
        Assert.Equal(3, NotebookFile.Load(Path.Combine(folder, "out2", "bad.ipynb")).Elements[2].ExecutionOrder);
    }

    [Fact]
    public async Task UsageErrorsExitOneWithAClearMessage()
    {
        string folder = TestPaths.NewTempFolder();
        string source = NotebookBuilder.Save(NotebookBuilder.Create("1"), folder, "a.ipynb");
        File.WriteAllText(Path.Combine(folder, "broken.ipynb"), "{\"nbformat\": 4");

        var (code, _, err) = await Run("run", source, "--bogus");
        Assert.Equal((NotebookCli.ExitUsage, true), (code, err.Contains("--bogus")));
        (code, _, err) = await Run("run", Path.Combine(folder, "missing.ipynb"));
        Assert.Equal((NotebookCli.ExitUsage, true), (code, err.Contains("no such notebook or folder")));
        (code, _, err) = await Run("run", source, "-p", "quick");
        Assert.Equal((NotebookCli.ExitUsage, true), (code, err.Contains("name=value")));
        (code, _, err) = await Run("run", source, "--out", folder);
        Assert.Equal((NotebookCli.ExitUsage, true), (code, err.Contains("would overwrite the source notebook")));
        (code, _, err) = await Run("run", Path.Combine(folder, "broken.ipynb"), "--out", Path.Combine(folder, "o"));
        Assert.Equal((NotebookCli.ExitUsage, true), (code, err.Contains("broken.ipynb: not valid JSON")));
        (code, _, _) = await Run("run");
        Assert.Equal(NotebookCli.ExitUsage, code);
        (code, _, _) = await Run("frobnicate");
        Assert.Equal(NotebookCli.ExitUsage, code);
        Assert.False(Directory.Exists(Path.Combine(folder, "o")));
    }

    [Fact]
    public async Task FoldersExpandToTheirNotebooksSortedByName()
    {
        string folder = TestPaths.NewTempFolder();
        string nbs = Path.Combine(folder, "nbs");
        Directory.CreateDirectory(nbs);
        NotebookBuilder.Save(NotebookBuilder.Create("2"), nbs, "b.ipynb");
        NotebookBuilder.Save(NotebookBuilder.Create("1"), nbs, "a.ipynb");
        File.WriteAllText(Path.Combine(nbs, "notes.txt"), "not a notebook");
        var (code, stdout, _) = await Run("run", nbs, "--out", Path.Combine(folder, "out"));
        Assert.Equal(NotebookCli.ExitSuccess, code);
        Assert.True(stdout.IndexOf("a.ipynb (", StringComparison.Ordinal) < stdout.IndexOf("b.ipynb (", StringComparison.Ordinal));
        Assert.Equal(["a.ipynb", "b.ipynb"], Directory.GetFiles(Path.Combine(folder, "out")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task DefaultOutputIsArtifactsNotebooksUnderTheRepositoryRoot()
    {
        string root = TestPaths.NewTempFolder();
        File.WriteAllText(Path.Combine(root, "Notebooks.sln"), "");
        string nbs = Path.Combine(root, "notebooks");
        Directory.CreateDirectory(nbs);
        string source = NotebookBuilder.Save(NotebookBuilder.Create("1 + 1"), nbs, "t.ipynb");
        Assert.Equal(root, NotebookCli.FindRepositoryRoot(nbs));

        string saved = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = nbs;
            var (code, _, _) = await Run("run", "t.ipynb");
            Assert.Equal(NotebookCli.ExitSuccess, code);
        }
        finally { Environment.CurrentDirectory = saved; }
        Assert.True(File.Exists(Path.Combine(root, "artifacts", "notebooks", "t.ipynb")));
        Assert.Empty(Directory.GetFiles(Path.Combine(root, "artifacts", "notebooks"), "*.tmp"));
        Assert.NotNull(source);
    }

    // The built CLI as a process: Program.Main's exit codes reach the shell.
    [Fact]
    public void BuiltCliReturnsExitCodesAsAProcess()
    {
        string dll = Path.Combine(TestPaths.RepositoryRoot, "artifacts", "bin", "Shrink.Notebooks", TestPaths.Configuration, "Shrink.Notebooks.dll");
        string folder = TestPaths.NewTempFolder();
        string source = NotebookBuilder.Save(NotebookBuilder.Create("Console.WriteLine(6 * 7);"), folder, "p.ipynb");

        static (int Code, string Output) Exec(string dll, params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add(dll);
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            Assert.True(p.WaitForExit(120_000), "the CLI did not finish in 2 minutes");
            return (p.ExitCode, stdout.Result + stderr);
        }

        var ok = Exec(dll, "run", source, "--out", Path.Combine(folder, "out"));
        Assert.True(ok.Code == 0, ok.Output);
        Assert.Equal("42\n", Assert.IsType<TextElement>(NotebookFile.Load(Path.Combine(folder, "out", "p.ipynb")).Elements[0].Outputs[0]).Text);
        Assert.Equal(1, Exec(dll, "run", source, "-p", "1x=2").Code);
    }

    // Bad input (issue 13): a throwing cell names the file, cell and line, exits 2 and leaves the source as it was.
    [Fact]
    public async Task ThrowingCellNamesFileCellAndLineAndLeavesTheSource()
    {
        string folder = TestPaths.NewTempFolder();
        string source = NotebookBuilder.Save(NotebookBuilder.Create("md:# T", "var a = 1;", "var b = 2;\nthrow new InvalidOperationException(\"bad input\");"), folder, "throws.ipynb");
        byte[] before = File.ReadAllBytes(source);
        var (code, _, stderr) = await Run("run", source, "--out", Path.Combine(folder, "out"));
        Assert.Equal(NotebookCli.ExitCellFailed, code);
        Assert.Contains("throws.ipynb: code cell 2 (notebook cell 3), line 2: InvalidOperationException: bad input", stderr);
        Assert.Equal(before, File.ReadAllBytes(source));
    }

    // Bad input: a file that is not JSON exits 1 naming the file and where the JSON breaks; an unknown kernel fails its
    // cells (exit 2) with a message naming the kernel; neither file is written over.
    [Fact]
    public async Task NotJsonAndUnknownKernelsAreReportedClearly()
    {
        string folder = TestPaths.NewTempFolder();
        string notJson = Path.Combine(folder, "notes.ipynb");
        File.WriteAllText(notJson, "# just markdown\n\nnot a notebook\n");
        var (code, _, err) = await Run("run", notJson, "--out", Path.Combine(folder, "o1"));
        Assert.Equal(NotebookCli.ExitUsage, code);
        Assert.Contains("notes.ipynb: not valid JSON at line 1", err);
        Assert.Equal("# just markdown\n\nnot a notebook\n", File.ReadAllText(notJson));

        string python = Path.Combine(folder, "py.ipynb");
        string pythonJson = """{"cells": [{"cell_type": "code", "metadata": {}, "source": "print(1)", "outputs": [], "execution_count": null}], "metadata": {"kernelspec": {"name": "python3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}""";
        File.WriteAllText(python, pythonJson);
        var (code2, _, err2) = await Run("run", python, "--out", Path.Combine(folder, "o2"));
        Assert.Equal(NotebookCli.ExitCellFailed, code2);
        Assert.Contains("py.ipynb: code cell 1 (notebook cell 1), line 1: a \"python3\" cell", err2);
        Assert.Equal(pythonJson, File.ReadAllText(python));
    }

    // Issue 13, part 6: with --html, a folder run also writes index.html linking every executed notebook with its status,
    // run time and claims table (the outputs of the cells tagged "claims"); a notebook without one says so.
    [Fact]
    public async Task FolderRunWithHtmlWritesTheSuiteIndex()
    {
        string folder = TestPaths.NewTempFolder();
        string nbs = Path.Combine(folder, "nbs");
        Directory.CreateDirectory(nbs);
        NotebookBuilder.Save(NotebookBuilder.Create("params:int n = 1;", "claims:display(HTML(\"<table id=\\\"verdicts\\\"><tr><td>claim</td><td>holds</td></tr></table>\"));"), nbs, "a-claims.ipynb");
        NotebookBuilder.Save(NotebookBuilder.Create("1 + 1"), nbs, "b-none.ipynb");
        NotebookBuilder.Save(NotebookBuilder.Create("throw new Exception(\"x\");", "claims:\"never\""), nbs, "c-fails.ipynb");
        string outDir = Path.Combine(folder, "out");

        var (code, stdout, _) = await Run("run", nbs, "-p", "n=2", "--out", outDir, "--html");
        Assert.Equal(NotebookCli.ExitCellFailed, code);
        Assert.Contains("index: 2 of 3 notebooks ok", stdout);
        string index = File.ReadAllText(Path.Combine(outDir, "index.html"));
        Assert.StartsWith("<!DOCTYPE html>", index);
        foreach (var name in new[] { "a-claims", "b-none", "c-fails" })
            Assert.Contains($"<a href=\"{name}.html\">{name}</a>", index);
        Assert.Contains("<table id=\"verdicts\"><tr><td>claim</td><td>holds</td></tr></table>", index);
        Assert.Contains("This notebook has no claims table", index);
        Assert.Contains("FAILED: 1 failed, 1 not run", index);
        Assert.Contains("did not run: an earlier cell failed", index);
        Assert.Contains("n=2", index);
        Assert.DoesNotContain("<script", index);
        Assert.DoesNotContain("http://", index);
        Assert.DoesNotContain("https://", index);

        // The page opens in Chromium (network off) with its table and links.
        string dom = Shrink.Tests.Charts.HeadlessChromium.DumpDom(Path.Combine(outDir, "index.html"), TimeSpan.FromSeconds(60));
        Assert.Contains("verdicts", dom);
        Assert.Contains("a-claims.html", dom);

        // A single notebook (no folder) writes no index.
        string single = Path.Combine(folder, "single");
        (code, _, _) = await Run("run", Path.Combine(nbs, "b-none.ipynb"), "--out", single, "--html");
        Assert.Equal(NotebookCli.ExitSuccess, code);
        Assert.False(File.Exists(Path.Combine(single, "index.html")));
    }
}
