using System.Buffers.Binary;
using System.IO.Compression;

namespace Shrink.Tests.Data;

public static class DataFiles
{
    /// <summary>An IDX file: magic 00 00 type rank, big-endian dims, payload.</summary>
    public static byte[] Idx(byte type, int[] dims, byte[] payload)
    {
        var bytes = new byte[4 + 4 * dims.Length + payload.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), (uint)dims[i]);
        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] IdxImages(int n, int rows, int cols, int seed = 1)
    {
        var payload = new byte[n * rows * cols];
        new Random(seed).NextBytes(payload);
        return Idx(0x08, [n, rows, cols], payload);
    }

    public static byte[] IdxLabels(int n, int classes = 10) =>
        Idx(0x08, [n], Enumerable.Range(0, n).Select(i => (byte)(i % classes)).ToArray());

    public static byte[] Gzip(byte[] raw)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(raw);
        return ms.ToArray();
    }

    /// <summary>A CIFAR-10 binary file of n records; label i % 10, pixels from a seeded Random.</summary>
    public static byte[] Cifar(int n, int seed = 1)
    {
        var bytes = new byte[n * 3073];
        var rng = new Random(seed);
        for (int i = 0; i < n; i++)
        {
            bytes[i * 3073] = (byte)(i % 10);
            rng.NextBytes(bytes.AsSpan(i * 3073 + 1, 3072));
        }
        return bytes;
    }
}
