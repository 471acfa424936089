namespace Shrink.Distillation;

/// <summary>
/// A teacher-logit cache file cannot be used: it is truncated, corrupt (a checksum or a field is wrong), of an unknown
/// version, or was built for something else (another dataset, another top-k, another teacher or input pipeline). The
/// message names the file and the problem; deleting the file makes the next run rebuild it.
/// </summary>
public sealed class TeacherCacheFormatException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>.</summary>
    /// <param name="filePath">The offending file.</param>
    /// <param name="problem">What is wrong, in a sentence.</param>
    /// <param name="inner">The error behind it, if any.</param>
    public TeacherCacheFormatException(string filePath, string problem, Exception? inner = null)
        : base($"Teacher-logit cache '{filePath}': {problem} Delete the file to rebuild it.", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that could not be used.</summary>
    public string FilePath { get; }

    /// <summary>The problem, without the file name.</summary>
    public string Problem { get; }
}
