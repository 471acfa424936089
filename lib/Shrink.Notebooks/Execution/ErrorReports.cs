using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Documents;
using InteractiveDiagnostic = Microsoft.DotNet.Interactive.Diagnostic;
using InteractiveSeverity = Microsoft.CodeAnalysis.DiagnosticSeverity;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// Error outputs for failed cells, from what the kernel reported. Every message names the cell twice ("code cell 3
/// (notebook cell 5)": its number among the code cells and among all cells, both 1-based) and the 1-based line within
/// the cell: compile errors and unknown magic commands from the kernel's <c>DiagnosticsProduced</c> (line and column),
/// exceptions from their stack frames in cell code (the kernel compiles each cell with a file path naming it, see
/// <see cref="NotebookKernel"/>), so an exception thrown in a method an earlier cell declared names both cells.
/// </summary>
internal static partial class ErrorReports
{
    [GeneratedRegex(@"^\((\d+),(\d+)\):\s*(.*)$")]
    private static partial Regex PositionPrefix();

    /// <summary>Compile errors (and directive errors such as an unknown <c>#!magic</c>) with line, column and the source line.</summary>
    public static (ErrorElement Output, string Summary) Diagnostics(CellLocation cell, IReadOnlyList<InteractiveDiagnostic> diagnostics, string code)
    {
        var lines = code.Replace("\r\n", "\n").Split('\n');
        var messages = new List<string>();
        var traceback = new List<string>();
        foreach (var d in diagnostics.Where(d => d.Severity == InteractiveSeverity.Error))
        {
            int line = d.LinePositionSpan.Start.Line + 1, column = d.LinePositionSpan.Start.Character + 1;
            string message = string.Create(CultureInfo.InvariantCulture, $"{cell}, line {line}, column {column}: error {d.Code}: {d.Message}");
            messages.Add(message);
            traceback.Add(message);
            if (line - 1 < lines.Length)
                traceback.Add(string.Create(CultureInfo.InvariantCulture, $"    {line} | {lines[line - 1]}"));
        }
        if (messages.Count == 0)
            messages.Add($"{cell}: compilation failed");
        return (new ErrorElement(string.Join("\n", messages), "CompilationError", [.. traceback]), messages[0]);
    }

    /// <summary>A failure the kernel reported with a message only: its <c>(line,column):</c> prefix becomes the cell's line.</summary>
    public static (ErrorElement Output, string Summary) Message(CellLocation cell, string message)
    {
        var first = message.Replace("\r\n", "\n").Split('\n')[0];
        string text = PositionPrefix().Match(first) is { Success: true } m
            ? $"{cell}, line {m.Groups[1].Value}, column {m.Groups[2].Value}: {m.Groups[3].Value}"
            : $"{cell} (line unknown): {first}";
        var rest = message.Replace("\r\n", "\n").Split('\n').Skip(1);
        return (new ErrorElement(text, "KernelError", [text, .. rest]), text);
    }

    /// <summary>An exception thrown by cell code, located by its frames in cells (innermost first).</summary>
    public static (ErrorElement Output, string Summary) Exception(CellLocation cell, Exception e, Func<string, CellLocation?> cellOfFile)
    {
        var frames = LocateFrames(e, cellOfFile);
        string where;
        if (frames.Count == 0)
            where = $"{cell} (line unknown)";
        else if (frames[0].Cell == cell)
            where = string.Create(CultureInfo.InvariantCulture, $"{cell}, line {frames[0].Line}");
        else
        {
            var call = frames.LastOrDefault(f => f.Cell == cell);
            where = string.Create(CultureInfo.InvariantCulture, $"{frames[0].Cell}, line {frames[0].Line}")
                + (call.Cell is null ? $", called from {cell}" : string.Create(CultureInfo.InvariantCulture, $", called from {cell}, line {call.Line}"));
        }
        string evalue = $"{where}: {e.GetType().Name}: {e.Message}";
        var traceback = new List<string> { evalue, "" };
        traceback.AddRange(e.ToString().Replace("\r\n", "\n").Split('\n')
            .Where(l => !l.TrimStart().StartsWith("at Microsoft.CodeAnalysis.Scripting.", StringComparison.Ordinal)));
        while (traceback[^1].TrimStart().StartsWith("--- End of stack trace", StringComparison.Ordinal))
            traceback.RemoveAt(traceback.Count - 1);
        return (new ErrorElement(evalue, e.GetType().FullName ?? e.GetType().Name, [.. traceback]), evalue);
    }

    /// <summary>A cell of a kernel this runner does not host.</summary>
    public static (ErrorElement Output, string Summary) UnsupportedKernel(CellLocation cell, string kernel)
    {
        string message = $"{cell}, line 1: a \"{kernel}\" cell: the Shrink.Notebooks runner hosts only the C# kernel (\"csharp\"); markdown cells are kept as they are";
        return (new ErrorElement(message, "UnsupportedKernel", [message]), message);
    }

    static List<(CellLocation Cell, int Line)> LocateFrames(Exception e, Func<string, CellLocation?> cellOfFile)
    {
        var found = new List<(CellLocation, int)>();
        for (Exception? ex = e; ex is not null; ex = ex.InnerException)
        {
            foreach (var frame in new StackTrace(ex, fNeedFileInfo: true).GetFrames())
                if (frame.GetFileName() is string file && cellOfFile(file) is { } located && frame.GetFileLineNumber() > 0)
                    found.Add((located, frame.GetFileLineNumber()));
            if (found.Count > 0)
                break;
        }
        return found;
    }
}
