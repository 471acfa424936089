using System.Numerics.Tensors;
using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

// Reductions (sum, mean, max, var) and the softmax family, each forward followed by its backward rule.
public partial class Tensor
{
    /// <summary>Sum of all elements, as a 0-d tensor. ∂ = g broadcast to every element.</summary>
    public Tensor Sum() => Sum(null, false);

    /// <summary>Sum over one axis.</summary>
    public Tensor Sum(int axis, bool keepdim = false) => Sum([axis], keepdim);

    /// <summary>
    /// Sum over <paramref name="axes"/> (null or empty: all), keeping them as size 1 when <paramref name="keepdim"/>.
    /// ∂x = g reshaped to the kept-dims shape and broadcast back to x's shape.
    /// </summary>
    public Tensor Sum(int[]? axes, bool keepdim = false)
    {
        var ax = ShapeUtil.NormalizeAxes(axes, Rank, "Sum");
        var keepShape = (int[])_shape.Clone();
        foreach (var a in ax) keepShape[a] = 1;
        var outShape = keepdim ? keepShape : _shape.Where((_, i) => !ax.Contains(i)).ToArray();
        var y = Empty(outShape);
        SumKernel(Dense(), ax, y.AsSpan());
        return Record(y, "Sum", [this], g => AccumulateGrad(g.Reshape(keepShape).ExpandView(_shape)));
    }

    /// <summary>Sums dense <paramref name="x"/> over sorted axes into <paramref name="dst"/> (row-major over the kept axes).</summary>
    private static void SumKernel(Tensor x, int[] axes, Span<float> dst)
    {
        var src = x.Storage.AsSpan(x._offset, x.Numel);
        if (axes.Length == x.Rank || x.Numel == 0)
        {
            if (dst.Length == 1) dst[0] = x.Numel == 0 ? 0f : TensorPrimitives.Sum(src);
            else dst.Clear();
            return;
        }
        // Reduce runs of consecutive axes at once, last run first; each run is (outer, R, inner).
        var shape = (int[])x._shape.Clone();
        float[]? tmp = null;
        int i = axes.Length - 1;
        ReadOnlySpan<float> cur = src;
        while (i >= 0)
        {
            int hi = axes[i], lo = hi;
            while (i > 0 && axes[i - 1] == lo - 1) { i--; lo--; }
            i--;
            int outer = 1, r = 1, inner = 1;
            for (int k = 0; k < lo; k++) outer *= shape[k];
            for (int k = lo; k <= hi; k++) { r *= shape[k]; shape[k] = 1; }
            for (int k = hi + 1; k < shape.Length; k++) inner *= shape[k];
            bool last = i < 0;
            Span<float> output = last ? dst : new float[outer * inner];
            ReduceAxis(cur, outer, r, inner, output);
            if (!last) { tmp = output.ToArray(); cur = tmp; }
        }
    }

