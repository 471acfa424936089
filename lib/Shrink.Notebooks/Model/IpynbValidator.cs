using System.Text.Json;

namespace Shrink.Notebooks.Model;

/// <summary>
/// Checks .ipynb JSON before Microsoft.DotNet.Interactive.Documents reads it. Documents' reader is lenient (it skips
/// what it does not know, reads a raw cell as code and a missing <c>nbformat</c> as fine) and reports broken JSON as a bare
/// <see cref="JsonException"/>; this check names the file, the place and the problem: not JSON (with line and byte),
/// not an object, <c>nbformat</c> other than 4, <c>cells</c> missing or not an array, a cell without a known
/// <c>cell_type</c> or a string <c>source</c>, metadata and tags of the wrong type, malformed outputs. Raw cells are
/// refused: Documents has no raw cell and would run one as code.
/// </summary>
internal static class IpynbValidator
{
    static readonly JsonDocumentOptions Options = new() { MaxDepth = 256, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };

    /// <summary>Throws <see cref="NotebookFormatException"/> naming <paramref name="file"/> and the first problem found.</summary>
    public static void Validate(string json, string file)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, Options); }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
            string message = e.Message;
            foreach (var tail in new[] { " Path:", " LineNumber:" })
                if (message.IndexOf(tail, StringComparison.Ordinal) is int cut and > 0)
                    message = message[..cut];
            throw new NotebookFormatException(file, $"not valid JSON{where}: {message}", e);
        }
        using (doc)
            Root(doc.RootElement, file);
    }

    static NotebookFormatException Error(string file, string problem) => new(file, problem);

    static void Root(JsonElement root, string file)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw Error(file, $"the top level must be a JSON object (found {Describe(root)})");
        if (!root.TryGetProperty("nbformat", out var major))
            throw Error(file, "\"nbformat\" is missing (not a Jupyter notebook)");
        if (major.ValueKind != JsonValueKind.Number || !major.TryGetInt64(out long nbformat))
            throw Error(file, $"\"nbformat\" must be an integer (found {Describe(major)})");
        if (nbformat != 4)
            throw Error(file, $"nbformat {nbformat} is not supported (only nbformat 4)");
        if (!root.TryGetProperty("nbformat_minor", out var minor))
            throw Error(file, "\"nbformat_minor\" is missing");
        if (minor.ValueKind != JsonValueKind.Number || !minor.TryGetInt64(out long m) || m < 0)
            throw Error(file, $"\"nbformat_minor\" must be a non-negative integer (found {Describe(minor)})");
        if (root.TryGetProperty("metadata", out var metadata))
            NotebookMetadata(metadata, file);
        if (!root.TryGetProperty("cells", out var cells))
            throw Error(file, "\"cells\" is missing");
        if (cells.ValueKind != JsonValueKind.Array)
            throw Error(file, $"\"cells\" must be an array (found {Describe(cells)})");
        int i = 0;
        foreach (var cell in cells.EnumerateArray())
            Cell(cell, $"cells[{i++}]", file);
    }

    static void NotebookMetadata(JsonElement md, string file)
    {
        Object(md, "metadata", file);
        if (md.TryGetProperty("kernelspec", out var spec))
        {
            Object(spec, "metadata.kernelspec", file);
            OptionalString(spec, "name", "metadata.kernelspec", file);
        }
        if (md.TryGetProperty("polyglot_notebook", out var poly))
        {
            Object(poly, "metadata.polyglot_notebook", file);
            if (poly.TryGetProperty("kernelInfo", out var info))
            {
                Object(info, "metadata.polyglot_notebook.kernelInfo", file);
                OptionalString(info, "defaultKernelName", "metadata.polyglot_notebook.kernelInfo", file);
            }
        }
        if (md.TryGetProperty("papermill", out var papermill))
            Object(papermill, "metadata.papermill", file);
    }

    static void Cell(JsonElement cell, string at, string file)
    {
        Object(cell, at, file);
        if (!cell.TryGetProperty("cell_type", out var typeElement))
            throw Error(file, $"{at} has no \"cell_type\"");
        string? type = typeElement.ValueKind == JsonValueKind.String ? typeElement.GetString() : null;
        if (type == "raw")
            throw Error(file, $"{at} is a raw cell: Microsoft.DotNet.Interactive.Documents has no raw cells (it would run one as code); make it a markdown cell");
        if (type is not ("code" or "markdown"))
            throw Error(file, type is null
                ? $"{at}.cell_type must be a string (found {Describe(typeElement)})"
                : $"{at}.cell_type \"{type}\" is not one of code, markdown");
        if (!cell.TryGetProperty("source", out var source))
            throw Error(file, $"{at} ({type}) has no \"source\"");
        Multiline(source, $"{at}.source", file);
        OptionalString(cell, "id", at, file);
        if (cell.TryGetProperty("metadata", out var md))
        {
            Object(md, $"{at}.metadata", file);
            if (md.TryGetProperty("tags", out var tags))
            {
                if (tags.ValueKind != JsonValueKind.Array)
                    throw Error(file, $"{at}.metadata.tags must be an array of strings (found {Describe(tags)})");
                int t = 0;
                foreach (var tag in tags.EnumerateArray())
                {
                    if (tag.ValueKind != JsonValueKind.String)
                        throw Error(file, $"{at}.metadata.tags[{t}] must be a string (found {Describe(tag)})");
                    t++;
                }
            }
            foreach (var (key, member) in new[] { ("polyglot_notebook", "kernelName"), ("dotnet_interactive", "language") })
                if (md.TryGetProperty(key, out var kernel))
                {
                    Object(kernel, $"{at}.metadata.{key}", file);
                    OptionalString(kernel, member, $"{at}.metadata.{key}", file);
                }
        }
        if (type == "code")
        {
            if (cell.TryGetProperty("execution_count", out var count) && count.ValueKind != JsonValueKind.Null &&
                (count.ValueKind != JsonValueKind.Number || !count.TryGetInt32(out _)))
                throw Error(file, $"{at}.execution_count must be an integer or null (found {Describe(count)})");
            if (cell.TryGetProperty("outputs", out var outputs))
            {
                if (outputs.ValueKind != JsonValueKind.Array)
                    throw Error(file, $"{at}.outputs must be an array (found {Describe(outputs)})");
                int j = 0;
                foreach (var output in outputs.EnumerateArray())
                    Output(output, $"{at}.outputs[{j++}]", file);
            }
        }
    }

    static void Output(JsonElement o, string at, string file)
    {
        Object(o, at, file);
        string? type = o.TryGetProperty("output_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        switch (type)
        {
            case "stream":
                if (!o.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                    throw Error(file, $"{at} (stream) needs a string \"name\"");
                if (!o.TryGetProperty("text", out var text))
                    throw Error(file, $"{at} (stream) needs \"text\"");
                Multiline(text, $"{at}.text", file);
                break;
            case "display_data":
            case "execute_result":
                if (!o.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
                    throw Error(file, $"{at} ({type}) needs an object \"data\"");
                if (o.TryGetProperty("metadata", out var md))
                    Object(md, $"{at}.metadata", file);
                break;
            case "error":
                foreach (var key in new[] { "ename", "evalue" })
                    if (!o.TryGetProperty(key, out var value) || value.ValueKind != JsonValueKind.String)
                        throw Error(file, $"{at} (error) needs a string \"{key}\"");
                if (!o.TryGetProperty("traceback", out var tb) || tb.ValueKind != JsonValueKind.Array ||
                    tb.EnumerateArray().Any(l => l.ValueKind != JsonValueKind.String))
                    throw Error(file, $"{at} (error) needs \"traceback\" as an array of strings");
                break;
            case null:
                throw Error(file, $"{at} needs a string \"output_type\"");
            default:
                throw Error(file, $"{at}.output_type \"{type}\" is not one of stream, display_data, execute_result, error");
        }
    }

    static void Object(JsonElement e, string at, string file)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw Error(file, $"{at} must be an object (found {Describe(e)})");
    }

    static void Multiline(JsonElement e, string at, string file)
    {
        bool ok = e.ValueKind == JsonValueKind.String ||
                  (e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(l => l.ValueKind == JsonValueKind.String));
        if (!ok)
            throw Error(file, $"{at} must be a string or an array of strings (found {Describe(e)})");
    }

    static void OptionalString(JsonElement obj, string key, string at, string file)
    {
        if (obj.TryGetProperty(key, out var value) && value.ValueKind != JsonValueKind.String)
            throw Error(file, $"{at}.{key} must be a string (found {Describe(value)})");
    }

    static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "a value",
    };
}
