using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.IO;

/// <summary>
/// Reads and writes Hugging Face <c>safetensors</c> files, the format PyTorch, timm and transformers share weights in.
/// <para>
/// Layout: an 8-byte little-endian u64 N; N bytes of UTF-8 JSON mapping each tensor name to
/// <c>{"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}</c> (offsets relative to the data buffer),
/// plus an optional <c>"__metadata__"</c> object of string → string; then the data buffer, row-major,
/// little-endian. The writer pads the header with spaces to a multiple of 8 bytes, as the official writer does,
/// so the data starts 8-byte aligned.
/// </para>
/// <para>
/// Writing stores float32 (<c>F32</c>). Reading accepts <c>F32</c>, <c>F16</c> (IEEE half), <c>BF16</c>
/// (the upper 16 bits of a float32) and <c>F64</c>, and converts every tensor to float32 exactly
/// (F16 and BF16 widen losslessly; F64 rounds to nearest). Loaded tensors are contiguous CPU tensors that belong
/// to the caller and to no <see cref="DisposeScope"/> (a scope open around <see cref="Load(string)"/> does not free them):
/// dispose them when done (e.g. after <c>LoadStateDictChecked</c> copied them into a module), or the GC's finalizer
/// frees them later. Move them with <c>.to(device)</c>.
/// </para>
/// <para>
/// Writing accepts tensors of any real dtype on any device: each is detached, copied to the CPU and converted to
/// float32 for writing (integer values beyond 2²⁴ round; a CUDA tensor is copied to the host). Complex tensors are refused.
/// </para>
/// <para>
/// Reading validates the whole header before allocating anything for the data, with the official Rust crate's
/// rules (see <see cref="SafeTensorsFormatException"/>): a hostile or corrupt file produces that exception and
/// nothing else, and allocates no more than about twice the file's size.
/// </para>
/// </summary>
public static class SafeTensors
{
    /// <summary>The largest header (N) a reader accepts: 100 MB, the official implementation's limit.</summary>
    public const long MaxHeaderBytes = SafeTensorsHeader.MaxHeaderBytes;

    /// <summary>The dtypes <see cref="Load(string)"/> reads: F32, F16, BF16 and F64.</summary>
    public static IReadOnlyList<string> SupportedDTypes { get; } = Enum.GetNames<SafeDType>();

    private const int ChunkBytes = 1 << 20;
    private const long ChunkFloats = ChunkBytes / sizeof(float);

    // ------------------------------------------------------------------------------------------- writing

