namespace Shrink.Notebooks.Execution;

/// <summary>How <see cref="NotebookRunner"/> runs a notebook.</summary>
public sealed record NotebookRunOptions
{
    /// <summary>Run every cell even after one fails (default: stop at the first failing cell; later cells stay unexecuted).</summary>
    public bool KeepGoing { get; init; }

    /// <summary>The notebook's name in messages (default: its file name when run from a path, else <c>notebook.ipynb</c>).</summary>
    public string? NotebookName { get; init; }

    /// <summary>Called before each code cell runs.</summary>
    public Action<CellStartInfo>? CellStarting { get; init; }

    /// <summary>Called after each code cell.</summary>
    public Action<CellRunResult>? CellFinished { get; init; }
}
