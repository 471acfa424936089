using System.Buffers.Binary;
using System.IO.Compression;

namespace Shrink.Data;

/// <summary>An unsigned-byte IDX array: its dimensions (outermost first) and its elements in row-major order.</summary>
/// <param name="Dims">The dimensions from the header, e.g. <c>[60000, 28, 28]</c> for images or <c>[60000]</c> for labels.</param>
/// <param name="Data">Π Dims bytes in row-major order.</param>
public sealed record IdxArray(int[] Dims, byte[] Data);

/// <summary>
/// Reads IDX files, the format of MNIST and Fashion-MNIST, raw or gzip-compressed.
/// <para>
/// Layout: a 4-byte magic <c>00 00 TT RR</c> (TT = element type, RR = rank), then RR big-endian u32
/// dimensions, then Π dims elements in row-major order. Shrink reads unsigned bytes (TT = 0x08):
/// magic 0x00000801 for labels (rank 1, <c>[N]</c>) and 0x00000803 for images (rank 3, <c>[N, rows, cols]</c>).
/// A file is gzip when it starts with the gzip magic 1F 8B, whatever its name.
/// </para>
/// <para>
/// Validation (every failure is a <see cref="DatasetFormatException"/> naming the file): the magic's two zero
/// bytes, the element type, the rank, each dimension in 1..<see cref="MaxDimension"/>, the product of the
/// dimensions (overflow-checked) at most <see cref="Array.MaxLength"/>, and a payload of exactly Π dims bytes
/// (truncated or trailing data is an error). Nothing is allocated from header values before the payload is
/// known to be that long: raw files are checked against their length; gzip streams are decompressed into a
/// buffer that grows with the data actually produced and stops one byte past the promised length, so a
/// gzip bomb cannot make the reader allocate more than the dimensions claim.
/// </para>
/// </summary>
public static class IdxReader
{
    /// <summary>Magic of an unsigned-byte rank-1 array (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Magic of an unsigned-byte rank-3 array (images: count, rows, columns).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Largest dimension accepted (2^30): any larger value is treated as a corrupt header.</summary>
    public const int MaxDimension = 1 << 30;

    private const int InitialGzipBuffer = 1 << 20;

    /// <summary>
    /// Reads an unsigned-byte IDX array of any rank 1..4, or exactly <paramref name="expectedRank"/> when given.
    /// </summary>
    /// <exception cref="DatasetFormatException">The file is not a well-formed unsigned-byte IDX file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IdxArray Read(string path, int? expectedRank = null)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        Span<byte> head = stackalloc byte[2];
        int got = ReadFull(file, head);
        bool gzip = got == 2 && head[0] == 0x1F && head[1] == 0x8B;
        file.Position = 0;
        if (!gzip) return ReadCore(path, file, expectedRank, rawLength: file.Length);
        try
        {
            using var gz = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
            return ReadCore(path, gz, expectedRank, rawLength: null);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(path, $"corrupt gzip stream ({e.Message})", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DatasetFormatException(path, $"the gzip stream could not be decompressed ({e.Message})", e);
        }
    }

    /// <summary>Reads images: magic 0x00000803, dims <c>[N, rows, cols]</c>.</summary>
    /// <exception cref="DatasetFormatException">The file is not a well-formed unsigned-byte rank-3 IDX file.</exception>
    public static IdxArray ReadImages(string path) => Read(path, expectedRank: 3);

    /// <summary>Reads labels: magic 0x00000801, dims <c>[N]</c>; returns the N label bytes.</summary>
    /// <exception cref="DatasetFormatException">The file is not a well-formed unsigned-byte rank-1 IDX file.</exception>
    public static byte[] ReadLabels(string path) => Read(path, expectedRank: 1).Data;

    /// <summary>
    /// Reads an image file and its label file into an <see cref="ImageDataset"/> of shape (N, 1, rows, cols).
    /// The two counts must agree, and every label must be below <paramref name="classNames"/>.Count.
    /// </summary>
    /// <exception cref="DatasetFormatException">A file is malformed, the counts differ (the message names both files and counts), or a label is out of range.</exception>
    public static ImageDataset ReadDataset(string imagesPath, string labelsPath, IReadOnlyList<string> classNames, string name, DatasetOrigin? origin = null)
    {
        var images = ReadImages(imagesPath);
        var labelBytes = ReadLabels(labelsPath);
        int n = images.Dims[0];
        if (labelBytes.Length != n)
            throw new DatasetFormatException(imagesPath,
                $"has {n} images but the label file {labelsPath} has {labelBytes.Length} labels; the counts must match.");
        var labels = new int[n];
        int classes = classNames.Count;
        for (int i = 0; i < n; i++)
        {
            int y = labelBytes[i];
            if (y >= classes)
                throw new DatasetFormatException(labelsPath, $"label {y} at index {i} is out of range 0..{classes - 1}.");
            labels[i] = y;
        }
        return new ImageDataset(name, images.Data, labels, 1, images.Dims[1], images.Dims[2], classNames,
            origin ?? new DatasetOrigin(DatasetOriginKind.Folder, Path.GetDirectoryName(Path.GetFullPath(imagesPath)) ?? ".", $"IDX files {imagesPath}, {labelsPath}"));
    }

