using System.Text.Json;
using System.Text.Json.Nodes;

namespace Shrink.Notebooks.Model;

/// <summary>
/// One output of a code cell, as nbformat 4 stores it: <c>stream</c> (stdout/stderr text), <c>display_data</c> and
/// <c>execute_result</c> (a MIME bundle), or <c>error</c> (ename, evalue, traceback). The JSON object is kept as
/// read, so members this type does not interpret survive a round trip.
/// </summary>
public sealed class NotebookOutput
{
    internal NotebookOutput(JsonObject json) => Json = json;

    /// <summary>The output's JSON object (owned by the cell's <c>outputs</c> array once added).</summary>
    public JsonObject Json { get; }

    /// <summary><c>stream</c>, <c>display_data</c>, <c>execute_result</c> or <c>error</c>.</summary>
    public string OutputType => NotebookJson.AsString(Json["output_type"]) ?? "";

    /// <summary>For a stream output: <c>stdout</c> or <c>stderr</c>.</summary>
    public string? StreamName => NotebookJson.AsString(Json["name"]);

    /// <summary>For a stream output: its text.</summary>
    public string? Text => NotebookJson.AsMultilineText(Json["text"]);

    /// <summary>For an error output: the exception name.</summary>
    public string? ErrorName => NotebookJson.AsString(Json["ename"]);

    /// <summary>For an error output: the message.</summary>
    public string? ErrorValue => NotebookJson.AsString(Json["evalue"]);

    /// <summary>For an error output: the traceback lines.</summary>
    public IReadOnlyList<string> Traceback =>
        Json["traceback"] is JsonArray arr ? arr.Select(n => NotebookJson.AsString(n) ?? "").ToList() : [];

    /// <summary>For display_data and execute_result: MIME type → content (JSON-valued entries as JSON text).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Data
    {
        get
        {
            var list = new List<KeyValuePair<string, string>>();
            if (Json["data"] is JsonObject data)
                foreach (var (mime, value) in data)
                    list.Add(new(mime, NotebookJson.AsMultilineText(value) ?? value?.ToJsonString() ?? "null"));
            return list;
        }
    }

    /// <summary>The content for one MIME type, or null.</summary>
    public string? GetData(string mimeType)
    {
        foreach (var (mime, text) in Data)
            if (mime == mimeType)
                return text;
        return null;
    }

    /// <summary>A <c>stream</c> output (VS Code layout: text as an array of lines).</summary>
    public static NotebookOutput Stream(string name, string text) => new(new JsonObject
    {
        ["name"] = name,
        ["output_type"] = "stream",
        ["text"] = NotebookJson.ToLineArray(text),
    });

    /// <summary>A <c>display_data</c> output holding a MIME bundle (in the bundle's order).</summary>
    public static NotebookOutput DisplayData(IEnumerable<KeyValuePair<string, string>> bundle)
    {
        var data = new JsonObject();
        foreach (var (mime, content) in bundle)
            data[mime] = DataValue(mime, content);
        return new(new JsonObject
        {
            ["data"] = data,
            ["metadata"] = new JsonObject(),
            ["output_type"] = "display_data",
        });
    }

    /// <summary>An <c>error</c> output.</summary>
    public static NotebookOutput Error(string ename, string evalue, IEnumerable<string> traceback)
    {
        var tb = new JsonArray();
        foreach (var line in traceback)
            tb.Add(JsonValue.Create(line));
        return new(new JsonObject
        {
            ["ename"] = ename,
            ["evalue"] = evalue,
            ["output_type"] = "error",
            ["traceback"] = tb,
        });
    }

    static JsonNode? DataValue(string mime, string content)
    {
        if (mime == "application/json" || mime.EndsWith("+json", StringComparison.Ordinal))
        {
            try { return JsonNode.Parse(content); }
            catch (JsonException) { return JsonValue.Create(content); }
        }
        bool textual = mime.StartsWith("text/", StringComparison.Ordinal) || mime == "image/svg+xml";
        return textual ? NotebookJson.ToLineArray(content) : JsonValue.Create(content);
    }
}
