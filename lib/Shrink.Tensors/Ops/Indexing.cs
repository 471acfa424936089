using System.Numerics.Tensors;

namespace Shrink.Tensors;

// Joining, splitting and indexing: Concat, Stack, Split, Chunk, IndexSelect, Gather, MaskedFill, Where.
public static partial class Functional
{
    private static string IndexingShapes(IEnumerable<Tensor> xs) => string.Join(", ", xs.Select(t => ShapeUtil.Format(t.ShapeArray)));

    // ---------------------------------------------------------------- Concat / Stack

    /// <summary>
    /// Joins tensors along an existing axis (PyTorch <c>torch.cat</c>): all inputs have the same rank and the same sizes
    /// except along <paramref name="axis"/>, where the output has the sum of their sizes. ∂xᵢ = the slice of g that xᵢ filled.
    /// </summary>
    /// <exception cref="ArgumentException">No inputs, or shapes that differ outside <paramref name="axis"/>; the message lists every shape.</exception>
    public static Tensor Concat(IReadOnlyList<Tensor> xs, int axis = 0)
    {
        if (xs.Count == 0) throw new ArgumentException("Concat: needs at least one tensor.");
        var s0 = xs[0].ShapeArray;
        if (s0.Length == 0) throw new ArgumentException($"Concat: zero-dimensional tensors cannot be concatenated (shapes {IndexingShapes(xs)}); use Stack.");
        int a = ShapeUtil.NormalizeAxis(axis, s0.Length, "Concat");
        int total = 0;
        foreach (var t in xs)
        {
            var s = t.ShapeArray;
            bool ok = s.Length == s0.Length;
            for (int i = 0; ok && i < s.Length; i++) ok = i == a || s[i] == s0[i];
            if (!ok) throw new ArgumentException($"Concat: shapes {IndexingShapes(xs)} must match except along axis {axis}.");
            total += s[a];
        }
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= s0[i];
        for (int i = a + 1; i < s0.Length; i++) inner *= s0[i];
        var shape = (int[])s0.Clone(); shape[a] = total;
        var y = Tensor.Empty(shape);
        var ys = y.AsSpan();
        int rowOut = total * inner, at = 0;
        var starts = new int[xs.Count];
        for (int t = 0; t < xs.Count; t++)
        {
            starts[t] = at;
            int block = xs[t].ShapeArray[a] * inner;
            var src = xs[t].Dense().AsSpan();
            for (int o = 0; o < outer; o++) src.Slice(o * block, block).CopyTo(ys.Slice(o * rowOut + at * inner, block));
            at += xs[t].ShapeArray[a];
        }
        var inputs = xs.ToArray();
        return Tensor.Record(y, "Concat", inputs, g =>
        {
            var gs = g.Dense().AsSpan();
            for (int t = 0; t < inputs.Length; t++)
            {
                if (!inputs[t].RequiresGrad) continue;
                int block = inputs[t].ShapeArray[a] * inner;
                var dx = Tensor.Empty(inputs[t].ShapeArray);
                var ds = dx.AsSpan();
                for (int o = 0; o < outer; o++) gs.Slice(o * rowOut + starts[t] * inner, block).CopyTo(ds.Slice(o * block, block));
                inputs[t].AccumulateGrad(dx);
            }
        });
    }

    /// <summary>
    /// Joins tensors of identical shape along a new axis inserted at <paramref name="axis"/> (PyTorch <c>torch.stack</c>):
    /// n inputs of shape S give (S[..axis], n, S[axis..]).
    /// </summary>
    /// <exception cref="ArgumentException">No inputs, or shapes that differ; the message lists every shape.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> xs, int axis = 0)
    {
        if (xs.Count == 0) throw new ArgumentException("Stack: needs at least one tensor.");
        foreach (var t in xs)
            if (!ShapeUtil.SameShape(t.ShapeArray, xs[0].ShapeArray))
                throw new ArgumentException($"Stack: all shapes must be equal, got {IndexingShapes(xs)}.");
        int a = ShapeUtil.NormalizeAxis(axis, xs[0].Rank + 1, "Stack");
        var expanded = new Tensor[xs.Count];
        for (int i = 0; i < xs.Count; i++) expanded[i] = xs[i].Unsqueeze(a);
        return Concat(expanded, a);
    }

