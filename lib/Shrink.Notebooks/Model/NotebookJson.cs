using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Shrink.Notebooks.Model;

/// <summary>
/// JSON plumbing for notebooks: parsing into an order-preserving <see cref="JsonNode"/> tree that keeps every
/// value's original text, and writing a tree back the way JavaScript's <c>JSON.stringify(value, null, indent)</c>
/// does (VS Code's ipynb serializer; Jupyter's writer produces the same bytes for the same tree).
/// </summary>
internal static class NotebookJson
{
    static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 256, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false };

    /// <summary>Parses UTF-8 JSON (with or without a BOM) into a tree; any failure is a <see cref="NotebookFormatException"/>.</summary>
    public static JsonNode? Parse(ReadOnlyMemory<byte> bytes, string file, out JsonTextStyle style)
    {
        var span = bytes.Span;
        bool bom = span.Length >= 3 && span[0] == 0xEF && span[1] == 0xBB && span[2] == 0xBF;
        if (bom)
            bytes = bytes[3..];
        style = JsonTextStyle.Detect(bytes.Span, bom);
        if (!System.Text.Unicode.Utf8.IsValid(bytes.Span))
            throw new NotebookFormatException(file, $"not valid UTF-8 (first bad byte at offset {FirstInvalidUtf8(bytes.Span) + (bom ? 3 : 0)})");
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(bytes, ParseOptions);
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is long line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
            throw new NotebookFormatException(file, $"not valid JSON{where}: {FirstSentence(e.Message)}", e);
        }
        catch (ArgumentException e)
        {
            throw new NotebookFormatException(file, $"not valid JSON: {e.Message}", e);
        }
        return ToNode(root, "$", file);
    }

    static int FirstInvalidUtf8(ReadOnlySpan<byte> utf8)
    {
        Span<char> buffer = stackalloc char[256];
        int offset = 0;
        while (offset < utf8.Length)
        {
            var status = System.Text.Unicode.Utf8.ToUtf16(utf8[offset..], buffer, out int read, out _, replaceInvalidSequences: false);
            offset += read;
            if (status == System.Buffers.OperationStatus.InvalidData || status == System.Buffers.OperationStatus.NeedMoreData)
                return offset;
        }
        return offset;
    }

    static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    static JsonNode? ToNode(JsonElement e, string path, string file)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var obj = new JsonObject();
                foreach (var p in e.EnumerateObject())
                {
                    if (obj.ContainsKey(p.Name))
                        throw new NotebookFormatException(file, $"{path} has the member \"{p.Name}\" twice");
                    obj.Add(p.Name, ToNode(p.Value, $"{path}.{p.Name}", file));
                }
                return obj;
            }
            case JsonValueKind.Array:
            {
                var arr = new JsonArray();
                int i = 0;
                foreach (var item in e.EnumerateArray())
                    arr.Add(ToNode(item, $"{path}[{i++}]", file));
                return arr;
            }
            case JsonValueKind.Null:
                return null;
            default:
                return JsonValue.Create(e);
        }
    }

    /// <summary>Writes a tree as UTF-8 bytes in the given style.</summary>
    public static byte[] ToBytes(JsonNode? node, JsonTextStyle style)
    {
        var sb = new StringBuilder(4096);
        Write(sb, node, style, 0);
        if (style.TrailingNewLine)
            sb.Append(style.NewLine);
        var body = Encoding.UTF8.GetBytes(sb.ToString());
        if (!style.Utf8Bom)
            return body;
        var withBom = new byte[body.Length + 3];
        withBom[0] = 0xEF; withBom[1] = 0xBB; withBom[2] = 0xBF;
        body.CopyTo(withBom, 3);
        return withBom;
    }

    /// <summary>Writes a tree as a string in the given style (no BOM, no trailing line break).</summary>
    public static string ToText(JsonNode? node, JsonTextStyle style)
    {
        var sb = new StringBuilder();
        Write(sb, node, style, 0);
        return sb.ToString();
    }

    static void Write(StringBuilder sb, JsonNode? node, JsonTextStyle style, int depth)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                return;
            case JsonObject obj:
                if (obj.Count == 0) { sb.Append("{}"); return; }
                sb.Append('{');
                bool first = true;
                foreach (var (key, value) in obj)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    NewLine(sb, style, depth + 1);
                    WriteString(sb, key);
                    sb.Append(style.Indent.Length == 0 ? ":" : ": ");
                    Write(sb, value, style, depth + 1);
                }
                NewLine(sb, style, depth);
                sb.Append('}');
                return;
            case JsonArray arr:
                if (arr.Count == 0) { sb.Append("[]"); return; }
                sb.Append('[');
                for (int i = 0; i < arr.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    NewLine(sb, style, depth + 1);
                    Write(sb, arr[i], style, depth + 1);
                }
                NewLine(sb, style, depth);
                sb.Append(']');
                return;
            case JsonValue value:
                WriteValue(sb, value);
                return;
        }
    }

    static void NewLine(StringBuilder sb, JsonTextStyle style, int depth)
    {
        if (style.Indent.Length == 0)
            return;
        sb.Append(style.NewLine);
        for (int i = 0; i < depth; i++)
            sb.Append(style.Indent);
    }

    static void WriteValue(StringBuilder sb, JsonValue value)
    {
        // Values read from a file keep their original text (escapes, number spelling) exactly.
        if (value.TryGetValue<JsonElement>(out var element))
        {
            sb.Append(element.GetRawText());
            return;
        }
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>());
                return;
            case JsonValueKind.True:
                sb.Append("true");
                return;
            case JsonValueKind.False:
                sb.Append("false");
                return;
            case JsonValueKind.Number:
                if (value.TryGetValue<double>(out double d) && !value.TryGetValue<long>(out _) && !value.TryGetValue<int>(out _))
                    sb.Append(FloatText.JavaScript(d));
                else
                    sb.Append(value.ToJsonString());
                return;
            default:
                sb.Append(value.ToJsonString());
                return;
        }
    }

    /// <summary>Writes a JSON string literal escaped as <c>JSON.stringify</c> escapes it.</summary>
    internal static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        sb.Append(c).Append(s[i + 1]);
                        i++;
                    }
                    else if (char.IsSurrogate(c))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>The kind of a node, with null for JSON null.</summary>
    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };

    /// <summary>Whether the node is a JSON string.</summary>
    public static bool IsString(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String;

    /// <summary>The node's string value, or null when it is not a JSON string.</summary>
    public static string? AsString(JsonNode? node) => IsString(node) ? node!.GetValue<string>() : null;

    /// <summary>The node's value when it is an integral JSON number that fits in a long.</summary>
    public static long? AsInteger(JsonNode? node)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
            return null;
        if (v.TryGetValue<JsonElement>(out var e))
            return e.TryGetInt64(out long l) ? l : null;
        if (v.TryGetValue<long>(out long x)) return x;
        if (v.TryGetValue<int>(out int y)) return y;
        return null;
    }

    /// <summary>Multi-line text as nbformat stores it: a string, or an array of strings to concatenate.</summary>
    public static string? AsMultilineText(JsonNode? node)
    {
        if (IsString(node))
            return node!.GetValue<string>();
        if (node is JsonArray arr)
        {
            var sb = new StringBuilder();
            foreach (var item in arr)
            {
                if (!IsString(item))
                    return null;
                sb.Append(item!.GetValue<string>());
            }
            return sb.ToString();
        }
        return null;
    }

    /// <summary>Text as an array of lines that keep their "\n" (how VS Code and Jupyter write sources and outputs).</summary>
    public static JsonArray ToLineArray(string text)
    {
        var arr = new JsonArray();
        int start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl + 1;
            arr.Add(JsonValue.Create(text[start..end]));
            start = end;
        }
        return arr;
    }
}
