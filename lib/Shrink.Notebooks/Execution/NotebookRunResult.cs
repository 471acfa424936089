using Microsoft.DotNet.Interactive.Documents;

namespace Shrink.Notebooks.Execution;

/// <summary>The executed copy of a notebook and what happened to each code cell.</summary>
public sealed class NotebookRunResult
{
    internal NotebookRunResult(InteractiveDocument notebook, string name, IReadOnlyList<CellRunResult> cells, TimeSpan duration, IReadOnlyList<string> warnings)
    {
        Notebook = notebook;
        Name = name;
        Cells = cells;
        Duration = duration;
        Warnings = warnings;
    }

    /// <summary>The executed notebook (outputs, execution counts, timings in <c>metadata.shrink.execution</c>).</summary>
    public InteractiveDocument Notebook { get; }

    /// <summary>The notebook's name (its file name when run from a file).</summary>
    public string Name { get; }

    /// <summary>One entry per code cell, in order.</summary>
    public IReadOnlyList<CellRunResult> Cells { get; }

    /// <summary>Wall time of the whole run.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Things the user should know (for example: no <c>parameters</c> cell).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>How many code cells failed.</summary>
    public int FailedCount => Cells.Count(c => c.Status == CellStatus.Failed);

    /// <summary>How many code cells were not run after a failure.</summary>
    public int NotRunCount => Cells.Count(c => c.Status == CellStatus.NotRun);

    /// <summary>Whether every code cell ran and succeeded.</summary>
    public bool Succeeded => Cells.All(c => c.Status == CellStatus.Succeeded);
}