    // ---------------------------------------------------------------- Split / Chunk

    /// <summary>
    /// Cuts x along <paramref name="axis"/> into pieces of <paramref name="splitSize"/> (the last one smaller when the size
    /// does not divide), as views (PyTorch <c>torch.split(x, int)</c>). Each piece's gradient flows back into its slice.
    /// </summary>
    public static Tensor[] Split(Tensor x, int splitSize, int axis = 0)
    {
        int a = ShapeUtil.NormalizeAxis(axis, x.Rank, "Split");
        int n = x.ShapeArray[a];
        if (splitSize <= 0 && n > 0) throw new ArgumentException($"Split: split size must be positive, got {splitSize} (shape {ShapeUtil.Format(x.ShapeArray)}).");
        if (n == 0) return [x.Narrow(a, 0, 0)];
        var pieces = new Tensor[(n + splitSize - 1) / splitSize];
        for (int i = 0; i < pieces.Length; i++) pieces[i] = x.Narrow(a, i * splitSize, Math.Min(splitSize, n - i * splitSize));
        return pieces;
    }

    /// <summary>Cuts x along <paramref name="axis"/> into pieces of the given <paramref name="sizes"/>, which must sum to its size there (PyTorch <c>torch.split(x, list)</c>); views.</summary>
    public static Tensor[] Split(Tensor x, int[] sizes, int axis = 0)
    {
        int a = ShapeUtil.NormalizeAxis(axis, x.Rank, "Split");
        long sum = 0;
        foreach (var s in sizes) { if (s < 0) sum = long.MinValue; sum += s; }
        if (sum != x.ShapeArray[a])
            throw new ArgumentException($"Split: sizes {ShapeUtil.Format(sizes)} must be non-negative and sum to {x.ShapeArray[a]}, the size of axis {axis} of {ShapeUtil.Format(x.ShapeArray)}.");
        var pieces = new Tensor[sizes.Length];
        for (int i = 0, at = 0; i < sizes.Length; at += sizes[i], i++) pieces[i] = x.Narrow(a, at, sizes[i]);
        return pieces;
    }

    /// <summary>
    /// Cuts x along <paramref name="axis"/> into at most <paramref name="chunks"/> views of ⌈size/chunks⌉ (PyTorch
    /// <c>torch.chunk</c>: the last may be smaller, and fewer chunks come back when the size does not allow that many).
    /// </summary>
    public static Tensor[] Chunk(Tensor x, int chunks, int axis = 0)
    {
        if (chunks <= 0) throw new ArgumentException($"Chunk: number of chunks must be positive, got {chunks}.");
        int a = ShapeUtil.NormalizeAxis(axis, x.Rank, "Chunk");
        int n = x.ShapeArray[a];
        return Split(x, Math.Max(1, (n + chunks - 1) / chunks), a);
    }

    // ---------------------------------------------------------------- IndexSelect / Gather

