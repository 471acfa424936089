namespace Shrink.Tensors;

// Views: ops that return a tensor sharing storage with their input (no copy), each with its backward.
public partial class Tensor
{
    private Tensor ViewOf(int[] shape, int[] strides, int offset) => new(Storage, offset, shape, strides, this, pooled: false);

    /// <summary>A copy laid out densely, or this tensor itself when already contiguous (PyTorch <c>contiguous()</c>).</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        var y = Empty(_shape);
        StridedCopy(this, y.AsSpan());
        return Record(y, "Contiguous", [this], g => AccumulateGrad(g));
    }

    /// <summary>
    /// Same elements, new shape; one dimension may be −1 (inferred). A view when this tensor is contiguous,
    /// otherwise a contiguous copy (PyTorch <c>reshape</c>).
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        shape = InferShape(shape, "Reshape");
        if (ShapeUtil.SameShape(shape, _shape)) return this;
        var x = Contiguous();
        var y = x.ViewOf(shape, ShapeUtil.ContiguousStrides(shape), x._offset);
        return Record(y, "Reshape", [x], g => x.AccumulateGrad(g.Reshape(x._shape)));
    }

    /// <summary>Like <see cref="Reshape"/> but never copies: throws on a non-contiguous tensor (PyTorch <c>view</c>).</summary>
    public Tensor View(params int[] shape)
    {
        if (!IsContiguous) throw new InvalidOperationException($"View: tensor of shape {ShapeUtil.Format(_shape)} with strides {ShapeUtil.Format(_strides)} is not contiguous; use Reshape or Contiguous().");
        return Reshape(shape);
    }

    private int[] InferShape(int[] shape, string op)
    {
        shape = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == -1) { if (infer >= 0) throw new ArgumentException($"{op}: only one dimension may be -1 in {ShapeUtil.Format(shape)}."); infer = i; }
            else if (shape[i] < 0) throw new ArgumentException($"{op}: invalid dimension {shape[i]} in {ShapeUtil.Format(shape)}.");
            else known *= shape[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Numel % known != 0) throw new ArgumentException($"{op}: cannot reshape {ShapeUtil.Format(_shape)} ({Numel} elements) into {ShapeUtil.Format(shape)}.");
            shape[infer] = (int)(Numel / known);
        }
        if (ShapeUtil.Numel(shape) != Numel) throw new ArgumentException($"{op}: cannot reshape {ShapeUtil.Format(_shape)} ({Numel} elements) into {ShapeUtil.Format(shape)}.");
        return shape;
    }

    /// <summary>Merges axes <paramref name="startAxis"/>..<paramref name="endAxis"/> into one (PyTorch <c>flatten</c>).</summary>
    public Tensor Flatten(int startAxis = 0, int endAxis = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = ShapeUtil.NormalizeAxis(startAxis, Rank, "Flatten"), e = ShapeUtil.NormalizeAxis(endAxis, Rank, "Flatten");
        if (s > e) throw new ArgumentException($"Flatten: start axis {startAxis} comes after end axis {endAxis}.");
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(_shape[i]);
        int merged = 1;
        for (int i = s; i <= e; i++) merged *= _shape[i];
        shape.Add(merged);
        for (int i = e + 1; i < Rank; i++) shape.Add(_shape[i]);
        return Reshape(shape.ToArray());
    }

    /// <summary>Inserts an axis of size 1 at <paramref name="axis"/> (PyTorch <c>unsqueeze</c>).</summary>
    public Tensor Unsqueeze(int axis)
    {
        int a = ShapeUtil.NormalizeAxis(axis, Rank + 1, "Unsqueeze");
        var shape = _shape.ToList(); shape.Insert(a, 1);
        var strides = _strides.ToList(); strides.Insert(a, a < Rank ? _strides[a] * _shape[a] : 1);
        var y = ViewOf(shape.ToArray(), strides.ToArray(), _offset);
        return Record(y, "Unsqueeze", [this], g => AccumulateGrad(g.Reshape(_shape)));
    }

    /// <summary>Removes axis <paramref name="axis"/>, which must have size 1 (PyTorch <c>squeeze(dim)</c>).</summary>
    public Tensor Squeeze(int axis)
    {
        int a = ShapeUtil.NormalizeAxis(axis, Rank, "Squeeze");
        if (_shape[a] != 1) throw new ArgumentException($"Squeeze: axis {axis} of shape {ShapeUtil.Format(_shape)} has size {_shape[a]}, not 1.");
        var shape = _shape.ToList(); shape.RemoveAt(a);
        var strides = _strides.ToList(); strides.RemoveAt(a);
        var y = ViewOf(shape.ToArray(), strides.ToArray(), _offset);
        return Record(y, "Squeeze", [this], g => AccumulateGrad(g.Reshape(_shape)));
    }

    /// <summary>
    /// Elements <paramref name="start"/> … start+length−1 along <paramref name="axis"/>, as a view (PyTorch <c>narrow</c>).
    /// Slicing axis 0 of a contiguous tensor stays contiguous.
    /// </summary>
    public Tensor Narrow(int axis, int start, int length)
    {
        int a = ShapeUtil.NormalizeAxis(axis, Rank, "Narrow");
        if (start < 0) start += _shape[a];
        if (start < 0 || length < 0 || start + length > _shape[a])
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: [{start}, {start + length}) is outside axis {axis} of size {_shape[a]} (shape {ShapeUtil.Format(_shape)}).");
        var shape = (int[])_shape.Clone(); shape[a] = length;
        var y = ViewOf(shape, (int[])_strides.Clone(), _offset + start * _strides[a]);
        return Record(y, "Narrow", [this], g =>
        {
            var gx = Zeros(_shape);
            gx.NarrowInPlaceView(a, start, length).CopyFrom(g);
            AccumulateGrad(gx);
        });
    }

    private Tensor NarrowInPlaceView(int axis, int start, int length)
    {
        var shape = (int[])_shape.Clone(); shape[axis] = length;
        return ViewOf(shape, (int[])_strides.Clone(), _offset + start * _strides[axis]);
    }

    /// <summary>Rows <paramref name="start"/> … start+length−1 of axis 0 (a view).</summary>
    public Tensor Slice(int start, int length) => Narrow(0, start, length);

    /// <summary>The sub-tensor at <paramref name="index"/> of <paramref name="axis"/>, with that axis removed (PyTorch <c>select</c>).</summary>
    public Tensor Select(int axis, int index) => Narrow(axis, index, 1).Squeeze(axis);

    /// <summary>Swaps two axes, as a view (PyTorch <c>transpose</c>).</summary>
    public Tensor Transpose(int axis0, int axis1)
    {
        int a = ShapeUtil.NormalizeAxis(axis0, Rank, "Transpose"), b = ShapeUtil.NormalizeAxis(axis1, Rank, "Transpose");
        var perm = Enumerable.Range(0, Rank).ToArray();
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>The transpose of the last two axes (PyTorch <c>mT</c>).</summary>
    public Tensor MT => Transpose(-2, -1);

    /// <summary>Reorders axes: output axis i is input axis <c>dims[i]</c>, as a view (PyTorch <c>permute</c>).</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank) throw new ArgumentException($"Permute: {dims.Length} axes given for a tensor of rank {Rank} (shape {ShapeUtil.Format(_shape)}).");
        var seen = new bool[Rank];
        var shape = new int[Rank]; var strides = new int[Rank];
        var dn = new int[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int d = ShapeUtil.NormalizeAxis(dims[i], Rank, "Permute");
            if (seen[d]) throw new ArgumentException($"Permute: axis {dims[i]} repeated in {ShapeUtil.Format(dims)}.");
            seen[d] = true; dn[i] = d; shape[i] = _shape[d]; strides[i] = _strides[d];
        }
        var y = ViewOf(shape, strides, _offset);
        return Record(y, "Permute", [this], g =>
        {
            var inverse = new int[Rank];
            for (int i = 0; i < Rank; i++) inverse[dn[i]] = i;
            AccumulateGrad(g.Permute(inverse).Contiguous());
        });
    }

    /// <summary>Broadcasts size-1 axes (and new leading axes) to <paramref name="shape"/> without copying (PyTorch <c>expand</c>); −1 keeps a size.</summary>
    public Tensor Expand(params int[] shape)
    {
        shape = (int[])shape.Clone();
        int lead = shape.Length - Rank;
        if (lead < 0) throw new ArgumentException($"Expand: target {ShapeUtil.Format(shape)} has fewer axes than {ShapeUtil.Format(_shape)}.");
        for (int i = 0; i < Rank; i++) if (shape[lead + i] == -1) shape[lead + i] = _shape[i];
        var y = ExpandView(shape);
        return Record(y, "Expand", [this], g => AccumulateGrad(g.SumToShape(_shape)));
    }

    internal Tensor ExpandView(int[] shape)
    {
        int lead = shape.Length - Rank;
        if (lead < 0) throw new ArgumentException($"Expand: target {ShapeUtil.Format(shape)} has fewer axes than {ShapeUtil.Format(_shape)}.");
        var strides = new int[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            if (i < lead) { strides[i] = 0; continue; }
            int d = _shape[i - lead];
            if (d == shape[i]) strides[i] = _strides[i - lead];
            else if (d == 1) strides[i] = 0;
            else throw new ArgumentException($"Expand: cannot expand {ShapeUtil.Format(_shape)} to {ShapeUtil.Format(shape)} (axis {i}: {d} vs {shape[i]}).");
        }
        return ViewOf(shape, strides, _offset);
    }
}
