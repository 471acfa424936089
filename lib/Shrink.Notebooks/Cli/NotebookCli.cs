using System.CommandLine;
using System.Globalization;
using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Execution;
using Shrink.Notebooks.Html;
using Shrink.Notebooks.Model;
using Shrink.Notebooks.Parameters;

namespace Shrink.Notebooks.Cli;

/// <summary>
/// The command line:
/// <code>
/// run &lt;notebook-or-folder&gt;... [-p name=value]... [-r name=value]... [--out DIR] [--html] [--keep-going]
/// </code>
/// Folders expand to their <c>*.ipynb</c> files sorted by name. Executed copies go to DIR (default
/// <c>artifacts/notebooks/</c> under the repository root, the nearest folder above the current one holding
/// <c>Notebooks.sln</c>, else the current folder) as <c>&lt;name&gt;.ipynb</c>, plus <c>&lt;name&gt;.html</c> with
/// <c>--html</c>; with <c>--html</c> and a folder among the inputs, also <c>index.html</c>, one page linking every executed
/// notebook with its status, run time and claims table (<see cref="SuiteIndex"/>). Cells run on the real .NET Interactive
/// C# kernel (<see cref="NotebookRunner"/>). Source notebooks are never written. Exit codes: 0 every cell succeeded, 2 a cell failed, 1 a usage
/// error (unknown option, missing file, unreadable notebook, bad <c>-p</c>, an output that would overwrite a source).
/// </summary>
public static class NotebookCli
{
    /// <summary>Every cell of every notebook succeeded.</summary>
    public const int ExitSuccess = 0;

    /// <summary>Usage error: nothing was run.</summary>
    public const int ExitUsage = 1;

    /// <summary>At least one cell failed.</summary>
    public const int ExitCellFailed = 2;

