namespace Shrink.Data;

/// <summary>
/// Reads the binary version of CIFAR-10 (<c>data_batch_1.bin</c> … <c>data_batch_5.bin</c>, <c>test_batch.bin</c>).
/// <para>
/// A file is a sequence of 3073-byte records: one label byte (0..9) followed by 3072 pixel bytes, the R, G and
/// B planes of a 32×32 image, each plane row-major — already the (C, H, W) layout Shrink uses. The file length
/// must be a positive multiple of 3073 and every label must be in 0..9; a violation is a
/// <see cref="DatasetFormatException"/> naming the file (and the record for a bad label).
/// </para>
/// </summary>
public static class Cifar10Reader
{
    /// <summary>Bytes in one image: 3 channels × 32 × 32.</summary>
    public const int ImageBytes = 3 * 32 * 32;

    /// <summary>Bytes in one record: the label byte plus <see cref="ImageBytes"/>.</summary>
    public const int RecordBytes = 1 + ImageBytes;

    /// <summary>Number of CIFAR-10 classes; labels are 0..9.</summary>
    public const int NumClasses = 10;

    /// <summary>Number of records in a file, validating its length (a positive multiple of <see cref="RecordBytes"/>).</summary>
    /// <exception cref="DatasetFormatException">The length is 0 or not a multiple of 3073.</exception>
    public static int CountRecords(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"CIFAR-10 file not found: {path}", path);
        long length = info.Length;
        if (length == 0)
            throw new DatasetFormatException(path, "the file is empty; a CIFAR-10 binary file holds 3073-byte records (1 label byte + 3072 pixel bytes).");
        if (length % RecordBytes != 0)
            throw new DatasetFormatException(path,
                $"length {length} is not a multiple of the {RecordBytes}-byte CIFAR-10 record ({length / RecordBytes} whole records and {length % RecordBytes} extra bytes).");
        if (length / RecordBytes > Array.MaxLength / ImageBytes)
            throw new DatasetFormatException(path, $"length {length} holds more records than fit in memory.");
        return (int)(length / RecordBytes);
    }

    /// <summary>Reads one CIFAR-10 binary file into a dataset of shape (N, 3, 32, 32).</summary>
    /// <exception cref="DatasetFormatException">Bad length or a label outside 0..9.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ImageDataset Read(string path)
    {
        int n = CountRecords(path);
        var pixels = GC.AllocateUninitializedArray<byte>(n * ImageBytes);
        var labels = new int[n];
        ReadInto(path, n, pixels, labels);
        return new ImageDataset(Path.GetFileName(path), pixels, labels, 3, 32, 32, Cifar10.ClassNames,
            new DatasetOrigin(DatasetOriginKind.Folder, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", $"CIFAR-10 binary file {path}"));
    }

    /// <summary>Reads <paramref name="records"/> records of <paramref name="path"/> into the destination spans.</summary>
    internal static void ReadInto(string path, int records, Span<byte> pixels, Span<int> labels)
    {
        const int Chunk = 256;
        var buffer = new byte[Chunk * RecordBytes];
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        for (int start = 0; start < records; start += Chunk)
        {
            int count = Math.Min(Chunk, records - start);
            int want = count * RecordBytes;
            int got = IdxReader.ReadFull(file, buffer.AsSpan(0, want));
            if (got < want)
                throw new DatasetFormatException(path, $"the file ended while reading record {start + got / RecordBytes} (it changed while being read?).");
            for (int r = 0; r < count; r++)
            {
                var record = buffer.AsSpan(r * RecordBytes, RecordBytes);
                int label = record[0];
                int index = start + r;
                if (label >= NumClasses)
                    throw new DatasetFormatException(path,
                        $"record {index} (byte offset {(long)index * RecordBytes}) has label {label}; CIFAR-10 labels are 0..9.");
                labels[index] = label;
                record[1..].CopyTo(pixels.Slice(index * ImageBytes, ImageBytes));
            }
        }
    }
}
