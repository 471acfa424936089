using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

// Matrix products: batched matmul with broadcasting over batch axes, reading transposed views without a copy.
public partial class Tensor
{
    /// <summary>How one operand's last two axes sit in memory for GEMM: row-major, or a transposed row-major matrix.</summary>
    private readonly record struct GemmOperand(Tensor Source, bool Trans, int Ld, int BatchStride);

    /// <summary>
    /// Describes the matrices of <paramref name="t"/> (…, rows, cols) for GEMM over a flattened batch of
    /// <paramref name="batchShape"/>: a transposed view (stride 1 on the row axis) is passed with a transpose flag,
    /// and batch axes must collapse to one stride (0 when broadcast); otherwise the operand is copied densely.
    /// </summary>
    private static GemmOperand Describe(Tensor t, int[] batchShape)
    {
        int r = t.Rank, rows = t._shape[r - 2], cols = t._shape[r - 1];
        int sr = t._strides[r - 2], sc = t._strides[r - 1];
        bool trans; int ld;
        if (sc == 1 && (sr >= cols || rows == 1)) { trans = false; ld = Math.Max(rows == 1 ? cols : sr, Math.Max(cols, 1)); }
        else if (sr == 1 && (sc >= rows || cols == 1)) { trans = true; ld = Math.Max(cols == 1 ? rows : sc, Math.Max(rows, 1)); }
        else return Describe(t.Dense(), batchShape);

        // Batch strides aligned to batchShape (0 where t is broadcast), collapsed to one stride.
        int lead = batchShape.Length - (r - 2);
        int batchStride = 0; bool ok = true; int expect = -1;
        for (int i = batchShape.Length - 1; i >= 0; i--)
        {
            int ti = i - lead;
            int s = ti >= 0 && t._shape[ti] != 1 ? t._strides[ti] : 0;
            if (batchShape[i] == 1) continue;
            if (expect == -1) { batchStride = s; expect = s * batchShape[i]; }
            else if (s == expect) expect = s * batchShape[i];
            else if (s == 0 && batchStride == 0) { }
            else { ok = false; break; }
        }
        if (!ok)
        {
            var full = batchShape.Concat(new[] { rows, cols }).ToArray();
            var dense = t.ExpandView(full).Dense();
            return new GemmOperand(dense, false, cols, rows * cols);
        }
        return new GemmOperand(t, trans, ld, batchStride);
    }

    /// <summary>
    /// Matrix product with PyTorch's <c>matmul</c> semantics for rank ≥ 2 operands (a 1-D operand is treated as a
    /// row or column vector and that axis is dropped from the result): (…, M, K) @ (…, K, N) → (…, M, N), batch axes
    /// broadcast. ∂A = g @ Bᵀ, ∂B = Aᵀ @ g (summed over broadcast batch axes). Transposed views (<see cref="MT"/>)
    /// reach the GEMM as transpose flags, with no copy.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0) throw new ArgumentException($"MatMul: operands must have at least one axis; got {ShapeUtil.Format(a._shape)} and {ShapeUtil.Format(b._shape)}.");
        if (a.Rank == 1) return MatMul(a.Unsqueeze(0), b).Squeeze(-2);
        if (b.Rank == 1) return MatMul(a, b.Unsqueeze(1)).Squeeze(-1);
        int m = a._shape[^2], k = a._shape[^1], n = b._shape[^1];
        if (b._shape[^2] != k)
            throw new ArgumentException($"MatMul: shapes {ShapeUtil.Format(a._shape)} and {ShapeUtil.Format(b._shape)} do not match ({k} columns vs {b._shape[^2]} rows).");
        var batchShape = ShapeUtil.Broadcast(a._shape[..^2], b._shape[..^2], "MatMul (batch axes)");
        int batch = ShapeUtil.Numel(batchShape);
        var y = Empty([.. batchShape, m, n]);
        var da = Describe(a, batchShape); var db = Describe(b, batchShape);
        var sa = da.Source; var sb = db.Source;
        Gemm.SgemmBatched(da.Trans, db.Trans, batch, m, n, k, 1f,
            sa.Storage.AsSpan(sa._offset), da.Ld, da.BatchStride,
            sb.Storage.AsSpan(sb._offset), db.Ld, db.BatchStride,
            0f, y.AsSpan(), n, (long)m * n);
        return Record(y, "MatMul", [a, b], g =>
        {
            if (a._requiresGrad) a.AccumulateGrad(MatMul(g, b.MT).SumToShape(a._shape));
            if (b._requiresGrad) b.AccumulateGrad(MatMul(a.MT, g).SumToShape(b._shape));
        });
    }

    /// <summary>this @ other (see <see cref="MatMul(Tensor, Tensor)"/>).</summary>
    public Tensor MatMul(Tensor other) => MatMul(this, other);
}
