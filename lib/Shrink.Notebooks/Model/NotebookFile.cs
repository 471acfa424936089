using System.Text;
using System.Text.Json;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;

namespace Shrink.Notebooks.Model;

/// <summary>
/// Reads and writes notebooks with Microsoft.DotNet.Interactive.Documents: <c>.ipynb</c> through its Jupyter
/// <see cref="Notebook"/> reader and writer, <c>.dib</c> through <see cref="CodeSubmission"/>. What this class adds is
/// what Documents leaves to its caller: a check of the .ipynb JSON first (<see cref="IpynbValidator"/>), so a broken file
/// fails with a message naming the file and the problem rather than a bare <see cref="JsonException"/>, and atomic writes.
/// </summary>
public static class NotebookFile
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads a notebook file: <c>.dib</c> by its extension, anything else as .ipynb JSON.</summary>
    /// <exception cref="NotebookFormatException">The file cannot be read or is not a valid notebook.</exception>
    public static InteractiveDocument Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotebookFormatException(path, $"cannot be read: {e.Message}", e);
        }
        return IsDib(path) ? ParseDib(Decode(bytes, path), path) : Parse(bytes, path);
    }

    /// <summary>Whether <paramref name="path"/> names a Polyglot <c>.dib</c> file.</summary>
    public static bool IsDib(string path) => string.Equals(Path.GetExtension(path), ".dib", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses .ipynb JSON (UTF-8, BOM allowed); <paramref name="name"/> names the source in messages.</summary>
    /// <exception cref="NotebookFormatException">Not JSON, a member of the wrong type, missing cells, nbformat not 4.</exception>
    public static InteractiveDocument Parse(ReadOnlySpan<byte> utf8, string name)
    {
        string json = Decode(utf8.ToArray(), name);
        IpynbValidator.Validate(json, name);
        InteractiveDocument notebook;
        try
        {
            notebook = Notebook.Parse(json, KernelNames.Known());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new NotebookFormatException(name, $"not a notebook Microsoft.DotNet.Interactive.Documents can read: {e.Message}", e);
        }
        // Documents gives a code cell without kernel metadata its own default (C#) when it does not know the notebook's
        // kernel; such a cell belongs to the notebook's kernel (kernelspec "python3": a Python cell, not a C# one).
        string defaultKernel = notebook.DefaultKernelName();
        foreach (var cell in notebook.Elements)
            if (cell.IsCode() && !HasKernelMetadata(cell))
                cell.KernelName = defaultKernel;
        return notebook;
    }

    static bool HasKernelMetadata(InteractiveDocumentElement cell) =>
        cell.Metadata is { } md && (md.ContainsKey("polyglot_notebook") || md.ContainsKey("dotnet_interactive"));

    /// <summary>Parses .ipynb JSON text.</summary>
    public static InteractiveDocument Parse(string json, string name) => Parse(Encoding.UTF8.GetBytes(json), name);

    /// <summary>Parses a Polyglot <c>.dib</c> text (cells separated by <c>#!kernel</c> lines, C# by default).</summary>
    public static InteractiveDocument ParseDib(string text, string name)
    {
        try
        {
            return CodeSubmission.Parse(text, KernelNames.Known());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new NotebookFormatException(name, $"not a .dib notebook Microsoft.DotNet.Interactive.Documents can read: {e.Message}", e);
        }
    }

    /// <summary>The notebook as .ipynb JSON (nbformat 4.5), as Documents writes it.</summary>
    public static string ToIpynb(InteractiveDocument document)
    {
        using var stream = new MemoryStream();
        Notebook.Write(document, stream, KernelNames.Known());
        return StrictUtf8.GetString(stream.ToArray());
    }

    /// <summary>A deep copy, made by writing the notebook as .ipynb and reading it back.</summary>
    public static InteractiveDocument Clone(InteractiveDocument document) => Notebook.Parse(ToIpynb(document), KernelNames.Known());

    /// <summary>
    /// Writes the notebook as .ipynb to <paramref name="path"/> through a temporary file in the same folder that is then
    /// renamed over the target, so a reader never sees a half-written notebook.
    /// </summary>
    public static void Save(InteractiveDocument document, string path) => WriteAtomically(path, ToIpynb(document));

    /// <summary>Writes <paramref name="text"/> (UTF-8, no BOM) to <paramref name="path"/> through a renamed temporary file.</summary>
    public static void WriteAtomically(string path, string text)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, text, StrictUtf8);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    static string Decode(byte[] bytes, string file)
    {
        try
        {
            int skip = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
            return StrictUtf8.GetString(bytes, skip, bytes.Length - skip);
        }
        catch (DecoderFallbackException e)
        {
            throw new NotebookFormatException(file, $"not valid UTF-8 text: {e.Message}", e);
        }
    }
}
