using System.Globalization;

namespace Shrink.Notebooks.Execution;

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
