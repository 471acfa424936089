using System.Text;
using System.Text.Json.Nodes;

namespace Shrink.Notebooks.Model;

/// <summary>
/// Reads Polyglot's <c>.dib</c> format: plain UTF-8 text, cells separated by lines that are exactly <c>#!kernel</c>
/// (<c>#!csharp</c>, <c>#!markdown</c>, …), an optional first <c>#!meta</c> block holding one JSON object with
/// <c>kernelInfo</c>. Text before the first separator belongs to the default kernel; each cell's leading and
/// trailing blank lines are trimmed; any other <c>#!xyz</c> line stays in its cell (a magic command).
/// </summary>
internal static class DibFormat
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Decode(byte[] bytes, string file)
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

    public static Notebook Parse(string text, string name)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        int i = 0;
        JsonObject? kernelInfo = null;
        if (lines.Length > 0 && lines[0].TrimEnd() == "#!meta")
        {
            var meta = new StringBuilder();
            for (i = 1; i < lines.Length && !IsSeparator(lines[i], null, out _); i++)
                meta.Append(lines[i]).Append('\n');
            kernelInfo = ParseMeta(meta.ToString(), name);
        }
        string defaultKernel = KernelNames.Canonical(
            NotebookJson.AsString(kernelInfo?["defaultKernelName"]) is { Length: > 0 } d ? d : KernelNames.CSharp, kernelInfo);

        var notebook = Notebook.CreateCSharp(name, kernelInfo?.DeepClone().AsObject());
        string kernel = defaultKernel;
        bool explicitCell = false;
        var current = new List<string>();

        void Flush()
        {
            int start = 0, end = current.Count;
            while (start < end && string.IsNullOrWhiteSpace(current[start])) start++;
            while (end > start && string.IsNullOrWhiteSpace(current[end - 1])) end--;
            if (explicitCell || end > start)
            {
                string source = string.Join("\n", current.Skip(start).Take(end - start));
                NotebookCell cell;
                if (kernel == KernelNames.Markdown)
                    cell = NotebookCell.Markdown(source);
                else
                {
                    cell = NotebookCell.Code(source);
                    cell.Metadata["dotnet_interactive"] = new JsonObject { ["language"] = kernel };
                    cell.Metadata["polyglot_notebook"] = new JsonObject { ["kernelName"] = kernel };
                }
                notebook.AddCell(cell);
            }
            current.Clear();
        }

        for (; i < lines.Length; i++)
        {
            if (IsSeparator(lines[i], kernelInfo, out string? next))
            {
                Flush();
                kernel = next!;
                explicitCell = true;
            }
            else
                current.Add(lines[i]);
        }
        Flush();
        return notebook;
    }

    static bool IsSeparator(string line, JsonObject? kernelInfo, out string? kernel)
    {
        kernel = null;
        string t = line.TrimEnd();
        if (!t.StartsWith("#!", StringComparison.Ordinal) || t.Length == 2 || !KernelNames.IsKnown(t[2..], kernelInfo))
            return false;
        kernel = KernelNames.Canonical(t[2..], kernelInfo);
        return true;
    }

    static JsonObject? ParseMeta(string text, string file)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var node = NotebookJson.Parse(Encoding.UTF8.GetBytes(text.Trim()), $"{file} (#!meta block)", out _);
        if (node is not JsonObject meta)
            throw new NotebookFormatException(file, $"the #!meta block must hold a JSON object (found {NotebookJson.Describe(node)})");
        if (!meta.ContainsKey("kernelInfo"))
            return null;
        if (meta["kernelInfo"] is not JsonObject info)
            throw new NotebookFormatException(file, $"#!meta kernelInfo must be an object (found {NotebookJson.Describe(meta["kernelInfo"])})");
        if (info.ContainsKey("defaultKernelName") && !NotebookJson.IsString(info["defaultKernelName"]))
            throw new NotebookFormatException(file, "#!meta kernelInfo.defaultKernelName must be a string");
        if (info.ContainsKey("items") && info["items"] is not JsonArray)
            throw new NotebookFormatException(file, "#!meta kernelInfo.items must be an array");
        return info;
    }
}
