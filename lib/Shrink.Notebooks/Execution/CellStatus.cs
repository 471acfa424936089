namespace Shrink.Notebooks.Execution;

/// <summary>How a code cell's run ended.</summary>
public enum CellStatus
{
    /// <summary>It ran without a compile error or an exception.</summary>
    Succeeded,

    /// <summary>It did not compile, threw, used an unsupported magic command or kernel; the cell has an error output.</summary>
    Failed,

    /// <summary>It was not run because an earlier cell failed (and the run does not keep going).</summary>
    NotRun,
}
