using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;
using Shrink.Notebooks.Formatting;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// One Roslyn script session, as the Polyglot C# kernel keeps one per notebook: the first cell runs with
/// <c>CSharpScript.Create(…).RunAsync</c> (CSharpScript.RunAsync with an exception handler), every later one with
/// <c>ContinueWithAsync</c> on the previous state, so variables, types and usings carry over and a later
/// <c>var x</c> shadows an earlier one. No globals object; the kernel's default usings (<see cref="DefaultImports"/>),
/// <c>LanguageVersion.Latest</c>, and <see cref="Display"/> imported statically for <c>display(x)</c>. <c>#r</c> and <c>#load</c> paths resolve against the notebook's folder.
/// </summary>
internal sealed class CSharpScriptSession
{
    /// <summary>The C# kernel's default usings (dotnet/interactive CSharpKernel).</summary>
    public static readonly IReadOnlyList<string> DefaultImports =
    [
        "System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks", "System.Linq",
    ];

    readonly ScriptOptions _options;
    readonly Dictionary<string, CellLocation> _cellsByPath = new(StringComparer.Ordinal);
    ScriptState<object>? _state;

    public CSharpScriptSession(string baseDirectory)
    {
        BaseDirectory = baseDirectory;
        _options = ScriptOptions.Default
            .WithLanguageVersion(LanguageVersion.Latest)
            .WithImports(DefaultImports.Append(typeof(Display).FullName!))
            .AddReferences(
                typeof(object).Assembly,
                typeof(Enumerable).Assembly,
                typeof(Console).Assembly,
                typeof(List<>).Assembly,
                typeof(Stopwatch).Assembly,
                typeof(System.Text.RegularExpressions.Regex).Assembly,
                typeof(Display).Assembly)
            .AddReferences("System.Runtime", "netstandard", "System.Collections", "System.Linq", "System.IO", "System.Threading.Tasks")
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(baseDirectory))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(baseDirectory))
            .WithEmitDebugInformation(true)
            .WithFileEncoding(Encoding.UTF8);
    }

    /// <summary>The folder <c>#r</c> and <c>#load</c> paths are relative to.</summary>
    public string BaseDirectory { get; }

    /// <summary>Compiles and runs one cell. Never throws for errors in the cell's code: they come back in the outcome.</summary>
    public async Task<CellOutcome> RunAsync(string code, CellLocation cell, CancellationToken cancellationToken)
    {
        // A per-cell file path names the cell in stack traces ("…/nb.ipynb#cell3:line 2") and keeps the notebook's
        // folder as the base of relative #r paths.
        string filePath = Path.Combine(BaseDirectory, $"{cell.NotebookFileName}#cell{cell.CodeCellNumber}");
        _cellsByPath[filePath] = cell;
        var options = _options.WithFilePath(filePath);
        ScriptState<object> next;
        try
        {
            // The first cell: CSharpScript.Create(…).RunAsync is CSharpScript.RunAsync with an exception handler, so a
            // first cell that throws keeps what it declared before the throw, as every later cell does.
            next = _state is null
                ? await CSharpScript.Create(code, options).RunAsync(globals: null, catchException: _ => true, cancellationToken)
                      .ConfigureAwait(false)
                : await _state.ContinueWithAsync(code, options, catchException: _ => true, cancellationToken).ConfigureAwait(false);
        }
        catch (CompilationErrorException e)
        {
            return CellOutcome.CompileError(e.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList());
        }
        _state = next;
        if (next.Exception is { } thrown)
            return CellOutcome.RuntimeError(Unwrap(thrown), LocateFrames(Unwrap(thrown)));
        return CellOutcome.Success(HasReturnValue(next.Script), next.ReturnValue);
    }

    /// <summary>
    /// Whether the submission ends in an expression without a semicolon whose type is not void (what the kernel's
    /// internal <c>Script.HasReturnValue()</c> tells it): <c>x</c> displays, <c>x;</c> and <c>Console.WriteLine()</c> do not.
    /// </summary>
    static bool HasReturnValue(Script script)
    {
        var compilation = script.GetCompilation();
        var tree = compilation.SyntaxTrees.FirstOrDefault();
        if (tree?.GetRoot() is not CompilationUnitSyntax unit)
            return false;
        if (unit.Members.LastOrDefault() is not GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } statement })
            return false;
        var type = compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type;
        return type is not null && type.SpecialType != SpecialType.System_Void;
    }

    static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is TargetInvocationException { InnerException: { } inner })
                e = inner;
            else if (e is AggregateException { InnerExceptions.Count: 1 } agg)
                e = agg.InnerExceptions[0];
            else
                return e;
        }
    }

    /// <summary>The frames of an exception that lie in cell code: cell and 1-based line, innermost first.</summary>
    IReadOnlyList<(CellLocation Cell, int Line)> LocateFrames(Exception e)
    {
        var found = new List<(CellLocation, int)>();
        for (Exception? ex = e; ex is not null; ex = ex.InnerException)
        {
            var frames = new StackTrace(ex, fNeedFileInfo: true).GetFrames();
            foreach (var frame in frames)
                if (frame.GetFileName() is string file && _cellsByPath.TryGetValue(file, out var cell) && frame.GetFileLineNumber() > 0)
                    found.Add((cell, frame.GetFileLineNumber()));
            if (found.Count > 0)
                break;
        }
        return found;
    }
}

/// <summary>Which cell a piece of code came from.</summary>
/// <param name="NotebookFileName">The notebook's file name.</param>
/// <param name="CodeCellNumber">1-based index among the notebook's code cells.</param>
/// <param name="NotebookCellNumber">1-based index among all the notebook's cells.</param>
internal sealed record CellLocation(string NotebookFileName, int CodeCellNumber, int NotebookCellNumber)
{
    /// <summary>"code cell 3 (notebook cell 5)".</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"code cell {CodeCellNumber} (notebook cell {NotebookCellNumber})");
}

/// <summary>What running one cell produced.</summary>
internal sealed class CellOutcome
{
    public bool Succeeded { get; private init; }
    public bool HasReturnValue { get; private init; }
    public object? ReturnValue { get; private init; }
    public IReadOnlyList<Diagnostic> Diagnostics { get; private init; } = [];
    public Exception? Exception { get; private init; }
    public IReadOnlyList<(CellLocation Cell, int Line)> Frames { get; private init; } = [];

    public static CellOutcome Success(bool hasValue, object? value) => new() { Succeeded = true, HasReturnValue = hasValue, ReturnValue = value };
    public static CellOutcome CompileError(IReadOnlyList<Diagnostic> diagnostics) => new() { Diagnostics = diagnostics };
    public static CellOutcome RuntimeError(Exception e, IReadOnlyList<(CellLocation, int)> frames) => new() { Exception = e, Frames = frames };
}
