namespace Shrink.Tensors;

/// <summary>
/// A region whose tensors give their storage back to the <see cref="BufferPool"/> when it ends
/// (TorchSharp's <c>NewDisposeScope</c>). Every tensor created on this thread while the scope is the
/// innermost one is owned by it; <see cref="Dispose"/> releases them all, and touching a released
/// tensor throws <see cref="ObjectDisposedException"/>. Keep a result past the scope with
/// <see cref="Tensor.MoveToOuterScope"/> (or read it with <see cref="Tensor.Item"/> / <see cref="Tensor.ToArray"/> first).
/// <code>
/// for (int step = 0; step &lt; steps; step++)
/// {
///     using var scope = TensorScope.Begin();
///     var loss = Functional.CrossEntropy(model.Forward(x), y);
///     loss.Backward(); opt.Step(); lossValue = loss.Item();
/// }
/// </code>
/// Tensors created outside any scope (parameters, optimiser state, gradients of leaves) are ordinary
/// garbage-collected objects.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;
    private readonly TensorScope? _outer;
    private readonly List<Tensor> _owned = new(256);
    private bool _disposed;

    private TensorScope() { _outer = _current; _current = this; }

    /// <summary>Starts a scope on this thread; it becomes the innermost one until disposed.</summary>
    public static TensorScope Begin() => new();

    internal static TensorScope? Current => _current;

    /// <summary>
    /// Within the returned region no scope is current, so new tensors are ordinary garbage-collected objects
    /// (optimiser state and other long-lived tensors created inside a training step use this).
    /// </summary>
    public static SuspendRegion Suspend() => new(_current);

    /// <summary>Restores the suspended scope when disposed.</summary>
    public readonly struct SuspendRegion : IDisposable
    {
        private readonly TensorScope? _saved;
        internal SuspendRegion(TensorScope? saved) { _saved = saved; _current = null; }
        /// <summary>Makes the suspended scope current again.</summary>
        public void Dispose() => _current = _saved;
    }

    /// <summary>Number of tensors this scope owns now.</summary>
    public int Count => _owned.Count;

    internal void Register(Tensor t) => _owned.Add(t);

    /// <summary>Hands <paramref name="t"/> (and the tensor that owns its storage) to the enclosing scope, or to the GC when there is none.</summary>
    internal void Detach(Tensor t)
    {
        int i = _owned.LastIndexOf(t);
        if (i >= 0)
        {
            _owned[i] = _owned[^1];
            _owned.RemoveAt(_owned.Count - 1);
            _outer?.Register(t);
        }
    }

    /// <summary>Releases every tensor the scope still owns and restores the enclosing scope.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_current != this)
            throw new InvalidOperationException("TensorScope disposed out of order: dispose inner scopes before outer ones (use 'using var').");
        _current = _outer;
        foreach (var t in _owned) t.Release();
        _owned.Clear();
    }
}
