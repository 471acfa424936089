namespace Shrink.Data;

/// <summary>
/// A dataset file is malformed: wrong magic, unsupported element type, impossible dimensions, truncated or
/// trailing data, a label out of range, mismatched image and label counts, or a corrupt gzip stream.
/// The message always names the file (both files for a mismatched pair) and the problem.
/// A missing file is not a format error: it raises <see cref="FileNotFoundException"/>.
/// </summary>
public sealed class DatasetFormatException : FormatException
{
    /// <summary>Creates the exception; <paramref name="path"/> is the offending file and is prefixed to the message.</summary>
    public DatasetFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file whose contents are wrong (the first one when two files disagree).</summary>
    public string Path { get; }

    /// <summary>The problem, without the file name.</summary>
    public string Problem { get; }
}
