using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using Shrink.Tensors.Formatting;

namespace Shrink.Tensors;

/// <summary>
/// A float32 n-dimensional array with reverse-mode autograd, named and shaped as in PyTorch.
/// <para>
/// Storage is a flat <c>float[]</c> with an offset and element strides. Views share storage and cost
/// nothing: <see cref="Reshape"/> / <see cref="View"/> of contiguous data, <see cref="Narrow"/> (slices),
/// <see cref="Transpose"/> / <see cref="Permute"/> and <see cref="Expand"/> (stride tricks). Every op accepts
/// non-contiguous inputs; kernels that need dense rows call <see cref="Contiguous"/>, which copies only
/// when needed. <see cref="MatMul(Tensor, Tensor)"/> reads a transposed last-two-axes view with no copy.
/// </para>
/// <para>
/// Autograd: an op whose input has <see cref="RequiresGrad"/> (and is not inside <see cref="NoGrad"/>) records
/// a <see cref="GradFn"/> on its output; <see cref="Backward"/> walks that tape in reverse topological
/// order and accumulates into <see cref="Grad"/> of the leaves.
/// </para>
/// <para>
/// In a notebook a tensor renders as an HTML preview (shape, flags, statistics, a table of values) through
/// <see cref="TensorFormatterSource"/>.
/// </para>
/// </summary>
[TypeFormatterSource(typeof(TensorFormatterSource), PreferredMimeTypes = ["text/html", "text/plain"])]
public partial class Tensor
{
    private float[]? _storage;          // null once released by its TensorScope
    private readonly int _offset;       // first element in _storage
    private readonly int[] _shape;
    private readonly int[] _strides;    // in elements; 0 on expanded axes
    private readonly Tensor? _base;     // the tensor owning _storage when this is a view
    private bool _pooled;               // _storage was rented from BufferPool and belongs to this tensor
    private bool _requiresGrad;
    private bool _retainGrad;
    internal GradFn? _gradFn;
    internal Tensor? _gradAccum;        // gradient flowing into a non-leaf during Backward

    internal Tensor(float[] storage, int offset, int[] shape, int[] strides, Tensor? viewOf, bool pooled)
    {
        _storage = storage; _offset = offset; _shape = shape; _strides = strides;
        _base = viewOf is null ? null : viewOf._base ?? viewOf;
        _pooled = pooled;
        Numel = ShapeUtil.Numel(shape);
        TensorScope.Current?.Register(this);
    }

    /// <summary>A new leaf sharing <paramref name="data"/>'s storage (used by <see cref="Nn.Parameter"/>).</summary>
    private protected Tensor(Tensor data)
        : this(data.Storage, data._offset, data._shape, data._strides, data.IsContiguous ? null : data, pooled: false)
    {
        if (!data.IsContiguous) throw new ArgumentException("A parameter must be contiguous.");
    }

    // ---------------------------------------------------------------- shape and storage

    /// <summary>The dimensions, outermost first (PyTorch <c>shape</c>).</summary>
    public IReadOnlyList<int> Shape => _shape;

    internal int[] ShapeArray => _shape;

    /// <summary>Element strides, outermost first (PyTorch <c>stride()</c>); 0 on broadcast (expanded) axes.</summary>
    public IReadOnlyList<int> Strides => _strides;

    /// <summary>Number of axes (PyTorch <c>dim()</c>).</summary>
    public int Rank => _shape.Length;

    /// <summary>Number of elements (PyTorch <c>numel()</c>).</summary>
    public int Numel { get; }

    /// <summary>Size of one axis; negative axes count from the end (PyTorch <c>size(dim)</c>).</summary>
    public int Size(int axis) => _shape[ShapeUtil.NormalizeAxis(axis, Rank, "Size")];

    /// <summary>True when the elements are laid out densely in row-major order (views may not be).</summary>
    public bool IsContiguous
    {
        get
        {
            if (Numel == 0) return true; // an empty tensor has no elements to lay out (as in PyTorch)
            int s = 1;
            for (int i = _shape.Length - 1; i >= 0; i--)
            {
                if (_shape[i] != 1 && _strides[i] != s) return false;
                s *= _shape[i];
            }
            return true;
        }
    }

