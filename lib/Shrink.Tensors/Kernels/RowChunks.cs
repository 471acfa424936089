using System.Numerics.Tensors;

namespace Shrink.Tensors.Kernels;

/// <summary>
/// Splits row-wise work (LayerNorm, losses, attention softmax) into a fixed number of contiguous chunks, one per core
/// at most. Because the chunking depends only on the problem size and the core count, per-chunk partial sums added in
/// chunk order give the same bits on every run.
/// </summary>
internal static class RowChunks
{
    /// <summary>How many chunks to cut <paramref name="rows"/> rows of <paramref name="cols"/> cheap elements into (1 when small).</summary>
    public static int Count(int rows, int cols)
    {
        long work = (long)rows * Math.Max(cols, 1);
        return (int)Math.Max(1, Math.Min(Math.Min(Environment.ProcessorCount, rows), work / ParallelChunks.MinParallelElements));
    }

    /// <summary>Rows [r0, r1) of chunk <paramref name="c"/> when <paramref name="rows"/> rows are cut into <paramref name="chunks"/> near-equal runs.</summary>
    public static (int R0, int R1) Range(int rows, int chunks, int c) =>
        ((int)((long)rows * c / chunks), (int)((long)rows * (c + 1) / chunks));

    /// <summary>Calls <paramref name="body"/>(r0, r1) for each chunk of <see cref="Count"/>(rows, cols), in parallel when there are several.</summary>
    public static void For(int rows, int cols, Action<int, int> body)
    {
        int chunks = Count(rows, cols);
        if (chunks == 1) { if (rows > 0) body(0, rows); return; }
        Split(rows, chunks, body);
    }

    // Separate so that the closure is only allocated when there are several chunks.
    private static void Split(int rows, int chunks, Action<int, int> body) =>
        WorkerPool.For(chunks, c => { var (r0, r1) = Range(rows, chunks, c); body(r0, r1); });

    /// <summary>dst[j] += Σ_r src[offset + r·cols + j] over a dense (rows, cols) block; columns are split across cores.</summary>
    public static void AddColumnSums(float[] src, int offset, int rows, int cols, float[] dst, int dstOffset = 0)
    {
        int minCols = (long)rows * cols >= ParallelChunks.MinParallelElements ? 64 : int.MaxValue;
        ParallelChunks.For(cols, minCols, (c0, cn) =>
        {
            var acc = dst.AsSpan(dstOffset + c0, cn);
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(acc, src.AsSpan(offset + r * cols + c0, cn), acc);
        });
    }
}