    /// <summary>out[o, j] = Σ_r in[o, r, j].</summary>
    private static void ReduceAxis(ReadOnlySpan<float> src, int outer, int r, int inner, Span<float> dst)
    {
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++) dst[o] = r == 0 ? 0f : TensorPrimitives.Sum(src.Slice(o * r, r));
            return;
        }
        dst.Slice(0, outer * inner).Clear();
        for (int o = 0; o < outer; o++)
        {
            var row = dst.Slice(o * inner, inner);
            for (int k = 0; k < r; k++) TensorPrimitives.Add(row, src.Slice((o * r + k) * inner, inner), row);
        }
    }

    /// <summary>
    /// Sums a broadcast gradient back to <paramref name="shape"/>: over leading axes that <paramref name="shape"/> lacks
    /// and over axes where it has size 1. Returns this tensor when the shapes already match.
    /// </summary>
    public Tensor SumToShape(int[] shape)
    {
        if (ShapeUtil.SameShape(shape, _shape)) return this;
        int lead = Rank - shape.Length;
        if (lead < 0) throw new ArgumentException($"SumToShape: {ShapeUtil.Format(_shape)} has fewer axes than {ShapeUtil.Format(shape)}.");
        var axes = new List<int>();
        for (int i = 0; i < Rank; i++)
        {
            if (i < lead) { axes.Add(i); continue; }
            if (shape[i - lead] == 1 && _shape[i] != 1) axes.Add(i);
            else if (shape[i - lead] != _shape[i]) throw new ArgumentException($"SumToShape: {ShapeUtil.Format(_shape)} does not reduce to {ShapeUtil.Format(shape)}.");
        }
        return (axes.Count == 0 ? this : Sum(axes.ToArray(), keepdim: true)).Reshape(shape);
    }

    /// <summary>Mean of all elements.</summary>
    public Tensor Mean() => Mean(null, false);

    /// <summary>Mean over one axis.</summary>
    public Tensor Mean(int axis, bool keepdim = false) => Mean([axis], keepdim);

    /// <summary>Mean over <paramref name="axes"/>: Sum / (number of reduced elements).</summary>
    public Tensor Mean(int[]? axes, bool keepdim = false)
    {
        var ax = ShapeUtil.NormalizeAxes(axes, Rank, "Mean");
        int n = 1;
        foreach (var a in ax) n *= _shape[a];
        return Sum(ax, keepdim).Mul(1f / n);
    }

    /// <summary>
    /// Variance over <paramref name="axes"/>: Σ(x − mean)² / (n − <paramref name="correction"/>); correction 1 is
    /// PyTorch's default (unbiased), 0 the population variance used by LayerNorm and BatchNorm.
    /// </summary>
    public Tensor Var(int[]? axes = null, int correction = 1, bool keepdim = false)
    {
        var ax = ShapeUtil.NormalizeAxes(axes, Rank, "Var");
        int n = 1;
        foreach (var a in ax) n *= _shape[a];
        var centered = this - Mean(ax, keepdim: true);
        return (centered * centered).Sum(ax, keepdim).Mul(1f / Math.Max(n - correction, 0));
    }

    /// <summary>Largest element, as a 0-d tensor; the gradient goes to the first maximal element.</summary>
    public Tensor Max() => Flatten().Max(0).Values;

    /// <summary>
    /// Largest value along <paramref name="axis"/> and its (first) index (PyTorch <c>max(dim)</c>).
    /// ∂ = g routed to the returned index.
    /// </summary>
    public (Tensor Values, int[] Indices) Max(int axis, bool keepdim = false)
    {
        int a = ShapeUtil.NormalizeAxis(axis, Rank, "Max");
        if (_shape[a] == 0) throw new ArgumentException($"Max: axis {axis} of shape {ShapeUtil.Format(_shape)} is empty.");
        int outer = 1, r = _shape[a], inner = 1;
        for (int k = 0; k < a; k++) outer *= _shape[k];
        for (int k = a + 1; k < Rank; k++) inner *= _shape[k];
        var keepShape = (int[])_shape.Clone(); keepShape[a] = 1;
        var outShape = keepdim ? keepShape : _shape.Where((_, i) => i != a).ToArray();
        var src = DenseSpan();
        var y = Empty(outShape);
        var ys = y.AsSpan();
        var idx = new int[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                int best = 0; float bv = src[o * r * inner + j];
                for (int k = 1; k < r; k++)
                {
                    float v = src[(o * r + k) * inner + j];
                    if (v > bv || (float.IsNaN(v) && !float.IsNaN(bv))) { bv = v; best = k; }
                }
                ys[o * inner + j] = bv; idx[o * inner + j] = best;
            }
        Record(y, "Max", [this], g =>
        {
            var gs = g.DenseSpan();
            var dx = Zeros(_shape);
            var d = dx.AsSpan();
            for (int o = 0; o < outer; o++)
                for (int j = 0; j < inner; j++)
                    d[(o * r + idx[o * inner + j]) * inner + j] = gs[o * inner + j];
            AccumulateGrad(dx);
        });
        return (y, idx);
    }

    /// <summary>Index of the largest value along <paramref name="axis"/> (PyTorch <c>argmax</c>), row-major over the other axes.</summary>
    public int[] ArgMax(int axis = -1)
    {
        using var _ = NoGrad();
        return Max(axis).Indices;
    }

    // ---------------------------------------------------------------- softmax family

    /// <summary>
    /// softmax(x)_i = exp(x_i − max x) / Σ_j exp(x_j − max x) along <paramref name="axis"/>.
    /// ∂x = y ⊙ (g − Σ(g ⊙ y)).
    /// </summary>
    public Tensor Softmax(int axis = -1) => SoftmaxFamily(axis, log: false);

    /// <summary>
    /// log_softmax(x)_i = x_i − max x − log Σ_j exp(x_j − max x) along <paramref name="axis"/>.
    /// ∂x = g − exp(y) · Σ g.
    /// </summary>
    public Tensor LogSoftmax(int axis = -1) => SoftmaxFamily(axis, log: true);

    private Tensor SoftmaxFamily(int axis, bool log)
    {
        int a = ShapeUtil.NormalizeAxis(axis, Rank, log ? "LogSoftmax" : "Softmax");
        if (a != Rank - 1)
            return Transpose(a, -1).Contiguous().SoftmaxFamily(-1, log).Transpose(a, -1);
        var x = Dense();
        int cols = _shape[^1], rows = cols == 0 ? 0 : Numel / cols;
        var y = Empty(_shape);
        var xs = x.Storage; int xo = x._offset; var ys = y.Storage;
        ParallelChunks.For(rows, Math.Max(1, 8192 / Math.Max(cols, 1)), (start, count) =>
        {
            for (int r = start; r < start + count; r++)
            {
                var xr = xs.AsSpan(xo + r * cols, cols); var yr = ys.AsSpan(r * cols, cols);
                float max = TensorPrimitives.Max(xr);
                TensorPrimitives.Subtract(xr, max, yr);
                if (log)
                {
                    float sum = 0f;
                    foreach (var v in yr) sum += MathF.Exp(v);
                    TensorPrimitives.Subtract(yr, MathF.Log(sum), yr);
                }
                else
                {
                    TensorPrimitives.Exp(yr, yr);
                    TensorPrimitives.Multiply(yr, 1f / TensorPrimitives.Sum(yr), yr);
                }
            }
        });
        return Record(y, log ? "LogSoftmax" : "Softmax", [this], g =>
        {
            var gd = g.Dense();
            var gs = gd.Storage; int go = gd._offset;
            var dx = Empty(_shape); var ds = dx.Storage;
            ParallelChunks.For(rows, Math.Max(1, 8192 / Math.Max(cols, 1)), (start, count) =>
            {
                for (int r = start; r < start + count; r++)
                {
                    var yr = ys.AsSpan(r * cols, cols); var gr = gs.AsSpan(go + r * cols, cols); var dr = ds.AsSpan(r * cols, cols);
                    if (log)
                    {
                        float sum = TensorPrimitives.Sum(gr);
                        TensorPrimitives.Exp(yr, dr);
                        TensorPrimitives.MultiplyAdd(dr, -sum, gr, dr);   // g − exp(y)·Σg
                    }
                    else
                    {
                        float dot = TensorPrimitives.Dot(gr, yr);
                        TensorPrimitives.Subtract(gr, dot, dr);
                        TensorPrimitives.Multiply(dr, yr, dr);            // y ⊙ (g − ⟨g, y⟩)
                    }
                }
            });
            AccumulateGrad(dx);
        });
    }
}