    /// <summary>
    /// Picks the entries <paramref name="index"/> along <paramref name="axis"/> (PyTorch <c>index_select</c>): y has x's shape
    /// with size index.Length on that axis and y[…, j, …] = x[…, index[j], …]. ∂x scatter-adds g back (repeats accumulate).
    /// </summary>
    /// <exception cref="ArgumentException">An index is outside [0, size); the message names it, its position and the shape.</exception>
    public static Tensor IndexSelect(Tensor x, int axis, int[] index)
    {
        int a = ShapeUtil.NormalizeAxis(axis, x.Rank, "IndexSelect");
        var xs = x.ShapeArray;
        int n = xs[a];
        for (int j = 0; j < index.Length; j++)
            if ((uint)index[j] >= (uint)n)
                throw new ArgumentException($"IndexSelect: index {index[j]} at position {j} is out of range for axis {axis} of size {n} (shape {ShapeUtil.Format(xs)}).");
        int outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= xs[i];
        for (int i = a + 1; i < xs.Length; i++) inner *= xs[i];
        var shape = (int[])xs.Clone(); shape[a] = index.Length;
        var y = Tensor.Empty(shape);
        var src = x.Dense().AsSpan(); var ys = y.AsSpan();
        int m = index.Length;
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < m; j++)
                src.Slice((o * n + index[j]) * inner, inner).CopyTo(ys.Slice((o * m + j) * inner, inner));
        return Tensor.Record(y, "IndexSelect", [x], g =>
        {
            var gs = g.Dense().AsSpan();
            var dx = Tensor.Zeros(xs); var ds = dx.AsSpan();
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < m; j++)
                {
                    var row = ds.Slice((o * n + index[j]) * inner, inner);
                    TensorPrimitives.Add(row, gs.Slice((o * m + j) * inner, inner), row);
                }
            x.AccumulateGrad(dx);
        });
    }

    /// <summary>
    /// PyTorch <c>torch.gather</c>: y has <paramref name="index"/>'s shape and, for axis = 1 of a 3-D x,
    /// y[i, j, k] = x[i, index[i, j, k], k]. <paramref name="index"/> is a float tensor of integer values with x's rank,
    /// size ≤ x's on every other axis; it receives no gradient. ∂x scatter-adds g to the gathered positions.
    /// </summary>
    /// <exception cref="ArgumentException">Ranks or sizes do not fit, or an index value is not an integer in [0, size).</exception>
    public static Tensor Gather(Tensor x, int axis, Tensor index)
    {
        var xs = x.ShapeArray; var isz = index.ShapeArray;
        int r = xs.Length;
        if (r == 0 || isz.Length != r)
            throw new ArgumentException($"Gather: input {ShapeUtil.Format(xs)} and index {ShapeUtil.Format(isz)} must have the same rank (at least 1).");
        int a = ShapeUtil.NormalizeAxis(axis, r, "Gather");
        for (int d = 0; d < r; d++)
            if (d != a && isz[d] > xs[d])
                throw new ArgumentException($"Gather: index {ShapeUtil.Format(isz)} is larger than input {ShapeUtil.Format(xs)} along axis {d} (only axis {axis} may differ freely).");
        var xst = ShapeUtil.ContiguousStrides(xs);
        var idx = index.Dense().AsSpan();
        int count = idx.Length;
        var offsets = new int[count];                                 // position in dense x of each output element
        var pos = new int[r];
        int baseOff = 0, n = xs[a];
        for (int i = 0; i < count; i++)
        {
            float f = idx[i]; int v = (int)f;
            if (v != f || v < 0 || v >= n)
            {
                var at = string.Join(", ", pos);
                throw new ArgumentException($"Gather: index value {f} at [{at}] is not an integer in [0, {n}) (input {ShapeUtil.Format(xs)}, axis {axis}, index {ShapeUtil.Format(isz)}).");
            }
            offsets[i] = baseOff + v * xst[a];
            for (int d = r - 1; d >= 0; d--)
            {
                if (d != a) baseOff += xst[d];
                if (++pos[d] < isz[d]) break;
                if (d != a) baseOff -= xst[d] * isz[d];
                pos[d] = 0;
            }
        }
        var y = Tensor.Empty(isz);
        var src = x.Dense().AsSpan(); var ys = y.AsSpan();
        for (int i = 0; i < count; i++) ys[i] = src[offsets[i]];
        return Tensor.Record(y, "Gather", [x], g =>
        {
            var gs = g.Dense().AsSpan();
            var dx = Tensor.Zeros(xs); var ds = dx.AsSpan();
            for (int i = 0; i < count; i++) ds[offsets[i]] += gs[i];
            x.AccumulateGrad(dx);
        });
    }

    // ---------------------------------------------------------------- MaskedFill / Where

    /// <summary>
    /// PyTorch <c>masked_fill</c>: y = <paramref name="value"/> where mask ≠ 0, else x. <paramref name="mask"/> is a 0/1 float
    /// tensor broadcastable to x's shape (y has x's shape). ∂x = g where mask = 0, else 0; the mask gets no gradient.
    /// </summary>
    /// <exception cref="ArgumentException">The mask does not broadcast to x's shape; the message names both shapes.</exception>
    public static Tensor MaskedFill(Tensor x, Tensor mask, float value)
    {
        var xs = x.ShapeArray;
        bool fits = mask.Rank <= x.Rank;
        for (int i = 0; fits && i < mask.Rank; i++)
        {
            int md = mask.ShapeArray[i], xd = xs[x.Rank - mask.Rank + i];
            fits = md == xd || md == 1;
        }
        if (!fits) throw new ArgumentException($"MaskedFill: mask {ShapeUtil.Format(mask.ShapeArray)} does not broadcast to input {ShapeUtil.Format(xs)}.");
        var md2 = ShapeUtil.SameShape(mask.ShapeArray, xs) ? mask.Dense() : mask.ExpandView(xs).Dense();
        var y = Tensor.Empty(xs);
        var src = x.Dense().AsSpan(); var ms = md2.AsSpan(); var ys = y.AsSpan();
        for (int i = 0; i < ys.Length; i++) ys[i] = ms[i] != 0f ? value : src[i];
        return Tensor.Record(y, "MaskedFill", [x], g =>
        {
            var gs = g.Dense().AsSpan();
            var dx = Tensor.Empty(xs); var ds = dx.AsSpan(); var m = md2.AsSpan();
            for (int i = 0; i < ds.Length; i++) ds[i] = m[i] != 0f ? 0f : gs[i];
            x.AccumulateGrad(dx);
        });
    }

    /// <summary>
    /// PyTorch <c>torch.where</c>: y = a where condition ≠ 0, else b; the three broadcast together.
    /// ∂a = g where condition ≠ 0 (summed over a's broadcast axes), ∂b = g elsewhere; the condition gets no gradient.
    /// </summary>
    /// <exception cref="ArgumentException">The three shapes cannot broadcast; the message names all three.</exception>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        var shapes = new[] { condition.ShapeArray, a.ShapeArray, b.ShapeArray };
        int rank = shapes.Max(s => s.Length);
        var shape = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int d = 1;
            foreach (var s in shapes)
            {
                int j = i - (rank - s.Length);
                int sd = j >= 0 ? s[j] : 1;
                if (sd == 1 || sd == d) continue;
                if (d != 1)
                    throw new ArgumentException($"Where: condition {ShapeUtil.Format(shapes[0])}, a {ShapeUtil.Format(shapes[1])} and b {ShapeUtil.Format(shapes[2])} cannot be broadcast together (axis {i}).");
                d = sd;
            }
            shape[i] = d;
        }
        Tensor Full(Tensor t) => ShapeUtil.SameShape(t.ShapeArray, shape) ? t.Dense() : t.ExpandView(shape).Dense();
        var cd = Full(condition);
        var y = Tensor.Empty(shape);
        var cs = cd.AsSpan(); var As = Full(a).AsSpan(); var bs = Full(b).AsSpan(); var ys = y.AsSpan();
        for (int i = 0; i < ys.Length; i++) ys[i] = cs[i] != 0f ? As[i] : bs[i];
        return Tensor.Record(y, "Where", [a, b], g =>
        {
            var gs = g.Dense().AsSpan(); var c = cd.AsSpan();
            if (a.RequiresGrad)
            {
                var da = Tensor.Empty(shape); var ds = da.AsSpan();
                for (int i = 0; i < ds.Length; i++) ds[i] = c[i] != 0f ? gs[i] : 0f;
                a.AccumulateGrad(da.SumToShape(a.ShapeArray));
            }
            if (b.RequiresGrad)
            {
                var db = Tensor.Empty(shape); var ds = db.AsSpan();
                for (int i = 0; i < ds.Length; i++) ds[i] = c[i] != 0f ? 0f : gs[i];
                b.AccumulateGrad(db.SumToShape(b.ShapeArray));
            }
        });
    }
}

public partial class Tensor
{
    /// <summary>This tensor with <paramref name="value"/> where <paramref name="mask"/> ≠ 0 (see <see cref="Functional.MaskedFill"/>).</summary>
    public Tensor MaskedFill(Tensor mask, float value) => Functional.MaskedFill(this, mask, value);

    /// <summary>Entries <paramref name="index"/> along <paramref name="axis"/> (see <see cref="Functional.IndexSelect"/>).</summary>
    public Tensor IndexSelect(int axis, int[] index) => Functional.IndexSelect(this, axis, index);

    /// <summary>PyTorch <c>gather</c> along <paramref name="axis"/> (see <see cref="Functional.Gather"/>).</summary>
    public Tensor Gather(int axis, Tensor index) => Functional.Gather(this, axis, index);

    /// <summary>Views of at most <paramref name="chunks"/> near-equal pieces along <paramref name="axis"/> (see <see cref="Functional.Chunk"/>).</summary>
    public Tensor[] Chunk(int chunks, int axis = 0) => Functional.Chunk(this, chunks, axis);
}