    /// <summary>True when this tensor shares another tensor's storage.</summary>
    public bool IsView => _base is not null;

    internal float[] Storage => _storage ?? throw Released();

    /// <summary>True once the tensor's <see cref="TensorScope"/> released its storage.</summary>
    internal bool IsReleased => _storage is null;
    internal int Offset => _offset;

    private ObjectDisposedException Released() =>
        new(nameof(Tensor), $"This tensor {ShapeUtil.Format(_shape)} was released when its TensorScope ended; call MoveToOuterScope() on results you keep, or read them (Item/ToArray) inside the scope.");

    /// <summary>The elements of a contiguous tensor, in place. Writes go straight into the storage (no autograd).</summary>
    /// <exception cref="InvalidOperationException">The tensor is a non-contiguous view; call <see cref="Contiguous"/> first.</exception>
    public Span<float> AsSpan()
    {
        if (!IsContiguous) throw new InvalidOperationException($"AsSpan needs a contiguous tensor; this {ShapeUtil.Format(_shape)} view has strides {ShapeUtil.Format(_strides)}. Call Contiguous() first.");
        return Storage.AsSpan(_offset, Numel);
    }

    /// <summary>Copies the elements out in row-major order.</summary>
    public float[] ToArray()
    {
        if (IsContiguous) return AsSpan().ToArray();
        var result = new float[Numel];
        StridedCopy(this, result);
        return result;
    }

