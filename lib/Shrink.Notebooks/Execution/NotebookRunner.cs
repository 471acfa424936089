using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Shrink.Notebooks.Formatting;
using Shrink.Notebooks.Model;
using Shrink.Notebooks.Parameters;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// Runs a C# notebook the way the Polyglot C# kernel would, headless, and returns an executed copy; the source notebook
/// is never modified. Steps: copy the notebook (raised to nbformat 4.5, code cells cleared); inject parameters as
/// papermill does (<see cref="ParameterInjector"/>); then, with the process working directory set to
/// the notebook's folder and a fresh <see cref="NotebookSession"/> id, run every
/// code cell in one <see cref="CSharpScriptSession"/>. Console output becomes <c>stream</c> outputs, <c>display(x)</c>
/// and a trailing expression become <c>display_data</c>, failures become <c>error</c> outputs naming the cell and
/// line; cells of other kernels fail as unsupported; markdown cells stay as they are. Each executed cell gets an
/// execution count (1..n) and <c>metadata.shrink.execution</c> = { start, end (ISO 8601 UTC), duration (seconds),
/// status }. The run stops at the first failing cell unless <see cref="NotebookRunOptions.KeepGoing"/>.
/// </summary>
/// <remarks>
/// Runs are serialised within a process (they change the working directory and <see cref="Console"/>'s writers);
/// both are restored when the run ends, whatever happens.
/// </remarks>
public static class NotebookRunner
{
    static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>Loads and runs the notebook at <paramref name="path"/> (.ipynb or .dib) in its own folder.</summary>
    /// <exception cref="NotebookFormatException">The file is not a valid notebook.</exception>
    public static Task<NotebookRunResult> RunAsync(string path, IReadOnlyList<NotebookParameter>? parameters = null,
        NotebookRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        string full = Path.GetFullPath(path);
        var notebook = Notebook.Load(full);
        return RunAsync(notebook, Path.GetDirectoryName(full)!, parameters, options, cancellationToken);
    }

    /// <summary>Runs <paramref name="notebook"/> (left unchanged) with <paramref name="workingDirectory"/> as its folder.</summary>
    public static async Task<NotebookRunResult> RunAsync(Notebook notebook, string workingDirectory,
        IReadOnlyList<NotebookParameter>? parameters = null, NotebookRunOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new NotebookRunOptions();
        workingDirectory = Path.GetFullPath(workingDirectory);
        if (!Directory.Exists(workingDirectory))
            throw new DirectoryNotFoundException($"the notebook folder {workingDirectory} does not exist");

        var executed = notebook.Clone();
        executed.UpgradeToMinor5();
        var warnings = new List<string>();
        warnings.AddRange(ParameterInjector.Inject(executed, parameters ?? []).Warnings);
        foreach (var cell in executed.Cells.Where(c => c.IsCode))
        {
            cell.ExecutionCount = null;
            cell.ClearOutputs();
            cell.MetadataOrNull?.Remove("shrink");
        }

        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var total = Stopwatch.StartNew();
        string savedDirectory = Environment.CurrentDirectory;
        object? savedSession = AppDomain.CurrentDomain.GetData(NotebookSession.SessionIdKey);
        var savedOut = Console.Out;
        var savedError = Console.Error;
        var results = new List<CellRunResult>();
        try
        {
            Environment.CurrentDirectory = workingDirectory;
            AppDomain.CurrentDomain.SetData(NotebookSession.SessionIdKey, Guid.NewGuid().ToString());
            var session = new CSharpScriptSession(workingDirectory);
            string fileName = Path.GetFileName(notebook.Name);
            int codeCount = executed.Cells.Count(c => c.IsCode);
            int codeNumber = 0, executionCount = 0;
            bool stopped = false;
            for (int i = 0; i < executed.Cells.Count; i++)
            {
                var cell = executed.Cells[i];
                if (!cell.IsCode)
                    continue;
                codeNumber++;
                string kernel = executed.KernelNameOf(cell);
                if (stopped)
                {
                    results.Add(new CellRunResult(i, codeNumber, kernel, CellStatus.NotRun, TimeSpan.Zero, null));
                    continue;
                }
                cancellationToken.ThrowIfCancellationRequested();
                options.CellStarting?.Invoke(new CellStartInfo(i, codeNumber, codeCount));
                var location = new CellLocation(fileName, codeNumber, i + 1);
                var started = DateTimeOffset.UtcNow;
                var clock = Stopwatch.StartNew();
                var (outputs, error) = await RunCellAsync(session, executed, cell, kernel, location, savedOut, savedError, cancellationToken).ConfigureAwait(false);
                clock.Stop();
                var ended = DateTimeOffset.UtcNow;

                cell.ExecutionCount = ++executionCount;
                foreach (var output in outputs)
                    cell.AddOutput(output);
                var status = error is null ? CellStatus.Succeeded : CellStatus.Failed;
                cell.Metadata.GetOrAddObject("shrink").SetSorted("execution", new JsonObject
                {
                    ["duration"] = Math.Round(clock.Elapsed.TotalSeconds, 6),
                    ["end"] = ended.ToString("O", CultureInfo.InvariantCulture),
                    ["start"] = started.ToString("O", CultureInfo.InvariantCulture),
                    ["status"] = status == CellStatus.Succeeded ? "succeeded" : "failed",
                });
                var result = new CellRunResult(i, codeNumber, kernel, status, clock.Elapsed, error);
                results.Add(result);
                options.CellFinished?.Invoke(result);
                if (error is not null && !options.KeepGoing)
                    stopped = true;
            }
        }
        finally
        {
            Console.SetOut(savedOut);
            Console.SetError(savedError);
            DisplaySink.Current = null;
            AppDomain.CurrentDomain.SetData(NotebookSession.SessionIdKey, savedSession);
            try { Environment.CurrentDirectory = savedDirectory; }
            catch (IOException) { /* the original folder is gone; nothing sensible to return to */ }
            Gate.Release();
        }
        return new NotebookRunResult(executed, results, total.Elapsed, warnings);
    }

