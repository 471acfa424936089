namespace Shrink.Genes;

/// <summary>
/// A learngene file (<see cref="LearngeneFile"/>) cannot be used: not a safetensors file, metadata missing or invalid,
/// a tensor missing, unexpected or of the wrong shape. The message names the file and the problem; I/O failures (a missing
/// file) surface as the usual <see cref="IOException"/>s.
/// </summary>
public sealed class LearngeneFileException : FormatException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>.</summary>
    public LearngeneFileException(string filePath, string problem, Exception? inner = null)
        : base($"Learngene file '{filePath}': {problem}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that failed to load.</summary>
    public string FilePath { get; }

    /// <summary>The problem alone, without the file name.</summary>
    public string Problem { get; }
}
