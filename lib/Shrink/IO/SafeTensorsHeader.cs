using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Shrink.IO;

/// <summary>
/// One tensor entry of a safetensors header: its name, element type, shape and byte range
/// <c>[DataBegin, DataEnd)</c> inside the data buffer (the bytes after the 8-byte length prefix and the header).
/// </summary>
public sealed class SafeTensorInfo
{
    internal SafeTensorInfo(string name, SafeDType dtype, long[] shape, long begin, long end, int headerIndex)
    {
        Name = name; Kind = dtype; ShapeArray = shape; DataBegin = begin; DataEnd = end; HeaderIndex = headerIndex;
    }

    /// <summary>The tensor's name (a key of the header object), e.g. <c>blocks.0.attn.qkv.weight</c>.</summary>
    public string Name { get; }

    /// <summary>The stored element type as the file spells it: <c>F32</c>, <c>F16</c>, <c>BF16</c> or <c>F64</c>.</summary>
    public string DType => Kind.ToString();

    /// <summary>The dimensions, outermost first (TorchSharp's <c>long</c> sizes); empty for a 0-d scalar.</summary>
    public IReadOnlyList<long> Shape => ShapeArray;

    /// <summary>Number of elements: Π shape (1 for a scalar).</summary>
    public long Numel
    {
        get
        {
            long n = 1;
            foreach (long d in ShapeArray) n *= d; // validated: fits in a long
            return n;
        }
    }

    /// <summary>First byte of the tensor's data, relative to the start of the data buffer.</summary>
    public long DataBegin { get; }

    /// <summary>One past the last byte of the tensor's data: <c>DataEnd − DataBegin = Numel × sizeof(DType)</c>.</summary>
    public long DataEnd { get; }

    internal SafeDType Kind { get; }
    internal long[] ShapeArray { get; }
    internal int HeaderIndex { get; }

    /// <summary>E.g. <c>blocks.0.norm1.weight F32 [192] @ [0, 768)</c>.</summary>
    public override string ToString() => $"{Name} {DType} [{string.Join(", ", ShapeArray)}] @ [{DataBegin}, {DataEnd})";
}

/// <summary>Element types this library reads (all are converted to float32).</summary>
internal enum SafeDType { F32, F16, BF16, F64 }

/// <summary>
/// A parsed and fully validated safetensors header. Validation follows the official Rust crate: the 8-byte
/// little-endian length N is at most 100 MB and fits in the file; the header is UTF-8 JSON starting with '{';
/// every entry has a known dtype, a shape of non-negative integers and data_offsets [begin, end] with
/// end − begin = Π shape × sizeof(dtype); sorted by offset the ranges tile the data buffer from 0 to its end
/// with no gap and no overlap; "__metadata__", if present, maps strings to strings. Every failure is a
/// <see cref="SafeTensorsFormatException"/>; nothing is allocated beyond the header bytes before it passes.
/// </summary>
internal sealed class SafeTensorsHeader
{
    internal const int PrefixBytes = 8;
    internal const long MaxHeaderBytes = 100_000_000;
    internal const string MetadataKey = "__metadata__";

    private static readonly string SupportedList = string.Join(", ", Enum.GetNames<SafeDType>());

    // dtypes the official format defines that this float32 library does not read
    private static readonly HashSet<string> KnownUnsupported = new(StringComparer.Ordinal)
    {
        "BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64", "C64",
        "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
    };

    private SafeTensorsHeader(List<SafeTensorInfo> tensors, Dictionary<string, string>? metadata, long headerBytes, long dataBytes)
    {
        Tensors = tensors; Metadata = metadata; HeaderBytes = headerBytes; DataBytes = dataBytes;
    }

    /// <summary>The tensors in the order of their data (ascending data_offsets; ties keep header order).</summary>
    public List<SafeTensorInfo> Tensors { get; }

    /// <summary>The "__metadata__" map, or null when the header has none.</summary>
    public Dictionary<string, string>? Metadata { get; }

    /// <summary>N: the header's length in bytes (padding included).</summary>
    public long HeaderBytes { get; }