    private static string TypeName(byte t) => t switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "unknown",
    };

    private static IdxArray ReadCore(string path, Stream s, int? expectedRank, long? rawLength)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = ReadFull(s, magic);
        if (got < 4)
            throw new DatasetFormatException(path, $"file ends after {got} bytes, inside the 4-byte IDX magic.");
        if (magic[0] != 0 || magic[1] != 0)
            throw new DatasetFormatException(path,
                $"magic 0x{BinaryPrimitives.ReadUInt32BigEndian(magic):X8} is not an IDX magic (expected 0x{LabelsMagic:X8} for labels or 0x{ImagesMagic:X8} for images; the first two bytes must be 0).");
        byte type = magic[2];
        if (type != 0x08)
            throw new DatasetFormatException(path,
                $"magic 0x{BinaryPrimitives.ReadUInt32BigEndian(magic):X8}: element type 0x{type:X2} ({TypeName(type)}) is not supported; expected 0x08 (unsigned byte).");
        int rank = magic[3];
        if (expectedRank is int want && rank != want)
            throw new DatasetFormatException(path,
                $"magic 0x{BinaryPrimitives.ReadUInt32BigEndian(magic):X8} has rank {rank}; expected rank {want} (magic 0x{0x0800 | want:X8}).");
        if (rank < 1 || rank > 4)
            throw new DatasetFormatException(path, $"rank {rank} is not supported (1..4).");

        Span<byte> dimBytes = stackalloc byte[4 * rank];
        got = ReadFull(s, dimBytes);
        if (got < dimBytes.Length)
            throw new DatasetFormatException(path, $"file ends inside the header: {rank} dimensions need {dimBytes.Length} bytes after the magic, found {got}.");
        var dims = new int[rank];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.Slice(4 * i, 4));
            if (d == 0 || d > MaxDimension)
                throw new DatasetFormatException(path, $"dimension {i} is {d}; each dimension must be in 1..{MaxDimension}.");
            dims[i] = (int)d;
            total = checked(total * d);     // ≤ 2^30 · 2^30 … stays far inside long before the bound check below
            if (total > Array.MaxLength)
                throw new DatasetFormatException(path, $"dimensions {FormatDims(dimBytes, rank)} describe more than {Array.MaxLength} elements.");
        }
        int n = (int)total;
        long headerLength = 4 + 4L * rank;

        if (rawLength is long length)
        {
            long payload = length - headerLength;
            if (payload < n)
                throw new DatasetFormatException(path, $"payload truncated: dimensions {Dims(dims)} need {n} bytes after the {headerLength}-byte header, the file has {payload}.");
            if (payload > n)
                throw new DatasetFormatException(path, $"{payload - n} trailing bytes after the {n}-byte payload of dimensions {Dims(dims)}.");
            var data = GC.AllocateUninitializedArray<byte>(n);
            got = ReadFull(s, data);
            if (got < n)
                throw new DatasetFormatException(path, $"payload truncated while reading: expected {n} bytes, read {got}.");
            return new IdxArray(dims, data);
        }

        // gzip: the decompressed length is unknown until the end; grow with the data actually produced.
        var buffer = new byte[Math.Min(n, InitialGzipBuffer)];
        int filled = 0;
        while (filled < n)
        {
            if (filled == buffer.Length)
                Array.Resize(ref buffer, (int)Math.Min(n, 2L * buffer.Length));
            int r = s.Read(buffer, filled, buffer.Length - filled);
            if (r == 0) break;
            filled += r;
        }
        if (filled < n)
            throw new DatasetFormatException(path, $"payload truncated: dimensions {Dims(dims)} need {n} bytes after the {headerLength}-byte header, the decompressed stream has {filled}.");
        Span<byte> probe = stackalloc byte[1];
        if (s.Read(probe) > 0)
            throw new DatasetFormatException(path, $"trailing data after the {n}-byte payload of dimensions {Dims(dims)} in the decompressed stream.");
        return new IdxArray(dims, buffer);
    }

    private static string Dims(int[] dims) => "[" + string.Join(", ", dims) + "]";

    private static string FormatDims(ReadOnlySpan<byte> dimBytes, int rank)
    {
        var parts = new string[rank];
        for (int i = 0; i < rank; i++) parts[i] = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.Slice(4 * i, 4)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    internal static int ReadFull(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int r = s.Read(buffer[total..]);
            if (r == 0) break;
            total += r;
        }
        return total;
    }
}
