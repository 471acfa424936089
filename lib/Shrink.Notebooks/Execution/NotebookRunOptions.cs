namespace Shrink.Notebooks.Execution;

/// <summary>How <see cref="NotebookRunner"/> runs a notebook.</summary>
public sealed class NotebookRunOptions
{
    /// <summary>Run every cell even after one fails (default: stop at the first failing cell; later cells stay unexecuted).</summary>
    public bool KeepGoing { get; init; }

    /// <summary>Called before each code cell runs (outside the cell's console redirection).</summary>
    public Action<CellStartInfo>? CellStarting { get; init; }

    /// <summary>Called after each code cell (outside the cell's console redirection).</summary>
    public Action<CellRunResult>? CellFinished { get; init; }
}
