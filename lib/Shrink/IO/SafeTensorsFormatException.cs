namespace Shrink.IO;

/// <summary>
/// A safetensors file (or byte buffer) is malformed: truncated, a header that is not valid JSON, an entry
/// with a missing or mistyped field, an unknown dtype, data offsets that do not tile the data buffer, and so on.
/// <see cref="SafeTensors"/> throws only this exception for bad <em>content</em>; I/O failures (a missing file,
/// a denied permission) surface as the usual <see cref="IOException"/>s.
/// </summary>
public sealed class SafeTensorsFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="filePath"/> (null when reading from memory or a stream).</summary>
    /// <param name="filePath">The file that was read, or null.</param>
    /// <param name="problem">What is wrong, in one sentence.</param>
    /// <param name="inner">The parser error behind it, if any.</param>
    public SafeTensorsFormatException(string? filePath, string problem, Exception? inner = null)
        : base(Compose(filePath, problem), inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that failed to load, or null when the bytes came from memory or a stream.</summary>
    public string? FilePath { get; }

    /// <summary>The problem alone, without the file name.</summary>
    public string Problem { get; }

    private static string Compose(string? filePath, string problem) =>
        filePath is null ? $"Invalid safetensors data: {problem}" : $"Invalid safetensors file '{filePath}': {problem}";
}