    /// <summary>Length of the data buffer: file length − 8 − N.</summary>
    public long DataBytes { get; }

    internal static int SizeOf(SafeDType t) => t switch
    {
        SafeDType.F32 => 4,
        SafeDType.F16 => 2,
        SafeDType.BF16 => 2,
        SafeDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    internal static SafeTensorsFormatException Error(string? path, string problem, Exception? inner = null) => new(path, problem, inner);

    /// <summary>
    /// Reads N from the 8-byte prefix of a file of <paramref name="totalBytes"/> bytes and checks it against the cap
    /// and the file length. <paramref name="prefix"/> holds the first min(8, total) bytes.
    /// </summary>
    internal static int ReadHeaderLength(ReadOnlySpan<byte> prefix, long totalBytes, string? path)
    {
        if (totalBytes < PrefixBytes)
            throw Error(path, $"the file has {totalBytes} bytes, fewer than the 8-byte little-endian header length that starts every safetensors file.");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > MaxHeaderBytes)
            throw Error(path, $"the header length field says {n} bytes, more than the {MaxHeaderBytes}-byte limit (the official reader's cap); the file is corrupt or not safetensors.");
        if (n > (ulong)(totalBytes - PrefixBytes))
            throw Error(path, $"the header length field says {n} bytes but only {totalBytes - PrefixBytes} bytes follow it; the file is truncated or not safetensors.");
        return (int)n;
    }