    /// <summary>
    /// Writes <paramref name="tensors"/> as float32 to <paramref name="path"/>, atomically: the bytes go to a
    /// temporary file in the same folder, which is flushed to disk and then renamed over <paramref name="path"/>.
    /// A failure at any point leaves an existing file at <paramref name="path"/> untouched and removes the temporary file.
    /// </summary>
    /// <param name="path">The file to create or replace. Its folder must exist.</param>
    /// <param name="tensors">Name → tensor. Data is laid out in enumeration order with contiguous increasing
    /// offsets; non-contiguous views are written in logical row-major order.</param>
    /// <param name="metadata">Optional string → string map stored under <c>"__metadata__"</c> (keys sorted, as the official writer does).</param>
    /// <exception cref="ArgumentException">A name is <c>"__metadata__"</c>, a name or metadata string is not valid UTF-16, or the header would exceed <see cref="MaxHeaderBytes"/>.</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var prepared = Prepare(tensors, metadata); // validates before the file system is touched
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"SafeTensors.Save: '{path}' has no parent folder.", nameof(path));
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Write(stream, prepared);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Writes the safetensors bytes of <paramref name="tensors"/> (float32) to <paramref name="stream"/> at its current position.</summary>
    /// <inheritdoc cref="Save(string, IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, string}?)"/>
    public static void Save(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Write(stream, Prepare(tensors, metadata));
    }

    /// <summary>The safetensors bytes of <paramref name="tensors"/> (float32) as one array.</summary>
    /// <inheritdoc cref="Save(string, IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, string}?)"/>
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var prepared = Prepare(tensors, metadata);
        long total = SafeTensorsHeader.PrefixBytes + prepared.Header.Length + prepared.DataBytes;
        if (total > Array.MaxLength)
            throw new ArgumentException($"SafeTensors.Serialize: {total} bytes do not fit in one array; use Save to a file or stream.", nameof(tensors));
        var ms = new MemoryStream((int)total);
        Write(ms, prepared);
        return ms.GetBuffer().Length == total ? ms.GetBuffer() : ms.ToArray();
    }

    private sealed record Item(string Name, Tensor Tensor, long[] Shape);

    private sealed record Prepared(byte[] Header, List<Item> Items, long DataBytes);

    /// <summary>Snapshots the entries, checks names and builds the padded header, all before anything is written.</summary>
    private static Prepared Prepare(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var items = new List<Item>(tensors.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var kv in tensors)
        {
            if (kv.Key is null) throw new ArgumentException("SafeTensors.Save: a tensor name is null.", nameof(tensors));
            if (kv.Value is null) throw new ArgumentException($"SafeTensors.Save: tensor {SafeTensorsHeader.Q(kv.Key)} is null.", nameof(tensors));
            if (kv.Key == SafeTensorsHeader.MetadataKey) throw new ArgumentException($"SafeTensors.Save: \"{SafeTensorsHeader.MetadataKey}\" is reserved for metadata and cannot name a tensor.", nameof(tensors));
            CheckUtf16(kv.Key, "tensor name", nameof(tensors));
            if (!names.Add(kv.Key)) throw new ArgumentException($"SafeTensors.Save: tensor name {SafeTensorsHeader.Q(kv.Key)} appears twice.", nameof(tensors));
            if (kv.Value.is_complex()) throw new ArgumentException($"SafeTensors.Save: tensor {SafeTensorsHeader.Q(kv.Key)} is complex ({kv.Value.dtype}); only real tensors can be written as F32.", nameof(tensors));
            items.Add(new(kv.Key, kv.Value, kv.Value.shape)); // reading the shape also fails fast on a disposed tensor
        }

        // {"__metadata__":{...},"name":{"dtype":"F32","shape":[..],"data_offsets":[b,e]},...}, compact like serde_json
        var json = new StringBuilder("{");
        bool first = true;
        if (metadata is not null)
        {
            var entries = new List<KeyValuePair<string, string>>();
            foreach (var kv in metadata)
            {
                if (kv.Key is null || kv.Value is null) throw new ArgumentException("SafeTensors.Save: metadata keys and values must not be null.", nameof(metadata));
                CheckUtf16(kv.Key, "metadata key", nameof(metadata));
                CheckUtf16(kv.Value, "metadata value", nameof(metadata));
                entries.Add(kv);
            }
            entries.Sort(static (a, b) => CompareUtf8(a.Key, b.Key)); // the official writer sorts metadata (BTreeMap)
            AppendString(json, SafeTensorsHeader.MetadataKey).Append(":{");
            for (int i = 0; i < entries.Count; i++)
            {
                if (i > 0) json.Append(',');
                AppendString(json, entries[i].Key).Append(':');
                AppendString(json, entries[i].Value);
            }
            json.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var (name, _, shape) in items)
        {
            if (!first) json.Append(',');
            first = false;
            long numel = 1;
            foreach (long d in shape) numel *= d;
            long bytes = 4L * numel;
            AppendString(json, name).Append(":{\"dtype\":\"F32\",\"shape\":[");
            for (int i = 0; i < shape.Length; i++)
            {
                if (i > 0) json.Append(',');
                json.Append(shape[i].ToString(CultureInfo.InvariantCulture));
            }
            json.Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append((offset + bytes).ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset += bytes;
        }
        json.Append('}');

        int length = Encoding.UTF8.GetByteCount(json.ToString());
        long padded = (length + 7L) / 8 * 8;
        if (padded > MaxHeaderBytes)
            throw new ArgumentException($"SafeTensors.Save: the header would be {padded} bytes, more than the {MaxHeaderBytes}-byte limit readers accept.", nameof(tensors));
        var header = new byte[padded];
        Encoding.UTF8.GetBytes(json.ToString(), header);
        header.AsSpan(length).Fill((byte)' ');
        return new Prepared(header, items, offset);
    }

    private static void Write(Stream stream, Prepared prepared)
    {
        EnsureLittleEndian();
        Span<byte> prefix = stackalloc byte[SafeTensorsHeader.PrefixBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)prepared.Header.Length);
        stream.Write(prefix);
        stream.Write(prepared.Header);
        foreach (var item in prepared.Items)
        {
            if (item.Shape.Contains(0)) continue;
            // The float32 CPU copy (the tensor itself when it already is one) and its chunks are freed with this scope.
            using var scope = NewDisposeScope();
            var flat = item.Tensor.detach().cpu().to(ScalarType.Float32).contiguous().reshape(-1);   // (numel)
            long n = flat.shape[0];
            for (long i = 0; i < n; i += ChunkFloats)
            {
                using var part = flat.narrow(0, i, Math.Min(ChunkFloats, n - i));   // (≤ ChunkFloats), contiguous
                stream.Write(part.bytes);
            }
        }
    }

    /// <summary>JSON string with serde_json's escaping: \" \\ \b \f \n \r \t, other controls as \u00xx, everything else raw UTF-8.</summary>
    private static StringBuilder AppendString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
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
                    if (c < 0x20) sb.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"');
    }

    private static void CheckUtf16(string s, string what, string param)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i]))
                throw new ArgumentException($"SafeTensors.Save: {what} {SafeTensorsHeader.Q(s)} has an unpaired surrogate at index {i} and cannot be written as UTF-8.", param);
        }
    }

    private static int CompareUtf8(string a, string b) =>
        Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b));

    // ------------------------------------------------------------------------------------------- reading

    /// <summary>
    /// Loads every tensor of a safetensors file as float32. The dictionary enumerates the tensors in the order of
    /// their data in the file (ascending data_offsets), which for files written by <see cref="Save(string, IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, string}?)"/>
    /// is the order they were saved in (a <see cref="Dictionary{TKey, TValue}"/> that nothing was removed from enumerates
    /// in insertion order). Names are compared ordinally.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The file is not valid safetensors; the message names the file and the problem.</exception>
    /// <exception cref="IOException">The file cannot be read (e.g. <see cref="FileNotFoundException"/>).</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return LoadSeekable(stream, stream.Length, path);
    }

    /// <summary>Loads every tensor from safetensors bytes in memory (order as for <see cref="Load(string)"/>).</summary>
    /// <exception cref="SafeTensorsFormatException">The bytes are not valid safetensors.</exception>
    public static Dictionary<string, Tensor> Load(ReadOnlySpan<byte> bytes)
    {
        int headerBytes = SafeTensorsHeader.ReadHeaderLength(bytes[..Math.Min(bytes.Length, SafeTensorsHeader.PrefixBytes)], bytes.Length, null);
        int dataStart = SafeTensorsHeader.PrefixBytes + headerBytes;
        var header = SafeTensorsHeader.Parse(bytes[SafeTensorsHeader.PrefixBytes..dataStart].ToArray(), bytes.Length - dataStart, null);
        var data = bytes[dataStart..];
        var result = new Dictionary<string, Tensor>(header.Tensors.Count, StringComparer.Ordinal);
        try
        {
            foreach (var info in header.Tensors)
            {
                var t = NewTensor(info, result);
                using var flat = t.view(-1);   // (numel)
                long n = flat.shape[0];
                int size = SafeTensorsHeader.SizeOf(info.Kind);
                var src = data[(int)info.DataBegin..(int)info.DataEnd];
                for (long i = 0; i < n; i += ChunkFloats)
                {
                    int count = (int)Math.Min(ChunkFloats, n - i);
                    using var part = flat.narrow(0, i, count);   // (count), contiguous
                    Decode(info.Kind, src.Slice((int)i * size, count * size), MemoryMarshal.Cast<byte, float>(part.bytes));
                }
            }
        }
        catch
        {
            DisposeAll(result);
            throw;
        }
        return result;
    }

    /// <summary>
    /// Loads every tensor from <paramref name="stream"/>, which holds one safetensors file from its current position
    /// to its end (order as for <see cref="Load(string)"/>). A non-seekable stream is first read to its end into memory.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The bytes are not valid safetensors.</exception>
    public static Dictionary<string, Tensor> Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.CanSeek) return LoadSeekable(stream, stream.Length - stream.Position, null);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Load(copy.GetBuffer().AsSpan(0, (int)copy.Length));
    }

    /// <summary>The <c>"__metadata__"</c> map of a safetensors file (empty when it has none); reads and validates only the header.</summary>
    /// <exception cref="SafeTensorsFormatException">The file is not valid safetensors.</exception>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path) =>
        (IReadOnlyDictionary<string, string>?)ReadHeader(path).Metadata ?? new Dictionary<string, string>();

    /// <summary>The tensor entries of a safetensors file (name, dtype, shape, byte range) in data order, without loading any data.</summary>
    /// <exception cref="SafeTensorsFormatException">The file is not valid safetensors.</exception>
    public static IReadOnlyList<SafeTensorInfo> ReadTensorInfos(string path) => ReadHeader(path).Tensors.AsReadOnly();

    private static SafeTensorsHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        return ReadHeader(stream, stream.Length, path);
    }

    /// <summary>Reads prefix and header from the stream's current position; <paramref name="total"/> bytes remain in it.</summary>
    private static SafeTensorsHeader ReadHeader(Stream stream, long total, string? path)
    {
        Span<byte> prefix = stackalloc byte[SafeTensorsHeader.PrefixBytes];
        if (total >= SafeTensorsHeader.PrefixBytes) ReadExactly(stream, prefix, path);
        int n = SafeTensorsHeader.ReadHeaderLength(prefix, total, path); // bounded by total before allocating
        var headerBytes = new byte[n];
        ReadExactly(stream, headerBytes, path);
        return SafeTensorsHeader.Parse(headerBytes, total - SafeTensorsHeader.PrefixBytes - n, path);
    }

    private static Dictionary<string, Tensor> LoadSeekable(Stream stream, long total, string? path)
    {
        var header = ReadHeader(stream, total, path);
        var result = new Dictionary<string, Tensor>(header.Tensors.Count, StringComparer.Ordinal);
        // A conversion buffer for non-F32 data, no larger than the largest such tensor (so small files stay cheap).
        long convertBytes = 0;
        foreach (var info in header.Tensors)
            if (info.Kind != SafeDType.F32) convertBytes = Math.Max(convertBytes, info.DataEnd - info.DataBegin);
        int scratchBytes = (int)Math.Min(ChunkBytes, convertBytes);
        byte[]? scratch = scratchBytes > 0 ? ArrayPool<byte>.Shared.Rent(scratchBytes) : null;
        try
        {
            // The ranges tile the data buffer in this order, so the reads are sequential.
            foreach (var info in header.Tensors)
            {
                var t = NewTensor(info, result);
                ReadTensor(stream, info, t, scratch.AsSpan(0, scratchBytes), path);
            }
        }
        catch
        {
            DisposeAll(result);
            throw;
        }
        finally { if (scratch is not null) ArrayPool<byte>.Shared.Return(scratch); }
        return result;
    }

    /// <summary>
    /// An uninitialised float32 CPU tensor of <paramref name="info"/>'s shape, added to <paramref name="result"/> and
    /// taken out of the current dispose scope (the caller owns it).
    /// </summary>
    private static Tensor NewTensor(SafeTensorInfo info, Dictionary<string, Tensor> result)
    {
        TorchNative.EnsureLoaded();
        var t = empty(info.ShapeArray, ScalarType.Float32, CPU).DetachFromDisposeScope();   // the stored shape
        result.Add(info.Name, t);
        return t;
    }

    private static void DisposeAll(Dictionary<string, Tensor> tensors)
    {
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
    }

    /// <summary>Reads <paramref name="info"/>'s bytes from the stream into the float32 tensor <paramref name="t"/>, chunk by chunk.</summary>
    private static void ReadTensor(Stream stream, SafeTensorInfo info, Tensor t, Span<byte> scratch, string? path)
    {
        EnsureLittleEndian();
        using var flat = t.view(-1);   // (numel)
        long n = flat.shape[0];
        int size = SafeTensorsHeader.SizeOf(info.Kind);
        // F32 reads straight into the tensor; other dtypes go through scratch, which holds at least min(ChunkBytes, this tensor's bytes).
        long perChunk = info.Kind == SafeDType.F32 ? ChunkFloats : scratch.Length / size;
        for (long i = 0; i < n; i += perChunk)
        {
            int count = (int)Math.Min(perChunk, n - i);
            using var part = flat.narrow(0, i, count);   // (count), contiguous
            var dst = part.bytes;
            if (info.Kind == SafeDType.F32)
            {
                ReadExactly(stream, dst, path);
                continue;
            }
            var bytes = scratch[..(count * size)];
            ReadExactly(stream, bytes, path);
            Decode(info.Kind, bytes, MemoryMarshal.Cast<byte, float>(dst));
        }
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string? path)
    {
        while (buffer.Length > 0)
        {
            int read = stream.Read(buffer);
            if (read <= 0)
                throw SafeTensorsHeader.Error(path, "the file ended before all the bytes its length and header declare were read (it was truncated, or changed while being read).");
            buffer = buffer[read..];
        }
    }

    /// <summary>Converts little-endian <paramref name="src"/> elements of <paramref name="dtype"/> to float32.</summary>
    private static void Decode(SafeDType dtype, ReadOnlySpan<byte> src, Span<float> dst)
    {
        EnsureLittleEndian();
        switch (dtype)
        {
            case SafeDType.F32:
                src.CopyTo(MemoryMarshal.AsBytes(dst));
                break;
            case SafeDType.F16:
                var h = MemoryMarshal.Cast<byte, Half>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)h[i];   // exact: every half is a float
                break;
            case SafeDType.BF16:
                // bfloat16 is the upper half of a float32: widen by shifting the 16 bits up.
                var bf = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(bf[i] << 16);
                break;
            case SafeDType.F64:
                var d = MemoryMarshal.Cast<byte, double>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)d[i];
                break;
        }
    }

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors I/O assumes a little-endian machine.");
    }
}
