namespace Shrink.Tensors;

/// <summary>
/// A pool of float buffers keyed by exact length. A training step creates the same shapes every step,
/// so buffers returned by a <see cref="TensorScope"/> at the end of one step are handed back out in the
/// next and a steady-state step allocates almost nothing on the managed heap.
/// Rented buffers hold stale data; callers that need zeros clear them.
/// </summary>
public static class BufferPool
{
    private static readonly Dictionary<int, Stack<float[]>> Free = new();
    private static readonly Lock Gate = new();
    private static long _pooledFloats;

    /// <summary>Largest number of floats kept idle in the pool (default 1 Gi floats = 4 GiB); returns past it are dropped for the GC.</summary>
    public static long MaxPooledFloats { get; set; } = 1L << 30;

    /// <summary>Floats currently idle in the pool.</summary>
    public static long PooledFloats { get { lock (Gate) return _pooledFloats; } }

    /// <summary>A buffer of exactly <paramref name="length"/> floats, reused when one is idle, with stale contents.</summary>
    public static float[] Rent(int length)
    {
        if (length == 0) return [];
        lock (Gate)
        {
            if (Free.TryGetValue(length, out var stack) && stack.Count > 0)
            {
                _pooledFloats -= length;
                return stack.Pop();
            }
        }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>Gives a buffer back. The caller must hold no other reference to it.</summary>
    public static void Return(float[] buffer)
    {
        if (buffer.Length == 0) return;
        lock (Gate)
        {
            if (_pooledFloats + buffer.Length > MaxPooledFloats) return;
            if (!Free.TryGetValue(buffer.Length, out var stack)) Free[buffer.Length] = stack = new Stack<float[]>();
            stack.Push(buffer);
            _pooledFloats += buffer.Length;
        }
    }

    /// <summary>Drops every idle buffer (lets the GC reclaim them).</summary>
    public static void Clear()
    {
        lock (Gate) { Free.Clear(); _pooledFloats = 0; }
    }
}
