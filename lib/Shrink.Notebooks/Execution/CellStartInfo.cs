namespace Shrink.Notebooks.Execution;

/// <summary>A code cell about to run (for progress reports).</summary>
/// <param name="CellIndex">0-based index of the cell in the executed notebook.</param>
/// <param name="CodeCellNumber">1-based index among the code cells.</param>
/// <param name="CodeCellCount">How many code cells the notebook has.</param>
public sealed record CellStartInfo(int CellIndex, int CodeCellNumber, int CodeCellCount);
