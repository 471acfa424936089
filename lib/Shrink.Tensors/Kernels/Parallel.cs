namespace Shrink.Tensors.Kernels;

/// <summary>Splits element-wise work across cores when it is large enough to pay for the hand-off.</summary>
internal static class ParallelChunks
{
    /// <summary>Below this many elements of cheap work a second thread costs more than it saves.</summary>
    public const int MinParallelElements = 1 << 15;

    /// <summary>Calls <paramref name="body"/>(start, length) over [0, n) in up to ProcessorCount contiguous chunks.</summary>
    public static void For(int n, int minPerChunk, Action<int, int> body)
    {
        if (n / Math.Max(minPerChunk, 1) <= 1) { if (n > 0) body(0, n); return; }
        Split(n, minPerChunk, body);
    }

    // Separate so that the closure below is only allocated when the work is actually split.
    private static void Split(int n, int minPerChunk, Action<int, int> body)
    {
        int chunks = Math.Min(Environment.ProcessorCount, n / Math.Max(minPerChunk, 1));
        if (chunks <= 1) { if (n > 0) body(0, n); return; }
        int per = (n + chunks - 1) / chunks;
        WorkerPool.For(chunks, c =>
        {
            int start = c * per;
            int len = Math.Min(per, n - start);
            if (len > 0) body(start, len);
        });
    }
}
