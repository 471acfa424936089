using System.Diagnostics;
using System.Globalization;
using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Model;
using Shrink.Notebooks.Parameters;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// Runs a C# notebook headless on the real .NET Interactive C# kernel (<see cref="NotebookKernel"/>, a fresh one per
/// notebook) and returns an executed copy; the source notebook is never modified. Steps: copy the notebook (code cells
/// cleared); inject parameters as papermill does (<see cref="ParameterInjector"/>); then, with the process working
/// directory set to the notebook's folder and a fresh <see cref="NotebookSession"/> id, submit every code cell to the
/// kernel. The kernel's events become outputs (stdout/stderr streams, displays, the return value), failures become
/// <c>error</c> outputs naming the cell and line; cells of other kernels fail as unsupported; markdown cells stay as they
/// are. Each executed cell gets an execution count (1..n) and <c>metadata.shrink.execution</c> = { start, end (ISO 8601
/// UTC), duration (seconds), status }. The run stops at the first failing cell unless
/// <see cref="NotebookRunOptions.KeepGoing"/>.
/// </summary>
/// <remarks>
/// Runs are serialised within a process (they change the working directory, and the kernel redirects
/// <see cref="Console"/> while a cell runs); the working directory and session id are restored when the run ends,
/// whatever happens.
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
        var notebook = NotebookFile.Load(full);
        options ??= new NotebookRunOptions();
        if (options.NotebookName is null)
            options = options with { NotebookName = Path.GetFileName(full) };
        return RunAsync(notebook, Path.GetDirectoryName(full)!, parameters, options, cancellationToken);
    }

    /// <summary>Runs <paramref name="notebook"/> (left unchanged) with <paramref name="workingDirectory"/> as its folder.</summary>
    public static async Task<NotebookRunResult> RunAsync(InteractiveDocument notebook, string workingDirectory,
        IReadOnlyList<NotebookParameter>? parameters = null, NotebookRunOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new NotebookRunOptions();
        string name = options.NotebookName ?? "notebook.ipynb";
        workingDirectory = Path.GetFullPath(workingDirectory);
        if (!Directory.Exists(workingDirectory))
            throw new DirectoryNotFoundException($"the notebook folder {workingDirectory} does not exist");

        var executed = NotebookFile.Clone(notebook);
        var warnings = new List<string>();
        warnings.AddRange(ParameterInjector.Inject(executed, name, parameters ?? []).Warnings);
        foreach (var cell in executed.Elements)
        {
            cell.Id ??= NotebookCells.NewId();
            cell.Metadata ??= new Dictionary<string, object>();
            if (!cell.IsCode())
                continue;
            cell.ExecutionOrder = 0;
            cell.Outputs.Clear();
            cell.Metadata.Remove("shrink");
        }

        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var total = Stopwatch.StartNew();
        string savedDirectory = Environment.CurrentDirectory;
        object? savedSession = AppDomain.CurrentDomain.GetData(NotebookSession.SessionIdKey);
        var results = new List<CellRunResult>();
        try
        {
            Environment.CurrentDirectory = workingDirectory;
            AppDomain.CurrentDomain.SetData(NotebookSession.SessionIdKey, Guid.NewGuid().ToString());
            using var kernel = new NotebookKernel(workingDirectory);
            var cells = executed.CodeCells().ToList();
            int codeNumber = 0, executionCount = 0;
            bool stopped = false;
            foreach (var (i, cell) in cells)
            {
                codeNumber++;
                string kernelName = cell.KernelNameIn(executed);
                if (stopped)
                {
                    results.Add(new CellRunResult(i, codeNumber, kernelName, CellStatus.NotRun, TimeSpan.Zero, null));
                    continue;
                }
                cancellationToken.ThrowIfCancellationRequested();
                options.CellStarting?.Invoke(new CellStartInfo(i, codeNumber, cells.Count));
                var location = new CellLocation(name, codeNumber, i + 1);
                var started = DateTimeOffset.UtcNow;
                var clock = Stopwatch.StartNew();
                executionCount++;
                var (outputs, error) = kernelName == KernelNames.CSharp
                    ? await kernel.RunAsync(cell.Contents, location, executionCount, cancellationToken).ConfigureAwait(false)
                    : Unsupported(location, kernelName);
                clock.Stop();
                var ended = DateTimeOffset.UtcNow;

                cell.ExecutionOrder = executionCount;
                cell.Outputs.AddRange(outputs);
                var status = error is null ? CellStatus.Succeeded : CellStatus.Failed;
                cell.Metadata!["shrink"] = new Dictionary<string, object>
                {
                    ["execution"] = new Dictionary<string, object>
                    {
                        ["duration"] = Math.Round(clock.Elapsed.TotalSeconds, 6),
                        ["end"] = ended.ToString("O", CultureInfo.InvariantCulture),
                        ["start"] = started.ToString("O", CultureInfo.InvariantCulture),
                        ["status"] = status == CellStatus.Succeeded ? "succeeded" : "failed",
                    },
                };
                var result = new CellRunResult(i, codeNumber, kernelName, status, clock.Elapsed, error);
                results.Add(result);
                options.CellFinished?.Invoke(result);
                if (error is not null && !options.KeepGoing)
                    stopped = true;
            }
        }
        finally
        {
            AppDomain.CurrentDomain.SetData(NotebookSession.SessionIdKey, savedSession);
            try { Environment.CurrentDirectory = savedDirectory; }
            catch (IOException) { /* the original folder is gone; nothing sensible to return to */ }
            Gate.Release();
        }
        return new NotebookRunResult(executed, name, results, total.Elapsed, warnings);
    }

    static (IReadOnlyList<InteractiveDocumentOutputElement>, string?) Unsupported(CellLocation location, string kernel)
    {
        var (output, summary) = ErrorReports.UnsupportedKernel(location, kernel);
        return ([output], summary);
    }
}