    /// <summary>Parses <paramref name="args"/> and runs the command; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null,
        CancellationToken cancellationToken = default)
    {
        var output = stdout ?? Console.Out;
        var error = stderr ?? Console.Error;

        var notebooks = new Argument<string[]>("notebooks")
        {
            Description = "Notebooks (.ipynb, .dib) or folders (their *.ipynb, sorted by name)",
            Arity = ArgumentArity.OneOrMore,
        };
        var parameters = new Option<string[]>("--parameter", "-p")
        {
            Description = "A parameter, name=value, typed as papermill types it (true/false, integer, float, else string); repeatable",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var rawParameters = new Option<string[]>("--raw-parameter", "-r")
        {
            Description = "A string parameter, name=value, never converted; repeatable",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var outDir = new Option<string?>("--out", "-o")
        {
            Description = "Folder for the executed notebooks (default: artifacts/notebooks/ under the repository root)",
        };
        var html = new Option<bool>("--html") { Description = "Also write <name>.html, a standalone page (and index.html for a folder: every notebook's status, run time and claims)" };
        var keepGoing = new Option<bool>("--keep-going") { Description = "Run the remaining cells after a cell fails" };

        var run = new Command("run", "Run notebooks headless and write executed copies")
        {
            notebooks, parameters, rawParameters, outDir, html, keepGoing,
        };
        run.SetAction((parse, ct) => RunCommandAsync(new RunRequest(
            parse.GetValue(notebooks) ?? [],
            parse.GetValue(parameters) ?? [],
            parse.GetValue(rawParameters) ?? [],
            parse.GetValue(outDir),
            parse.GetValue(html),
            parse.GetValue(keepGoing)), output, error, ct));

        var root = new RootCommand("Shrink.Notebooks: runs C# (Polyglot) notebooks headless, papermill-style") { run };
        var parseResult = root.Parse(args);
        return await parseResult.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken)
            .ConfigureAwait(false);
    }

    sealed record RunRequest(string[] Inputs, string[] Parameters, string[] RawParameters, string? OutDir, bool Html, bool KeepGoing);

    sealed class UsageException(string message) : Exception(message);

    static async Task<int> RunCommandAsync(RunRequest request, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        List<(string Source, string Target, InteractiveDocument Notebook)> jobs;
        bool anyFolder;
        List<NotebookParameter> parameters;
        string outDir;
        try
        {
            parameters = [.. request.Parameters.Select(Parse(NotebookParameter.Parse)), .. request.RawParameters.Select(Parse(NotebookParameter.ParseRaw))];
            (var inputs, anyFolder) = ExpandInputs(request.Inputs, stderr);
            outDir = Path.GetFullPath(request.OutDir ?? Path.Combine(FindRepositoryRoot(Directory.GetCurrentDirectory()), "artifacts", "notebooks"));
            jobs = PlanOutputs(inputs, outDir, request.Html && anyFolder);
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return ExitUsage;
        }
        if (jobs.Count == 0)
        {
            await stdout.WriteLineAsync("no notebooks to run").ConfigureAwait(false);
            return ExitSuccess;
        }

        bool anyFailed = false;
        string currentName = "";
        var index = new List<SuiteIndex.Entry>();
        var options = new NotebookRunOptions
        {
            KeepGoing = request.KeepGoing,
            CellStarting = s =>
            {
                stdout.Write($"[{s.CodeCellNumber}/{s.CodeCellCount}] cell {s.CellIndex + 1} … ");
                stdout.Flush();
            },
            CellFinished = r =>
            {
                stdout.WriteLine(r.Status == CellStatus.Succeeded ? FormatDuration(r.Duration) : $"FAILED after {FormatDuration(r.Duration)}");
                stdout.Flush();
                if (r.Error is not null)
                    stderr.WriteLine($"  {currentName}: {r.Error.Replace("\n", "\n  ")}");
            },
        };
        for (int n = 0; n < jobs.Count; n++)
        {
            var (source, target, notebook) = jobs[n];
            int codeCells = notebook.CodeCells().Count();
            currentName = Path.GetFileName(source);
            await stdout.WriteLineAsync($"{source} ({codeCells} code cells) -> {target}").ConfigureAwait(false);
            var result = await NotebookRunner.RunAsync(notebook, Path.GetDirectoryName(source)!, parameters,
                options with { NotebookName = currentName }, cancellationToken).ConfigureAwait(false);
            foreach (var warning in result.Warnings)
                await stderr.WriteLineAsync($"warning: {warning}").ConfigureAwait(false);
            NotebookFile.Save(result.Notebook, target);
            if (request.Html)
            {
                string htmlPath = Path.ChangeExtension(target, ".html");
                NotebookFile.WriteAtomically(htmlPath, HtmlExporter.Export(result.Notebook, Path.GetFileNameWithoutExtension(source)));
                index.Add(new SuiteIndex.Entry(result, Path.GetFileName(htmlPath)));
            }
            int ok = result.Cells.Count(c => c.Status == CellStatus.Succeeded);
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{(result.Succeeded ? "ok" : "FAILED")}: {ok} cells succeeded, {result.FailedCount} failed, {result.NotRunCount} not run in {FormatDuration(result.Duration)} -> {target}"))
                .ConfigureAwait(false);
            anyFailed |= !result.Succeeded;
        }
        if (request.Html && anyFolder)
        {
            string indexPath = Path.Combine(outDir, IndexFileName);
            string described = string.Join(" ", parameters.Select(p => $"{p.Name}={p.ToCSharpLiteral()}"));
            NotebookFile.WriteAtomically(indexPath, SuiteIndex.Build(index, described, DateTimeOffset.UtcNow));
            await stdout.WriteLineAsync($"index: {index.Count(e => e.Result.Succeeded)} of {index.Count} notebooks ok -> {indexPath}").ConfigureAwait(false);
        }
        return anyFailed ? ExitCellFailed : ExitSuccess;
    }

    static Func<string, NotebookParameter> Parse(Func<string, NotebookParameter> parse) => text =>
    {
        try { return parse(text); }
        catch (FormatException e) { throw new UsageException(e.Message); }
    };

    /// <summary>The suite page's file name in the output folder.</summary>
    public const string IndexFileName = "index.html";

    static (List<string> Files, bool AnyFolder) ExpandInputs(string[] inputs, TextWriter stderr)
    {
        var files = new List<string>();
        bool anyFolder = false;
        foreach (var input in inputs)
        {
            string full = Path.GetFullPath(input);
            if (Directory.Exists(full))
            {
                var found = Directory.GetFiles(full, "*.ipynb").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToList();
                if (found.Count == 0)
                    stderr.WriteLine($"warning: no *.ipynb files in {input}");
                files.AddRange(found);
                anyFolder = true;
            }
            else if (File.Exists(full))
                files.Add(full);
            else
                throw new UsageException($"no such notebook or folder: {input}");
        }
        return (files, anyFolder);
    }

    static List<(string, string, InteractiveDocument)> PlanOutputs(List<string> inputs, string outDir, bool writesIndex)
    {
        var jobs = new List<(string, string, InteractiveDocument)>();
        var targets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in inputs)
        {
            string target = Path.Combine(outDir, Path.GetFileNameWithoutExtension(source) + ".ipynb");
            if (SamePath(target, source))
                throw new UsageException($"the output {target} would overwrite the source notebook; choose another --out folder");
            if (targets.TryGetValue(target, out var other))
                throw new UsageException($"{source} and {other} would both be written to {target}; run them with different --out folders");
            targets[target] = source;
            if (writesIndex && string.Equals(Path.GetFileNameWithoutExtension(source), Path.GetFileNameWithoutExtension(IndexFileName), StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"{source}: its page would be the suite's {IndexFileName}; rename the notebook");
            InteractiveDocument notebook;
            try { notebook = NotebookFile.Load(source); }
            catch (NotebookFormatException e) { throw new UsageException(e.Message); }
            jobs.Add((source, target, notebook));
        }
        return jobs;
    }

    static bool SamePath(string a, string b)
    {
        static string Real(string path)
        {
            string full = Path.GetFullPath(path);
            string? dir = Path.GetDirectoryName(full);
            if (dir is not null && Directory.Exists(dir))
                dir = new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dir;
            string candidate = dir is null ? full : Path.Combine(dir, Path.GetFileName(full));
            return File.Exists(candidate) ? new FileInfo(candidate).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? candidate : candidate;
        }
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return string.Equals(Real(a), Real(b), comparison);
    }

    /// <summary>The nearest folder at or above <paramref name="start"/> that holds Notebooks.sln, else <paramref name="start"/>.</summary>
    public static string FindRepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Notebooks.sln")))
                return dir.FullName;
        return Path.GetFullPath(start);
    }

    static string FormatDuration(TimeSpan t) => t.TotalSeconds < 1
        ? string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:0} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:0.0} s");
}
