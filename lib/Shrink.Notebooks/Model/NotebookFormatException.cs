namespace Shrink.Notebooks.Model;

/// <summary>
/// A notebook file (.ipynb or .dib) that cannot be read: not JSON, a member of the wrong type, missing cells, an
/// nbformat other than 4. The message names the file and what is wrong with it.
/// </summary>
public sealed class NotebookFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="file"/> with a description of the problem.</summary>
    public NotebookFormatException(string file, string problem, Exception? inner = null)
        : base($"{file}: {problem}", inner)
    {
        File = file;
        Problem = problem;
    }

    /// <summary>The file (or source name) that could not be read.</summary>
    public string File { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }
}
