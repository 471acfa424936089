using System.Globalization;
using Microsoft.CodeAnalysis;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// Error outputs for failed cells. Every message names the cell twice ("code cell 3 (notebook cell 5)": its number
/// among the code cells and among all cells, both 1-based) and the 1-based line within the cell.
/// </summary>
internal static class ErrorReports
{
    public static (NotebookOutput Output, string Summary) CompileError(CellLocation cell, IReadOnlyList<Diagnostic> diagnostics, string code)
    {
        var lines = code.Split('\n');
        var messages = new List<string>();
        var traceback = new List<string>();
        foreach (var d in diagnostics)
        {
            var pos = d.Location.GetLineSpan().StartLinePosition;
            int line = pos.Line + 1, column = pos.Character + 1;
            string message = string.Create(CultureInfo.InvariantCulture,
                $"{cell}, line {line}, column {column}: error {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}");
            messages.Add(message);
            traceback.Add(message);
            if (d.Location.IsInSource && pos.Line < lines.Length)
                traceback.Add(string.Create(CultureInfo.InvariantCulture, $"    {line} | {lines[pos.Line].TrimEnd('\r')}"));
        }
        if (messages.Count == 0)
            messages.Add($"{cell}: compilation failed");
        string evalue = string.Join("\n", messages);
        return (NotebookOutput.Error("CompilationError", evalue, traceback), messages[0]);
    }

    public static (NotebookOutput Output, string Summary) RuntimeError(CellLocation cell, Exception e, IReadOnlyList<(CellLocation Cell, int Line)> frames)
    {
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
        traceback.AddRange(e.ToString().Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => !l.TrimStart().StartsWith("at Microsoft.CodeAnalysis.Scripting.", StringComparison.Ordinal)));
        // The runner's own frames are gone; drop the async separators they leave dangling at the end.
        while (traceback[^1].TrimStart().StartsWith("--- End of stack trace", StringComparison.Ordinal))
            traceback.RemoveAt(traceback.Count - 1);
        return (NotebookOutput.Error(e.GetType().FullName ?? e.GetType().Name, evalue, traceback), evalue);
    }

    public static (NotebookOutput Output, string Summary) MagicCommands(CellLocation cell, IReadOnlyList<(int Line, string Message)> problems)
    {
        var messages = problems.Select(p => string.Create(CultureInfo.InvariantCulture, $"{cell}, line {p.Line}: {p.Message}")).ToList();
        return (NotebookOutput.Error("UnsupportedMagicCommand", string.Join("\n", messages), messages), messages[0]);
    }

    public static (NotebookOutput Output, string Summary) UnsupportedKernel(CellLocation cell, string kernel)
    {
        string message = $"{cell} is a \"{kernel}\" cell: the Shrink.Notebooks runner executes only C# cells (kernel \"csharp\"); markdown cells are kept as they are";
        return (NotebookOutput.Error("UnsupportedKernel", message, [message]), message);
    }

    public static (NotebookOutput Output, string Summary) DisplayFailed(CellLocation cell, Exception e)
    {
        string message = $"{cell}: displaying the cell's value failed: {e.Message}";
        return (NotebookOutput.Error(e.GetType().FullName ?? "Error", message, [message, "", .. e.ToString().Split('\n')]), message);
    }
}
