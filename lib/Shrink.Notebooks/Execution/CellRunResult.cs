namespace Shrink.Notebooks.Execution;

/// <summary>The result of one code cell.</summary>
/// <param name="CellIndex">0-based index of the cell in the executed notebook.</param>
/// <param name="CodeCellNumber">1-based index among the code cells.</param>
/// <param name="Kernel">The kernel the cell belongs to (<c>csharp</c> for the ones that run).</param>
/// <param name="Status">How it ended.</param>
/// <param name="Duration">Wall time of the cell (zero when not run).</param>
/// <param name="Error">For a failed cell: the error's message (which names the cell and line).</param>
public sealed record CellRunResult(int CellIndex, int CodeCellNumber, string Kernel, CellStatus Status, TimeSpan Duration, string? Error);
