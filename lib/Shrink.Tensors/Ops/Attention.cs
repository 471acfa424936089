using System.Numerics.Tensors;
using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

// Fused scaled dot-product attention: batched GEMMs and a row softmax, forward and backward side by side.
public static partial class Functional
{
    /// <summary>
    /// Scaled dot-product attention (PyTorch <c>F.scaled_dot_product_attention</c>):
    /// O = softmax(scale·q·kᵀ + mask)·v with q (…, Nq, d), k (…, Nk, d), v (…, Nk, dv) → O (…, Nq, dv). The leading
    /// (batch, head) axes of q, k and v must be equal. <paramref name="scale"/> defaults to 1/√d.
    /// <paramref name="attnMask"/> is an additive float mask broadcastable to (…, Nq, Nk): 0 keeps a score, −∞ removes it
    /// (a learned additive bias such as a relative-position bias receives its gradient). A row whose scores are all −∞
    /// gets zero weights (as PyTorch ≥ 2.5's math path), not NaN.
    /// <para>
    /// Fused: for every (batch·head) slice S = scale·q·kᵀ is one batched GEMM reading k transposed in place, the row softmax
    /// runs in parallel and P (…, Nq, Nk) is kept for the backward; O = P·v. Backward, with g = ∂O:
    /// ∂v = Pᵀ·g, ∂P = g·vᵀ, ∂S = P ⊙ (∂P − rowsum(∂P ⊙ P)), ∂q = scale·∂S·k, ∂k = scale·∂Sᵀ·q, ∂mask = ∂S summed to the mask's shape.
    /// </para>
    /// <para>
    /// When <paramref name="returnWeights"/>, Weights is P (…, Nq, Nk) — the attention maps attention-distillation losses
    /// compare. It shares P's storage (no copy) and is differentiable: a gradient reaching Weights flows to q, k and the
    /// mask through the softmax Jacobian, added to the gradient that arrives through the output. Do not write into it.
    /// </para>
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not fit; the message names q, k, v (and mask) shapes.</exception>
    public static (Tensor Output, Tensor? Weights) ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? attnMask = null, float? scale = null, bool returnWeights = false)
    {
        var qs = q.ShapeArray; var ks = k.ShapeArray; var vs = v.ShapeArray;
        int r = qs.Length;
        bool ok = r >= 2 && ks.Length == r && vs.Length == r
            && qs.AsSpan(0, r - 2).SequenceEqual(ks.AsSpan(0, r - 2)) && qs.AsSpan(0, r - 2).SequenceEqual(vs.AsSpan(0, r - 2))
            && qs[^1] == ks[^1] && ks[^2] == vs[^2];
        string Shapes() => $"q {ShapeUtil.Format(qs)}, k {ShapeUtil.Format(ks)}, v {ShapeUtil.Format(vs)}" +
            (attnMask is null ? "" : $", mask {ShapeUtil.Format(attnMask.ShapeArray)}");
        if (!ok) throw new ArgumentException($"ScaledDotProductAttention: {Shapes()} do not fit (expected q (…, Nq, d), k (…, Nk, d), v (…, Nk, dv) with equal leading axes).");
        int nq = qs[^2], d = qs[^1], nk = ks[^2], dv = vs[^1];
        int bh = ShapeUtil.Numel(qs.AsSpan(0, r - 2));
        int[] pShape = [.. qs[..^2], nq, nk];
        Tensor? maskView = null;
        if (attnMask is not null)
        {
            var ms = attnMask.ShapeArray;
            bool fits = ms.Length <= r;
            for (int i = 0; fits && i < ms.Length; i++) { int t = pShape[r - ms.Length + i]; fits = ms[i] == t || ms[i] == 1; }
            if (!fits) throw new ArgumentException($"ScaledDotProductAttention: {Shapes()}: the mask does not broadcast to the scores {ShapeUtil.Format(pShape)}.");
            maskView = attnMask.ExpandView(pShape);
        }
        float sc = scale ?? 1f / MathF.Sqrt(d);

        var qd = q.Dense(); var kd = k.Dense(); var vd = v.Dense();
        var p = Tensor.Empty(pShape);                                 // (…, Nq, Nk) scores, then probabilities
        var pArr = p.Storage;
        int rows = bh * nq;
        if (d == 0) p.AsSpan().Clear();
        else Gemm.SgemmBatched(false, true, bh, nq, nk, d, sc, DenseData(qd), d, (long)nq * d, DenseData(kd), d, (long)nk * d, 0f, p.AsSpan(), nk, (long)nq * nk);

        // Mask row offsets: score row (b…, i) reads mask storage at Offset + Σ index·stride (strides 0 on broadcast axes).
        var mArr = maskView?.Storage; int mInner = maskView is null ? 0 : maskView.Strides[r - 1];
        Func<int, int>? maskRow = null;
        if (maskView is not null)
        {
            var strides = maskView.Strides.ToArray(); int mo = maskView.Offset;
            maskRow = row =>
            {
                int o = mo, rem = row;
                for (int ax = r - 2; ax >= 0 && rem > 0; ax--) { int s = pShape[ax]; o += rem % s * strides[ax]; rem /= s; }
                return o;
            };
        }
        RowChunks.For(rows, nk * 4, (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            {
                var row = pArr.AsSpan(i * nk, nk);
                if (maskRow is not null)
                {
                    int mo = maskRow(i);
                    if (mInner == 1) TensorPrimitives.Add(row, mArr.AsSpan(mo, nk), row);
                    else if (mInner == 0) TensorPrimitives.Add(row, mArr![mo], row);
                    else for (int j = 0; j < nk; j++) row[j] += mArr![mo + j * mInner];
                }
                SoftmaxRow(row);
            }
        });

        var o = Tensor.Empty([.. qs[..^2], nq, dv]);                   // (…, Nq, dv) = P · v
        if (nk == 0) o.AsSpan().Clear();
        else Gemm.SgemmBatched(false, false, bh, nq, dv, nk, 1f, p.AsSpan(), nk, (long)nq * nk, DenseData(vd), dv, (long)nk * dv, 0f, o.AsSpan(), dv, (long)nq * dv);

        // ∂S from ∂P (dense, overwritten in place), then ∂q, ∂k and ∂mask; shared by the output's and the weights' backward.
        void BackwardThroughSoftmax(Tensor dP)
        {
            var dArr = dP.Storage;
            RowChunks.For(rows, nk * 4, (r0, r1) =>
            {
                for (int i = r0; i < r1; i++)
                {
                    var pr = pArr.AsSpan(i * nk, nk); var dr = dArr.AsSpan(i * nk, nk);
                    float dot = TensorPrimitives.Dot(dr, pr);
                    TensorPrimitives.Subtract(dr, dot, dr);
                    TensorPrimitives.Multiply(dr, pr, dr);                 // ∂S = P ⊙ (∂P − rowsum(∂P ⊙ P))
                }
            });
            if (q.RequiresGrad)
            {
                var dq = Tensor.Empty(qs);                            // (Nq, d) = scale·∂S (Nq, Nk) · k (Nk, d)
                if (nk == 0) dq.AsSpan().Clear();
                else Gemm.SgemmBatched(false, false, bh, nq, d, nk, sc, dP.AsSpan(), nk, (long)nq * nk, DenseData(kd), d, (long)nk * d, 0f, dq.AsSpan(), d, (long)nq * d);
                q.AccumulateGrad(dq);
            }
            if (k.RequiresGrad)
            {
                var dk = Tensor.Empty(ks);                            // (Nk, d) = scale·∂Sᵀ (Nk, Nq) · q (Nq, d)
                if (nq == 0) dk.AsSpan().Clear();
                else Gemm.SgemmBatched(true, false, bh, nk, d, nq, sc, dP.AsSpan(), nk, (long)nq * nk, DenseData(qd), d, (long)nq * d, 0f, dk.AsSpan(), d, (long)nk * d);
                k.AccumulateGrad(dk);
            }
            if (attnMask is not null && attnMask.RequiresGrad) attnMask.AccumulateGrad(dP.SumToShape(attnMask.ShapeArray));
        }

        Tensor[] inputs = attnMask is null ? [q, k, v] : [q, k, v, attnMask];
        Tensor? weights = null;
        if (returnWeights)
        {
            weights = new Tensor(pArr, p.Offset, pShape, ShapeUtil.ContiguousStrides(pShape), p, pooled: false);
            Tensor[] wInputs = attnMask is null ? [q, k] : [q, k, attnMask];
            Tensor.Record(weights, "AttentionWeights", wInputs, g =>
            {
                var dP = Tensor.Empty(pShape);
                Tensor.StridedCopy(g, dP.AsSpan());
                BackwardThroughSoftmax(dP);
            });
        }
        Tensor.Record(o, "ScaledDotProductAttention", inputs, g =>
        {
            var gd = g.Dense();                                       // (…, Nq, dv)
            if (v.RequiresGrad)
            {
                var dvT = Tensor.Empty(vs);                           // (Nk, dv) = Pᵀ (Nk, Nq) · g (Nq, dv)
                if (nq == 0) dvT.AsSpan().Clear();
                else Gemm.SgemmBatched(true, false, bh, nk, dv, nq, 1f, p.AsSpan(), nk, (long)nq * nk, DenseData(gd), dv, (long)nq * dv, 0f, dvT.AsSpan(), dv, (long)nk * dv);
                v.AccumulateGrad(dvT);
            }
            if (q.RequiresGrad || k.RequiresGrad || (attnMask is not null && attnMask.RequiresGrad))
            {
                var dP = Tensor.Empty(pShape);                        // (Nq, Nk) = g (Nq, dv) · vᵀ (dv, Nk)
                if (dv == 0) dP.AsSpan().Clear();
                else Gemm.SgemmBatched(false, true, bh, nq, nk, dv, 1f, DenseData(gd), dv, (long)nq * dv, DenseData(vd), dv, (long)nk * dv, 0f, dP.AsSpan(), nk, (long)nq * nk);
                BackwardThroughSoftmax(dP);
            }
        });
        return (o, weights);
    }

    private static ReadOnlySpan<float> DenseData(Tensor dense) => dense.Storage.AsSpan(dense.Offset, dense.Numel);

    /// <summary>In-place softmax of one row; a row that is entirely −∞ becomes zeros.</summary>
    private static void SoftmaxRow(Span<float> row)
    {
        if (row.Length == 0) return;
        float max = TensorPrimitives.Max(row);
        if (float.IsNegativeInfinity(max)) { row.Clear(); return; }
        TensorPrimitives.Subtract(row, max, row);
        TensorPrimitives.Exp(row, row);
        TensorPrimitives.Multiply(row, 1f / TensorPrimitives.Sum(row), row);
    }
}
