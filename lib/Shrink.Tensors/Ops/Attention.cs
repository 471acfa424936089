using System.Numerics.Tensors;
using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

// Fused scaled dot-product attention: per (batch·head) slice one GEMM for the scores, the masked row softmax while the
// slice is hot in cache, one GEMM for the output; the backward mirrors it. Slices run in parallel.
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
    /// Fused: for every (batch·head) slice S = scale·q·kᵀ is one GEMM reading k transposed in place, the row softmax runs
    /// on the slice while it is in cache, P (…, Nq, Nk) is kept for the backward, and O = P·v; slices run in parallel.
    /// Backward, with g = ∂O: ∂v = Pᵀ·g, ∂P = g·vᵀ, ∂S = P ⊙ (∂P − rowsum(∂P ⊙ P)), ∂q = scale·∂S·k, ∂k = scale·∂Sᵀ·q,
    /// ∂mask = ∂S summed to the mask's shape. Views whose last axis is dense (such as timm's
    /// <c>qkv.reshape(B, N, 3, H, hd).permute(2, 0, 3, 1, 4)</c> slices) are read in place, without a copy; for the
    /// fastest ViT path see <see cref="ScaledDotProductAttentionPacked"/>, which also writes the gradient in place.
    /// </para>
    /// <para>
    /// When <paramref name="returnWeights"/>, Weights is P (…, Nq, Nk) — the attention maps attention-distillation losses
    /// compare. It shares P's storage (no copy) and is differentiable: a gradient reaching Weights flows to q, k and the
    /// mask through the softmax Jacobian, added to the gradient that arrives through the output. Do not write into it.
    /// </para>
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not fit; the message names the q, k, v (and mask) shapes.</exception>
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
        int[] lead = qs[..^2];
        var core = new AttentionCore("ScaledDotProductAttention", Shapes, lead, nq, nk, d, dv, scale ?? 1f / MathF.Sqrt(d), attnMask,
            AttentionOperand.Of(q), AttentionOperand.Of(k), AttentionOperand.Of(v));
        var o = Tensor.Empty([.. lead, nq, dv]);                       // (…, Nq, dv) = P · v
        core.Forward(AttentionOperand.Of(o));

        Tensor? weights = null;
        if (returnWeights)
        {
            weights = core.WeightsView();
            Tensor[] wInputs = attnMask is null ? [q, k] : [q, k, attnMask];
            Tensor.Record(weights, "AttentionWeights", wInputs, g =>
            {
                var dq = q.RequiresGrad ? Tensor.Empty(qs) : null; var dk = k.RequiresGrad ? Tensor.Empty(ks) : null;
                var dS = core.BackwardFromWeights(g, Opt(dq), Opt(dk));
                if (dq is not null) q.AccumulateGrad(dq);
                if (dk is not null) k.AccumulateGrad(dk);
                core.AccumulateMaskGrad(dS);
            });
        }
        Tensor[] inputs = attnMask is null ? [q, k, v] : [q, k, v, attnMask];
        Tensor.Record(o, "ScaledDotProductAttention", inputs, g =>
        {
            var dq = q.RequiresGrad ? Tensor.Empty(qs) : null; var dk = k.RequiresGrad ? Tensor.Empty(ks) : null;
            var dvT = v.RequiresGrad ? Tensor.Empty(vs) : null;
            var dS = core.Backward(AttentionOperand.Of(g.Dense()), Opt(dq), Opt(dk), Opt(dvT));
            if (dq is not null) q.AccumulateGrad(dq);
            if (dk is not null) k.AccumulateGrad(dk);
            if (dvT is not null) v.AccumulateGrad(dvT);
            core.AccumulateMaskGrad(dS);
        });
        return (o, weights);
    }

    /// <summary>
    /// Multi-head self-attention straight from a packed qkv projection, timm's layout, with no reshapes or copies:
    /// <paramref name="qkv"/> (B, N, 3·D) holds [q; k; v] along the last axis with the <paramref name="heads"/> heads
    /// contiguous inside each (head h of q is columns h·hd … (h+1)·hd − 1, hd = D / heads). Computes, per head,
    /// softmax(scale·q_h·k_hᵀ + mask)·v_h and returns the heads concatenated as (B, N, D) — exactly timm's
    /// <c>(attn @ v).transpose(1, 2).reshape(B, N, D)</c> — plus the weights (B, heads, N, N) when asked.
    /// Same math, mask, scale (default 1/√hd) and weights semantics as <see cref="ScaledDotProductAttention"/>;
    /// the backward writes ∂q, ∂k, ∂v into one (B, N, 3·D) gradient in place.
    /// </summary>
    /// <exception cref="ArgumentException">qkv is not (B, N, 3·D) with D divisible by <paramref name="heads"/>, or the mask does not broadcast to (B, heads, N, N).</exception>
    public static (Tensor Output, Tensor? Weights) ScaledDotProductAttentionPacked(Tensor qkv, int heads, Tensor? attnMask = null, float? scale = null, bool returnWeights = false)
    {
        var s = qkv.ShapeArray;
        string Shapes() => $"qkv {ShapeUtil.Format(s)}, heads {heads}" + (attnMask is null ? "" : $", mask {ShapeUtil.Format(attnMask.ShapeArray)}");
        if (s.Length != 3 || heads <= 0 || s[2] % (3 * heads) != 0)
            throw new ArgumentException($"ScaledDotProductAttentionPacked: {Shapes()} do not fit (expected qkv (B, N, 3·D) with D divisible by heads).");
        int b = s[0], n = s[1], dim = s[2] / 3, hd = dim / heads;
        var xd = qkv.Dense();
        AttentionOperand Part(Tensor t, int width, int part) => AttentionOperand.Packed(t.Storage, t.Offset + part * dim, b, n, width, heads, hd);
        var core = new AttentionCore("ScaledDotProductAttentionPacked", Shapes, [b, heads], n, n, hd, hd, scale ?? 1f / MathF.Sqrt(hd), attnMask,
            Part(xd, 3 * dim, 0), Part(xd, 3 * dim, 1), Part(xd, 3 * dim, 2));
        var o = Tensor.Empty(b, n, dim);                              // (B, N, D): head h in columns h·hd …
        core.Forward(Part(o, dim, 0));

        Tensor? weights = null;
        if (returnWeights)
        {
            weights = core.WeightsView();
            Tensor[] wInputs = attnMask is null ? [qkv] : [qkv, attnMask];
            Tensor.Record(weights, "AttentionWeights", wInputs, g =>
            {
                var dqkv = qkv.RequiresGrad ? Tensor.Zeros(s) : null;    // the v blocks stay 0: the weights do not depend on v
                var dS = core.BackwardFromWeights(g, null, null, dqkv, Part);
                if (dqkv is not null) qkv.AccumulateGrad(dqkv);
                core.AccumulateMaskGrad(dS);
            });
        }
        Tensor[] inputs = attnMask is null ? [qkv] : [qkv, attnMask];
        Tensor.Record(o, "ScaledDotProductAttentionPacked", inputs, g =>
        {
            var gd = g.Dense();
            Tensor? dqkv = qkv.RequiresGrad ? Tensor.Empty(s) : null;   // every element written once: q, k, v column blocks of every head
            var dS = core.Backward(Part(gd, dim, 0), dqkv is null ? null : Part(dqkv, 3 * dim, 0),
                dqkv is null ? null : Part(dqkv, 3 * dim, 1), dqkv is null ? null : Part(dqkv, 3 * dim, 2));
            if (dqkv is not null) qkv.AccumulateGrad(dqkv);
            core.AccumulateMaskGrad(dS);
        });
        return (o, weights);
    }

    private static AttentionOperand? Opt(Tensor? dense) => dense is null ? null : AttentionOperand.Of(dense);

    /// <summary>
    /// A stack of row-major matrices in one float array, one matrix per (batch…) slice: element (i, j) of slice s is at
    /// SliceOffset(s) + i·Ld + j, with SliceOffset(s) = Offset + Σ (batch index)·(batch stride).
    /// </summary>
    private sealed class AttentionOperand
    {
        public float[] Array = [];
        public int Offset, Ld;
        public int[] BatchShape = [], BatchStrides = [];

        public int SliceOffset(int slice)
        {
            int o = Offset;
            for (int ax = BatchShape.Length - 1; ax >= 0 && slice > 0; ax--)
            {
                o += slice % BatchShape[ax] * BatchStrides[ax];
                slice /= BatchShape[ax];
            }
            return o;
        }

        public Span<float> Slice(int slice) => Array.AsSpan(SliceOffset(slice));

        /// <summary>Reads t (…, rows, cols) in place when its last axis is dense and its rows don't overlap, else a dense copy.</summary>
        public static AttentionOperand Of(Tensor t)
        {
            var sh = t.ShapeArray; var st = t.Strides;
            int rank = sh.Length, rows = sh[^2], cols = sh[^1];
            int ld = rows <= 1 ? Math.Max(cols, 1) : st[rank - 2];
            bool inPlace = (cols <= 1 || st[rank - 1] == 1) && ld >= Math.Max(cols, 1);
            if (!inPlace)
            {
                t = t.Dense();
                st = t.Strides; ld = Math.Max(cols, 1);
            }
            return new AttentionOperand { Array = t.Storage, Offset = t.Offset, Ld = ld, BatchShape = sh[..^2], BatchStrides = st.Take(rank - 2).ToArray() };
        }

        /// <summary>Head slices of a (B, N, width) array: slice (b, h) starts at offset + b·N·width + h·hd, rows of stride width.</summary>
        public static AttentionOperand Packed(float[] array, int offset, int b, int n, int width, int heads, int hd) =>
            new() { Array = array, Offset = offset, Ld = width, BatchShape = [b, heads], BatchStrides = [n * width, hd] };
    }

    /// <summary>The shared forward and backward of both attention entry points; holds P for the backward.</summary>
    private sealed class AttentionCore
    {
        private readonly int _slices, _nq, _nk, _d, _dv;
        private readonly float _scale;
        private readonly int[] _pShape;
        private readonly Tensor _p;                                   // (…, Nq, Nk) probabilities
        private readonly AttentionOperand _q, _k, _v;
        private readonly Tensor? _mask;
        private readonly float[]? _maskArray;
        private readonly int[] _maskStrides = [];
        private readonly int _maskOffset;

        public AttentionCore(string op, Func<string> shapes, int[] lead, int nq, int nk, int d, int dv, float scale, Tensor? mask,
            AttentionOperand q, AttentionOperand k, AttentionOperand v)
        {
            _slices = ShapeUtil.Numel(lead); _nq = nq; _nk = nk; _d = d; _dv = dv; _scale = scale;
            _q = q; _k = k; _v = v;
            _pShape = [.. lead, nq, nk];
            if (mask is not null)
            {
                var ms = mask.ShapeArray;
                bool fits = ms.Length <= _pShape.Length;
                for (int i = 0; fits && i < ms.Length; i++) { int t = _pShape[_pShape.Length - ms.Length + i]; fits = ms[i] == t || ms[i] == 1; }
                if (!fits) throw new ArgumentException($"{op}: {shapes()}: the mask does not broadcast to the scores {ShapeUtil.Format(_pShape)}.");
                var view = mask.ExpandView(_pShape);
                _mask = mask; _maskArray = view.Storage; _maskOffset = view.Offset; _maskStrides = view.Strides.ToArray();
            }
            _p = Tensor.Empty(_pShape);
        }

        /// <summary>P, shared and not recorded; the caller records it.</summary>
        public Tensor WeightsView() => new(_p.Storage, _p.Offset, _pShape, ShapeUtil.ContiguousStrides(_pShape), _p, pooled: false);

        /// <summary>Runs <paramref name="body"/> for every slice: in parallel when the slices are small (each GEMM then stays on one core), else in order (the GEMMs parallelise themselves).</summary>
        private void ForSlices(Action<int> body)
        {
            long per = (long)_nq * _nk * Math.Max(Math.Max(_d, _dv), 1);
            if (_slices <= 1 || per * _slices < (1 << 17) || per >= (1 << 18))
                for (int i = 0; i < _slices; i++) body(i);
            else ParallelChunks.For(_slices, 1, (s0, n) => { for (int i = s0; i < s0 + n; i++) body(i); });
        }

        /// <summary>C = alpha·op(A)·op(B) for one slice (m×n), zero when the inner size is 0.</summary>
        private static void Mm(bool ta, bool tb, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
        {
            if (m == 0 || n == 0) return;
            if (k == 0) { for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear(); return; }
            Gemm.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, 0f, c, ldc);
        }

        public void Forward(AttentionOperand o)
        {
            var pArr = _p.Storage; int nq = _nq, nk = _nk;
            ForSlices(i =>
            {
                var pi = pArr.AsSpan(i * nq * nk, nq * nk);
                Mm(false, true, nq, nk, _d, _scale, _q.Slice(i), _q.Ld, _k.Slice(i), _k.Ld, pi, nk);        // S = scale·q·kᵀ
                int last = _pShape.Length - 1;
                int mBase = 0, mRow = 0, mCol = 0;
                if (_maskArray is not null)
                {
                    mBase = _maskOffset; mRow = _maskStrides[last - 1]; mCol = _maskStrides[last];
                    for (int ax = last - 2, s = i; ax >= 0 && s > 0; ax--) { mBase += s % _pShape[ax] * _maskStrides[ax]; s /= _pShape[ax]; }
                }
                for (int r = 0; r < nq; r++)
                {
                    var row = pi.Slice(r * nk, nk);
                    if (_maskArray is not null)
                    {
                        int mo = mBase + r * mRow;
                        if (mCol == 1) TensorPrimitives.Add(row, _maskArray.AsSpan(mo, nk), row);
                        else if (mCol == 0) TensorPrimitives.Add(row, _maskArray[mo], row);
                        else for (int j = 0; j < nk; j++) row[j] += _maskArray[mo + j * mCol];
                    }
                    SoftmaxRow(row);
                }
                Mm(false, false, nq, _dv, nk, 1f, pi, nk, _v.Slice(i), _v.Ld, o.Slice(i), o.Ld);            // O = P·v
            });
        }

        /// <summary>Backward through the output: ∂v = Pᵀg, ∂P = g·vᵀ, then the softmax and ∂q, ∂k. Returns ∂S when the mask needs it.</summary>
        public Tensor? Backward(AttentionOperand g, AttentionOperand? dq, AttentionOperand? dk, AttentionOperand? dv)
        {
            bool needS = dq is not null || dk is not null || (_mask is not null && _mask.RequiresGrad);
            var pArr = _p.Storage; int nq = _nq, nk = _nk, size = nq * nk;
            var dS = needS ? Tensor.Empty(_pShape) : null; var sArr = dS?.Storage;
            ForSlices(i =>
            {
                var pi = pArr.AsSpan(i * size, size);
                if (dv is not null) Mm(true, false, nk, _dv, nq, 1f, pi, nk, g.Slice(i), g.Ld, dv.Slice(i), dv.Ld);   // ∂v = Pᵀ·g
                if (sArr is null) return;
                var si = sArr.AsSpan(i * size, size);
                Mm(false, true, nq, nk, _dv, 1f, g.Slice(i), g.Ld, _v.Slice(i), _v.Ld, si, nk);                      // ∂P = g·vᵀ
                ThroughSoftmax(i, pi, si, dq, dk);
            });
            return dS;
        }

        /// <summary>Backward through the weights output: ∂P = g, then the softmax and ∂q, ∂k (into <paramref name="dqkv"/>'s q and k blocks for the packed form).</summary>
        public Tensor? BackwardFromWeights(Tensor g, AttentionOperand? dq, AttentionOperand? dk, Tensor? dqkv = null, Func<Tensor, int, int, AttentionOperand>? part = null)
        {
            if (dqkv is not null)
            {
                int width = dqkv.ShapeArray[2];
                dq = part!(dqkv, width, 0); dk = part(dqkv, width, 1);
            }
            bool needS = dq is not null || dk is not null || (_mask is not null && _mask.RequiresGrad);
            if (!needS) return null;
            var pArr = _p.Storage; int size = _nq * _nk;
            var dS = Tensor.Empty(_pShape); var sArr = dS.Storage;
            Tensor.StridedCopy(g, dS.AsSpan());
            ForSlices(i => ThroughSoftmax(i, pArr.AsSpan(i * size, size), sArr.AsSpan(i * size, size), dq, dk));
            return dS;
        }

        private void ThroughSoftmax(int i, ReadOnlySpan<float> pi, Span<float> si, AttentionOperand? dq, AttentionOperand? dk)
        {
            int nq = _nq, nk = _nk;
            for (int r = 0; r < nq; r++)
            {
                var pr = pi.Slice(r * nk, nk); var dr = si.Slice(r * nk, nk);
                float dot = TensorPrimitives.Dot(dr, pr);
                TensorPrimitives.Subtract(dr, dot, dr);
                TensorPrimitives.Multiply(dr, pr, dr);                                     // ∂S = P ⊙ (∂P − rowsum(∂P ⊙ P))
            }
            if (dq is not null) Mm(false, false, nq, _d, nk, _scale, si, nk, _k.Slice(i), _k.Ld, dq.Slice(i), dq.Ld);   // ∂q = scale·∂S·k
            if (dk is not null) Mm(true, false, nk, _d, nq, _scale, si, nk, _q.Slice(i), _q.Ld, dk.Slice(i), dk.Ld);    // ∂k = scale·∂Sᵀ·q
        }

        public void AccumulateMaskGrad(Tensor? dS)
        {
            if (_mask is not null && _mask.RequiresGrad && dS is not null) _mask.AccumulateGrad(dS.SumToShape(_mask.ShapeArray));
        }
    }

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