    static async Task<(IReadOnlyList<NotebookOutput> Outputs, string? Error)> RunCellAsync(CSharpScriptSession session,
        Notebook notebook, NotebookCell cell, string kernel, CellLocation location, TextWriter consoleOut, TextWriter consoleError,
        CancellationToken cancellationToken)
    {
        var collector = new OutputCollector();
        if (kernel == KernelNames.Markdown)
            return ([], null);
        if (kernel != KernelNames.CSharp)
        {
            var (output, summary) = ErrorReports.UnsupportedKernel(location, kernel);
            return ([output], summary);
        }
        var source = CellSource.Prepare(cell.Source, notebook.KernelInfo);
        if (source.Problems.Count > 0)
        {
            var (output, summary) = ErrorReports.MagicCommands(location, source.Problems);
            return ([output], summary);
        }

        string? error = null;
        var clock = Stopwatch.StartNew();
        Console.SetOut(collector.CreateWriter("stdout"));
        Console.SetError(collector.CreateWriter("stderr"));
        DisplaySink.Current = collector.Display;
        try
        {
            var outcome = await session.RunAsync(source.Code, location, cancellationToken).ConfigureAwait(false);
            if (outcome.Succeeded && outcome.HasReturnValue)
            {
                try { collector.Display(ValueFormatter.Format(outcome.ReturnValue)); }
                catch (Exception e)
                {
                    var (output, summary) = ErrorReports.DisplayFailed(location, e);
                    collector.Error(output);
                    error = summary;
                }
            }
            else if (!outcome.Succeeded)
            {
                var (output, summary) = outcome.Exception is { } e
                    ? ErrorReports.RuntimeError(location, e, outcome.Frames)
                    : ErrorReports.CompileError(location, outcome.Diagnostics, source.Code);
                collector.Error(output);
                error = summary;
            }
        }
        finally
        {
            clock.Stop();
            Console.Out.Flush();
            Console.SetOut(consoleOut);
            Console.SetError(consoleError);
            DisplaySink.Current = null;
        }
        if (source.Timed)
            collector.Write("stdout", $"Wall time: {clock.Elapsed.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms\n");
        return (collector.ToOutputs(), error);
    }
}