    /// <summary>The value of a one-element tensor (PyTorch <c>item()</c>).</summary>
    public float Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item() needs a tensor with one element; this one has shape {ShapeUtil.Format(_shape)}.");
        return Storage[_offset];
    }

    /// <summary>Reads one element by its full index.</summary>
    [System.Runtime.CompilerServices.IndexerName("ElementAt")]
    public float this[params int[] index]
    {
        get
        {
            if (index.Length != Rank) throw new ArgumentException($"Index of rank {index.Length} for a tensor of shape {ShapeUtil.Format(_shape)}.");
            int o = _offset;
            for (int i = 0; i < index.Length; i++)
            {
                int ix = index[i] < 0 ? index[i] + _shape[i] : index[i];
                if ((uint)ix >= (uint)_shape[i]) throw new IndexOutOfRangeException($"Index {index[i]} out of range for axis {i} of size {_shape[i]}.");
                o += ix * _strides[i];
            }
            return Storage[o];
        }
    }

    // ---------------------------------------------------------------- creation

    /// <summary>A contiguous tensor with uninitialised contents (from the pool inside a <see cref="TensorScope"/>).</summary>
    public static Tensor Empty(params int[] shape)
    {
        shape = (int[])shape.Clone();
        int n = ShapeUtil.Numel(shape);
        bool pooled = TensorScope.Current is not null;
        var data = pooled ? BufferPool.Rent(n) : (n == 0 ? [] : GC.AllocateUninitializedArray<float>(n));
        return new Tensor(data, 0, shape, ShapeUtil.ContiguousStrides(shape), null, pooled);
    }

    /// <summary>Zeros of the given shape.</summary>
    public static Tensor Zeros(params int[] shape) { var t = Empty(shape); t.AsSpan().Clear(); return t; }

    /// <summary>Ones of the given shape.</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, float value) { var t = Empty(shape); t.AsSpan().Fill(value); return t; }

    /// <summary>A 0-dimensional tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(float value) { var t = Empty(); t.Storage[0] = value; return t; }

    /// <summary>Zeros shaped like <paramref name="other"/>.</summary>
    public static Tensor ZerosLike(Tensor other) => Zeros(other._shape);

    /// <summary>Ones shaped like <paramref name="other"/>.</summary>
    public static Tensor OnesLike(Tensor other) => Ones(other._shape);

    /// <summary>Copies <paramref name="data"/> into a new tensor of the given shape (row-major).</summary>
    public static Tensor FromArray(ReadOnlySpan<float> data, params int[] shape)
    {
        if (shape.Length == 0 && data.Length != 1) shape = [data.Length];
        int n = ShapeUtil.Numel(shape);
        if (n != data.Length) throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {ShapeUtil.Format(shape)} ({n} elements).");
        var t = Empty(shape);
        data.CopyTo(t.AsSpan());
        return t;
    }

    /// <summary>Wraps <paramref name="data"/> without copying: the tensor and the array share memory.</summary>
    public static Tensor Wrap(float[] data, params int[] shape)
    {
        int n = ShapeUtil.Numel(shape);
        if (n != data.Length) throw new ArgumentException($"Wrap: {data.Length} values do not fill shape {ShapeUtil.Format(shape)} ({n} elements).");
        return new Tensor(data, 0, (int[])shape.Clone(), ShapeUtil.ContiguousStrides(shape), null, pooled: false);
    }

    /// <summary>0, 1, …, n−1 (PyTorch <c>arange(n)</c>).</summary>
    public static Tensor Arange(int n) => Arange(0, n, 1);

    /// <summary>start, start+step, … while &lt; end (or &gt; end for negative steps).</summary>
    public static Tensor Arange(float start, float end, float step = 1f)
    {
        if (step == 0) throw new ArgumentException("Arange: step must not be 0.");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var t = Empty(n);
        var s = t.AsSpan();
        for (int i = 0; i < n; i++) s[i] = start + i * step;
        return t;
    }

    /// <summary>Uniform samples in [0, 1) from <paramref name="generator"/> (default: <see cref="Generator.Default"/>).</summary>
    public static Tensor Rand(int[] shape, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = Empty(shape);
        var s = t.AsSpan();
        for (int i = 0; i < s.Length; i++) s[i] = g.NextFloat();
        return t;
    }

    /// <summary>Standard normal samples from <paramref name="generator"/> (default: <see cref="Generator.Default"/>).</summary>
    public static Tensor Randn(int[] shape, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = Empty(shape);
        var s = t.AsSpan();
        for (int i = 0; i < s.Length; i++) s[i] = (float)g.NextNormal();
        return t;
    }

    /// <summary>Reseeds <see cref="Generator.Default"/> (PyTorch <c>manual_seed</c>).</summary>
    public static void ManualSeed(ulong seed) => Generator.Default = new Generator(seed);

    // ---------------------------------------------------------------- in-place utilities (not recorded by autograd)

    /// <summary>Fills every element with <paramref name="value"/> in place; not recorded by autograd.</summary>
    public Tensor Fill_(float value)
    {
        if (IsContiguous) AsSpan().Fill(value);
        else FillStrided(value);
        return this;
    }

    private void FillStrided(float value) => ForEachOffset(o => Storage[o] = value);

    /// <summary>Sets every element to 0 in place; not recorded by autograd.</summary>
    public Tensor Zero_() => Fill_(0f);

    /// <summary>Copies <paramref name="source"/> (broadcast to this shape) into this tensor in place; not recorded by autograd.</summary>
    public Tensor CopyFrom(Tensor source)
    {
        if (!ShapeUtil.SameShape(source._shape, _shape))
        {
            var shape = ShapeUtil.Broadcast(_shape, source._shape, "CopyFrom");
            if (!ShapeUtil.SameShape(shape, _shape))
                throw new ArgumentException($"CopyFrom: source shape {ShapeUtil.Format(source._shape)} does not broadcast to {ShapeUtil.Format(_shape)}.");
            source = source.ExpandView(_shape);
        }
        if (IsContiguous) StridedCopy(source, AsSpan());
        else CopyIntoStrided(source, this);
        return this;
    }

    /// <summary>dst ← src element by element for two tensors of the same shape with any strides, row by row.</summary>
    private static void CopyIntoStrided(Tensor src, Tensor dst)
    {
        int n = dst.Numel;
        if (n == 0) return;
        int rank = dst.Rank;
        var ss = src.Storage; var ds = dst.Storage;
        int inner = dst._shape[rank - 1], si = src._strides[rank - 1], di = dst._strides[rank - 1];
        int rows = n / inner;
        var index = new int[Math.Max(rank - 1, 0)];
        int so = src._offset, dof = dst._offset;
        for (int r = 0; r < rows; r++)
        {
            if (si == 1 && di == 1) ss.AsSpan(so, inner).CopyTo(ds.AsSpan(dof, inner));
            else for (int i = 0, a = so, b = dof; i < inner; i++, a += si, b += di) ds[b] = ss[a];
            for (int ax = rank - 2; ax >= 0; ax--)
            {
                so += src._strides[ax]; dof += dst._strides[ax];
                if (++index[ax] < dst._shape[ax]) break;
                so -= src._strides[ax] * dst._shape[ax]; dof -= dst._strides[ax] * dst._shape[ax];
                index[ax] = 0;
            }
        }
    }

    private void ForEachOffset(Action<int> visit)
    {
        if (Numel == 0) return;
        var index = new int[Rank];
        int o = _offset;
        for (int n = 0; n < Numel; n++)
        {
            visit(o);
            for (int ax = Rank - 1; ax >= 0; ax--)
            {
                o += _strides[ax];
                if (++index[ax] < _shape[ax]) break;
                o -= _strides[ax] * _shape[ax];
                index[ax] = 0;
            }
        }
    }

    /// <summary>Copies a strided tensor into a dense row-major destination.</summary>
    internal static void StridedCopy(Tensor src, Span<float> dst)
    {
        int n = src.Numel;
        if (n == 0) return;
        var storage = src.Storage;
        if (src.IsContiguous) { storage.AsSpan(src._offset, n).CopyTo(dst); return; }
        int rank = src.Rank;
        int inner = src._shape[rank - 1], innerStride = src._strides[rank - 1];
        int rows = n / inner;
        var index = new int[Math.Max(rank - 1, 0)];
        int o = src._offset, d = 0;
        for (int r = 0; r < rows; r++)
        {
            if (innerStride == 1) { storage.AsSpan(o, inner).CopyTo(dst.Slice(d, inner)); d += inner; }
            else if (innerStride == 0) { dst.Slice(d, inner).Fill(storage[o]); d += inner; }
            else for (int i = 0, oi = o; i < inner; i++, oi += innerStride) dst[d++] = storage[oi];
            for (int ax = rank - 2; ax >= 0; ax--)
            {
                o += src._strides[ax];
                if (++index[ax] < src._shape[ax]) break;
                o -= src._strides[ax] * src._shape[ax];
                index[ax] = 0;
            }
        }
    }

    // ---------------------------------------------------------------- scopes

    /// <summary>Keeps this tensor alive past the current <see cref="TensorScope"/> (hands it to the enclosing scope, or the GC).</summary>
    public Tensor MoveToOuterScope()
    {
        var scope = TensorScope.Current;
        if (scope is not null) { scope.Detach(this); if (_base is not null) scope.Detach(_base); }
        return this;
    }

    internal void Release()
    {
        if (_pooled && _storage is not null) BufferPool.Return(_storage);
        _pooled = false;
        _storage = null;
        _gradFn = null;
        _gradAccum = null;
    }

    // ---------------------------------------------------------------- printing

    /// <summary>Shape, flags and a preview of the values, e.g. <c>Tensor[2, 3] requires_grad [[1, 2, 3], [4, 5, 6]]</c>.</summary>
    public override string ToString()
    {
        if (_storage is null) return $"Tensor{ShapeUtil.Format(_shape)} (released)";
        var sb = new StringBuilder("Tensor").Append(ShapeUtil.Format(_shape));
        if (_requiresGrad) sb.Append(" requires_grad");
        if (_gradFn is not null) sb.Append(" grad_fn=").Append(_gradFn.Name);
        sb.Append(' ');
        var values = ToArray();
        AppendPreview(sb, values, 0, 0);
        return sb.ToString();
    }

    private void AppendPreview(StringBuilder sb, float[] values, int axis, int start)
    {
        const int Edge = 3;
        if (Rank == 0) { sb.Append(Fmt(values[0])); return; }
        int n = _shape[axis];
        int step = 1;
        for (int i = axis + 1; i < Rank; i++) step *= _shape[i];
        sb.Append('[');
        for (int i = 0; i < n; i++)
        {
            if (n > 2 * Edge && i == Edge) { sb.Append("..., "); i = n - Edge; }
            if (axis == Rank - 1) sb.Append(Fmt(values[start + i]));
            else AppendPreview(sb, values, axis + 1, start + i * step);
            if (i < n - 1) sb.Append(", ");
        }
        sb.Append(']');
    }

    private static string Fmt(float v) => v.ToString("G5", CultureInfo.InvariantCulture);
}