    /// <summary>Parses and validates the header JSON; <paramref name="dataBytes"/> is the length of the data buffer after it.</summary>
    internal static SafeTensorsHeader Parse(byte[] header, long dataBytes, string? path)
    {
        if (header.Length == 0)
            throw Error(path, "the header is empty (its length field is 0); it must hold a JSON object.");
        if (!Utf8.IsValid(header))
            throw Error(path, $"the header is not valid UTF-8 (first bad byte at header offset {FirstInvalidUtf8(header)}).");
        if (header[0] != (byte)'{')
            throw Error(path, $"the header must start with '{{' (a JSON object) but starts with byte 0x{header[0]:X2}.");

        JsonDocument doc;
        try { doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 64 }); }
        catch (JsonException e) { throw Error(path, $"the header is not valid JSON: {e.Message}", e); }

        var tensors = new List<SafeTensorInfo>();
        Dictionary<string, string>? metadata = null;
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Error(path, $"the header must be a JSON object, found {Kind(root)}.");
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in root.EnumerateObject())
            {
                string name = NameOf(entry, path, "a header key");
                if (!names.Add(name)) throw Error(path, $"the header lists {Q(name)} twice (duplicate name).");
                if (name == MetadataKey) metadata = ParseMetadata(entry.Value, path);
                else tensors.Add(ParseEntry(name, entry.Value, tensors.Count, dataBytes, path));
            }
        }

        // Sorted by offset, the ranges must tile [0, dataBytes) exactly (official: InvalidOffset / MetadataIncompleteBuffer).
        tensors.Sort(static (a, b) =>
        {
            int c = a.DataBegin.CompareTo(b.DataBegin);
            if (c == 0) c = a.DataEnd.CompareTo(b.DataEnd);
            return c != 0 ? c : a.HeaderIndex.CompareTo(b.HeaderIndex);
        });
        long covered = 0;
        SafeTensorInfo? previous = null;
        foreach (var t in tensors)
        {
            if (t.DataBegin < covered)
                throw Error(path, $"tensor {Q(t.Name)} has data_offsets [{t.DataBegin}, {t.DataEnd}] that overlap tensor {Q(previous!.Name)} at [{previous.DataBegin}, {previous.DataEnd}]; tensor data must not overlap.");
            if (t.DataBegin > covered)
                throw Error(path, $"bytes [{covered}, {t.DataBegin}) of the data buffer belong to no tensor (a gap before tensor {Q(t.Name)}); the data_offsets must tile the buffer without holes.");
            covered = t.DataEnd;
            previous = t;
        }
        if (covered != dataBytes)
            throw Error(path, previous is null
                ? $"the header lists no tensors but {dataBytes} data bytes follow it; the data_offsets must cover the whole data buffer."
                : $"the data buffer has {dataBytes} bytes but the tensors cover only the first {covered} (the last is {Q(previous.Name)}); the data_offsets must cover the whole buffer.");

        return new SafeTensorsHeader(tensors, metadata, header.Length, dataBytes);
    }

    private static SafeTensorInfo ParseEntry(string name, JsonElement value, int index, long dataBytes, string? path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Error(path, $"entry {Q(name)} must be an object with \"dtype\", \"shape\" and \"data_offsets\", found {Kind(value)}.");
        JsonElement? dtypeEl = null, shapeEl = null, offsetsEl = null;
        foreach (var field in value.EnumerateObject())
        {
            string key = NameOf(field, path, $"a field of tensor {Q(name)}");
            switch (key)
            {
                case "dtype": dtypeEl = Once(dtypeEl, field.Value, name, key, path); break;
                case "shape": shapeEl = Once(shapeEl, field.Value, name, key, path); break;
                case "data_offsets": offsetsEl = Once(offsetsEl, field.Value, name, key, path); break;
                default: break; // unknown fields are ignored, as by the official reader
            }
        }
        if (dtypeEl is not { } dtypeJson) throw Error(path, $"tensor {Q(name)} has no \"dtype\" field.");
        if (shapeEl is not { } shapeJson) throw Error(path, $"tensor {Q(name)} has no \"shape\" field.");
        if (offsetsEl is not { } offsetsJson) throw Error(path, $"tensor {Q(name)} has no \"data_offsets\" field.");

        // dtype
        if (dtypeJson.ValueKind != JsonValueKind.String)
            throw Error(path, $"the \"dtype\" of tensor {Q(name)} must be a string, found {Kind(dtypeJson)}.");
        string dtypeName = StringOf(dtypeJson, path, $"the dtype of tensor {Q(name)}");
        SafeDType? parsed = dtypeName switch
        {
            "F32" => SafeDType.F32,
            "F16" => SafeDType.F16,
            "BF16" => SafeDType.BF16,
            "F64" => SafeDType.F64,
            _ => null,
        };
        if (parsed is not { } dtype)
        {
            if (KnownUnsupported.Contains(dtypeName))
                throw Error(path, $"tensor {Q(name)} has dtype {dtypeName}, which this float32 library does not read; supported dtypes: {SupportedList}.");
            throw Error(path, $"tensor {Q(name)} has unknown dtype {Q(dtypeName)}; supported dtypes: {SupportedList}.");
        }

        // shape: non-negative integers. libtorch lays a tensor out with int64 sizes and strides, so the product of the
        // dimensions, zeros counted as 1 (the largest stride times its size), must fit in an int64, as must the byte size.
        if (shapeJson.ValueKind != JsonValueKind.Array)
            throw Error(path, $"the \"shape\" of tensor {Q(name)} must be an array of non-negative integers, found {Kind(shapeJson)}.");
        var dims = new ulong[shapeJson.GetArrayLength()];
        int axis = 0;
        foreach (var d in shapeJson.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetUInt64(out ulong dim))
                throw Error(path, $"the \"shape\" of tensor {Q(name)} must hold non-negative integers, but axis {axis} is {Raw(d)}.");
            dims[axis++] = dim;
        }
        long extent = 1;
        bool overflow = false;
        foreach (ulong dim in dims)
        {
            if (dim > long.MaxValue) { overflow = true; break; }
            try { extent = checked(extent * Math.Max((long)dim, 1L)); }
            catch (OverflowException) { overflow = true; break; }
        }
        if (overflow)
            throw Error(path, $"the shape {FormatDims(dims)} of tensor {Q(name)} overflows: the product of its dimensions does not fit in a 64-bit signed integer (libtorch's size limit).");
        long count = Array.IndexOf(dims, 0UL) >= 0 ? 0 : extent;
        int size = SizeOf(dtype);
        long nbytes;
        try { nbytes = checked(count * size); }
        catch (OverflowException)
        {
            throw Error(path, $"the shape {FormatDims(dims)} of tensor {Q(name)} overflows: its element count times {size} bytes does not fit in 64 bits.");
        }

        // data_offsets: [begin, end] with begin <= end <= data buffer length and end - begin = nbytes
        if (offsetsJson.ValueKind != JsonValueKind.Array || offsetsJson.GetArrayLength() != 2)
            throw Error(path, $"the \"data_offsets\" of tensor {Q(name)} must be an array [begin, end] of two non-negative integers, found {Raw(offsetsJson)}.");
        ulong begin = 0, end = 0;
        int k = 0;
        foreach (var o in offsetsJson.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetUInt64(out ulong v))
                throw Error(path, $"the \"data_offsets\" of tensor {Q(name)} must be non-negative integers, found {Raw(o)}.");
            if (k++ == 0) begin = v; else end = v;
        }
        if (begin > end)
            throw Error(path, $"tensor {Q(name)} has data_offsets [{begin}, {end}] with begin > end.");
        if (end - begin != (ulong)nbytes)
            throw Error(path, $"tensor {Q(name)} of dtype {dtype} and shape {FormatDims(dims)} needs {nbytes} bytes, but its data_offsets [{begin}, {end}] span {end - begin}.");
        if (end > (ulong)dataBytes)
            throw Error(path, $"tensor {Q(name)} has data_offsets [{begin}, {end}] beyond the end of the {dataBytes}-byte data buffer (truncated file?).");

        var shape = Array.ConvertAll(dims, static d => (long)d);
        return new SafeTensorInfo(name, dtype, shape, (long)begin, (long)end, index);
    }

    private static JsonElement Once(JsonElement? existing, JsonElement value, string name, string key, string? path) =>
        existing is null ? value : throw Error(path, $"tensor {Q(name)} has the field \"{key}\" twice.");

    private static Dictionary<string, string>? ParseMetadata(JsonElement value, string? path)
    {
        if (value.ValueKind == JsonValueKind.Null) return null; // serde's Option: null means absent
        if (value.ValueKind != JsonValueKind.Object)
            throw Error(path, $"\"{MetadataKey}\" must be an object mapping strings to strings, found {Kind(value)}.");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in value.EnumerateObject())
        {
            string key = NameOf(p, path, $"a key of \"{MetadataKey}\"");
            if (p.Value.ValueKind != JsonValueKind.String)
                throw Error(path, $"\"{MetadataKey}\" must map strings to strings, but the value of {Q(key)} is {Kind(p.Value)}.");
            if (!map.TryAdd(key, StringOf(p.Value, path, $"the \"{MetadataKey}\" value of {Q(key)}")))
                throw Error(path, $"\"{MetadataKey}\" has the key {Q(key)} twice.");
        }
        return map;
    }

    // System.Text.Json throws InvalidOperationException for strings it cannot transcode (e.g. an escaped lone surrogate "\ud800").
    private static string NameOf(JsonProperty p, string? path, string what)
    {
        try { return p.Name; }
        catch (InvalidOperationException e) { throw Error(path, $"{what} is not a valid string ({e.Message}).", e); }
    }

    private static string StringOf(JsonElement e, string? path, string what)
    {
        try { return e.GetString()!; }
        catch (InvalidOperationException ex) { throw Error(path, $"{what} is not a valid string ({ex.Message}).", ex); }
    }

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[i..], out _, out int consumed) != System.Buffers.OperationStatus.Done) return i;
            i += consumed;
        }
        return -1;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Raw(JsonElement e)
    {
        string raw = e.GetRawText();
        return raw.Length <= 40 ? raw : raw[..40] + "…";
    }

    private static string FormatDims(ulong[] dims) => "[" + string.Join(", ", dims) + "]";

    /// <summary>A name quoted for a message: at most 80 characters, control characters shown as '?'.</summary>
    internal static string Q(string s)
    {
        var sb = new StringBuilder("'");
        foreach (char c in s.Length <= 80 ? s : s[..80])
            sb.Append(char.IsControl(c) ? '?' : c);
        if (s.Length > 80) sb.Append('…');
        return sb.Append('\'').ToString();
    }
}
