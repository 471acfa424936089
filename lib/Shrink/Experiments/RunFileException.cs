namespace Shrink.Experiments;

/// <summary>
/// A file in a run folder (a checkpoint, the final model, <c>result.json</c>, <c>hparams.json</c>) cannot be used: it is
/// corrupt, truncated, written by a different configuration, or inconsistent with the run. The message names the file
/// and says what to do (usually: delete the file, or the folder, to recompute it).
/// </summary>
public sealed class RunFileException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>.</summary>
    /// <param name="filePath">The offending file.</param>
    /// <param name="problem">What is wrong and what to do, in a sentence or two.</param>
    /// <param name="inner">The error behind it, if any.</param>
    public RunFileException(string filePath, string problem, Exception? inner = null)
        : base($"Run file '{filePath}': {problem}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that could not be used.</summary>
    public string FilePath { get; }

    /// <summary>The problem, without the file name.</summary>
    public string Problem { get; }
}
