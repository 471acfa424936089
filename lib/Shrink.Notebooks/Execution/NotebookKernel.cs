using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// The real .NET Interactive C# kernel for one notebook, in process: a <see cref="CompositeKernel"/> holding a
/// <see cref="CSharpKernel"/> configured as the <c>dotnet-interactive</c> tool configures its C# kernel (<c>#r "nuget:…"</c>
/// through PackageManagement, the kernel helpers <c>display(x)</c> and <c>HTML(…)</c>, <c>#!who</c>, value sharing,
/// aliases <c>C#</c>/<c>c#</c>) plus the tool's <c>#!time</c>. Each cell is one <see cref="SubmitCode"/>; its outputs
/// come from the command's events (<see cref="CellOutputs"/>), its errors from <c>CommandFailed</c> and
/// <c>DiagnosticsProduced</c> (<see cref="ErrorReports"/>).
/// </summary>
/// <remarks>
/// The kernel resolves relative <c>#r</c> paths against the process's working directory when it is created, so the
/// runner creates it with the notebook's folder as the working directory. For exceptions to name a cell and line, the
/// kernel's script options get, before each cell, a file path naming the cell and debug information (the kernel keeps
/// these options in a private field; when a later package version renames it, errors still name the cell, without a
/// line).
/// </remarks>
internal sealed class NotebookKernel : IDisposable
{
    static readonly FieldInfo? ScriptOptionsField =
        typeof(CSharpKernel).GetField("_scriptOptions", BindingFlags.NonPublic | BindingFlags.Instance) is { } f && f.FieldType == typeof(ScriptOptions) ? f : null;

    readonly CompositeKernel _root;
    readonly CSharpKernel _csharp;
    readonly string _folder;
    readonly Dictionary<string, CellLocation> _cellsByPath = new(StringComparer.Ordinal);

    /// <summary>A fresh kernel for a notebook in <paramref name="folder"/>, which must be the current directory.</summary>
    public NotebookKernel(string folder)
    {
        _folder = folder;
        _csharp = new CSharpKernel()
            .UseNugetDirective((kernel, packages) =>
            {
                kernel.AddAssemblyReferences(packages.SelectMany(p => p.AssemblyPaths));
                return Task.CompletedTask;
            }, forceRestore: false)
            .UseKernelHelpers()
            .UseWho()
            .UseValueSharing();
        _root = new CompositeKernel();
        _root.Add(_csharp, ["c#", "C#"]);
        _root.DefaultKernelName = _csharp.Name;
        _root.UseTime();
    }

    /// <summary>Runs one cell; never throws for errors in the cell's code (they come back in the result).</summary>
    public async Task<(IReadOnlyList<InteractiveDocumentOutputElement> Outputs, string? Error)> RunAsync(
        string code, CellLocation cell, int executionOrder, CancellationToken cancellationToken)
    {
        NameNextSubmission(cell);
        var outputs = new CellOutputs(executionOrder);
        var result = await _root.SendAsync(new SubmitCode(code, _csharp.Name), cancellationToken).ConfigureAwait(false);
        var diagnostics = new List<Microsoft.DotNet.Interactive.Diagnostic>();
        string? error = null;
        foreach (var e in result.Events)
        {
            switch (e)
            {
                case DiagnosticsProduced d:
                    diagnostics.AddRange(d.Diagnostics);
                    break;
                case CommandFailed failed when error is null:
                    var (output, summary) =
                        failed.Exception is { } ex and not CodeSubmissionCompilationErrorException
                            ? ErrorReports.Exception(cell, ex, CellOfFile)
                            : diagnostics.Any(d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error)
                                ? ErrorReports.Diagnostics(cell, diagnostics, code)
                                : ErrorReports.Message(cell, failed.Message);
                    outputs.Add(output);
                    error = summary;
                    break;
                default:
                    outputs.Add(e);
                    break;
            }
        }
        return (outputs.Outputs, error);
    }

    CellLocation? CellOfFile(string file) => _cellsByPath.TryGetValue(file, out var cell) ? cell : null;

    /// <summary>Gives the next submission a file path naming the cell (in stack traces: "…/nb.ipynb#cell3:line 2").</summary>
    void NameNextSubmission(CellLocation cell)
    {
        string path = Path.Combine(_folder, $"{cell.NotebookFileName}#cell{cell.CodeCellNumber}");
        _cellsByPath[path] = cell;
        if (ScriptOptionsField?.GetValue(_csharp) is ScriptOptions options)
            ScriptOptionsField.SetValue(_csharp, options.WithFilePath(path).WithEmitDebugInformation(true).WithFileEncoding(Encoding.UTF8));
    }

    /// <inheritdoc/>
    public void Dispose() => _root.Dispose();
}
