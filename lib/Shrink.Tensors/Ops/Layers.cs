using System.Numerics.Tensors;
using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

// Layer functions (torch.nn.functional): Linear, LayerNorm, Dropout, Embedding — fused forward and backward side by side.
public static partial class Functional
{
    // ---------------------------------------------------------------- Linear

    /// <summary>
    /// Affine map y = x·Wᵀ + b over the last axis (PyTorch <c>F.linear</c>): x (…, in), <paramref name="weight"/> (out, in)
    /// in PyTorch's layout, <paramref name="bias"/> (out) or null → y (…, out).
    /// <para>
    /// The leading axes are flattened to M rows and the product is one GEMM that reads W transposed in place (no copy).
    /// Backward: ∂x = g·W, ∂W = gᵀ·x, ∂b = Σ_rows g (column sums of g), each one GEMM or one pass.
    /// A weight that is itself a transposed view of a contiguous (in, out) matrix is read without a copy too.
    /// </para>
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not fit; the message names all three shapes.</exception>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        var xs = x.ShapeArray; var ws = weight.ShapeArray;
        if (weight.Rank != 2 || x.Rank < 1 || xs[^1] != ws[1] || (bias is not null && (bias.Rank != 1 || bias.ShapeArray[0] != ws[0])))
            throw new ArgumentException($"Linear: input {ShapeUtil.Format(xs)}, weight {ShapeUtil.Format(ws)} and bias {(bias is null ? "none" : ShapeUtil.Format(bias.ShapeArray))} do not fit " +
                "(expected input (…, in), weight (out, in), bias (out)).");
        int inF = ws[1], outF = ws[0];
        int m = 1;
        for (int i = 0; i < xs.Length - 1; i++) m *= xs[i];
        int[] outShape = [.. xs[..^1], outF];

        var xd = x.Dense();                                           // (M, in)
        // W as a GEMM operand: contiguous (out, in) is read as Bᵀ; a transposed view of a contiguous (in, out) as B.
        bool wRowMajor = true; int ldw = inF; Tensor wd;
        if (weight.IsContiguous) wd = weight;
        else if (weight.Strides[0] == 1 && weight.Strides[1] == outF) { wd = weight; wRowMajor = false; ldw = outF; }
        else wd = weight.Dense();
        var bd = bias?.Dense();

        var y = Tensor.Empty(outShape);                               // (M, out)
        var yArr = y.Storage;
        if (m > 0 && outF > 0)
        {
            if (inF == 0) y.AsSpan().Clear();
            else Gemm.Sgemm(false, wRowMajor, m, outF, inF, 1f, xd.Storage.AsSpan(xd.Offset, xd.Numel), inF,
                wd.Storage.AsSpan(wd.Offset, wd.Numel), ldw, 0f, y.AsSpan(), outF);
            if (bd is not null)
            {
                var bArr = bd.Storage; int bo = bd.Offset;
                ParallelChunks.For(m, Math.Max(1, ParallelChunks.MinParallelElements / outF), (r0, rn) =>
                {
                    var b = bArr.AsSpan(bo, outF);
                    for (int r = r0; r < r0 + rn; r++) { var row = yArr.AsSpan(r * outF, outF); TensorPrimitives.Add(row, b, row); }
                });
            }
        }

        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Tensor.Record(y, "Linear", inputs, g =>
        {
            var gd = g.Dense();                                       // (M, out)
            var gSpan = gd.Storage.AsSpan(gd.Offset, gd.Numel);
            if (x.RequiresGrad)
            {
                var dx = Tensor.Empty(xs);                            // (M, in) = g (M, out) · W (out, in)
                if (outF == 0) dx.AsSpan().Clear();
                else if (m > 0 && inF > 0)
                    Gemm.Sgemm(false, !wRowMajor, m, inF, outF, 1f, gSpan, outF, wd.Storage.AsSpan(wd.Offset, wd.Numel), ldw, 0f, dx.AsSpan(), inF);
                x.AccumulateGrad(dx);
            }
            if (weight.RequiresGrad)
            {
                var dw = Tensor.Empty(ws);                            // (out, in) = gᵀ (out, M) · x (M, in)
                if (m == 0) dw.AsSpan().Clear();
                else if (outF > 0 && inF > 0)
                    Gemm.Sgemm(true, false, outF, inF, m, 1f, gSpan, outF, xd.Storage.AsSpan(xd.Offset, xd.Numel), inF, 0f, dw.AsSpan(), inF);
                weight.AccumulateGrad(dw);
            }
            if (bias is not null && bias.RequiresGrad)
            {
                var db = Tensor.Zeros(outF);                          // (out) = Σ_rows g
                RowChunks.AddColumnSums(gd.Storage, gd.Offset, m, outF, db.Storage);
                bias.AccumulateGrad(db);
            }
        });
    }

    // ---------------------------------------------------------------- LayerNorm

    /// <summary>
    /// Layer normalisation over the trailing axes given by <paramref name="normalizedShape"/> (PyTorch <c>F.layer_norm</c>):
    /// for each row x of D = Π normalizedShape elements, y = (x − μ)/√(σ² + ε) ⊙ γ + β with μ the mean and σ² the
    /// population variance (divide by D) of the row; γ = <paramref name="weight"/>, β = <paramref name="bias"/>
    /// (shape <paramref name="normalizedShape"/>; null means 1 and 0).
    /// <para>
    /// <paramref name="eps"/> defaults to PyTorch's 1e-5; timm's ViTs use 1e-6 (pass it explicitly).
    /// One fused row kernel saves μ and rstd = 1/√(σ² + ε) per row; the fused backward is, with x̂ = (x − μ)·rstd and
    /// ĝ = g ⊙ γ: ∂x = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)), ∂γ = Σ_rows g ⊙ x̂, ∂β = Σ_rows g. Rows run in parallel when large.
    /// </para>
    /// </summary>
    /// <exception cref="ArgumentException">The trailing axes of x or the shapes of γ, β do not match <paramref name="normalizedShape"/>.</exception>
    public static Tensor LayerNorm(Tensor x, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        var xs = x.ShapeArray;
        int k = normalizedShape.Length;
        bool ok = k >= 1 && k <= xs.Length && xs.AsSpan(xs.Length - k).SequenceEqual(normalizedShape)
            && (weight is null || ShapeUtil.SameShape(weight.ShapeArray, normalizedShape))
            && (bias is null || ShapeUtil.SameShape(bias.ShapeArray, normalizedShape));
        if (!ok)
            throw new ArgumentException($"LayerNorm: input {ShapeUtil.Format(xs)}, normalizedShape {ShapeUtil.Format(normalizedShape)}, weight " +
                $"{(weight is null ? "none" : ShapeUtil.Format(weight.ShapeArray))} and bias {(bias is null ? "none" : ShapeUtil.Format(bias.ShapeArray))} do not fit " +
                "(the input's trailing axes, the weight and the bias must all have the normalized shape).");
        int d = ShapeUtil.Numel(normalizedShape);
        if (d == 0) throw new ArgumentException($"LayerNorm: normalizedShape {ShapeUtil.Format(normalizedShape)} has no elements.");
        int rows = x.Numel / d;

        var xd = x.Dense(); var xArr = xd.Storage; int xo = xd.Offset;
        var wd = weight?.Dense(); var bd = bias?.Dense();
        var y = Tensor.Empty(xs); var yArr = y.Storage;
        var stats = Tensor.Empty(2, rows); var st = stats.Storage;  // row 0: mean, row 1: rstd
        int chunks = RowChunks.Count(rows, d);
        ParallelChunks.For(chunks, 1, (c, _) =>
        {
            var (r0, r1) = RowChunks.Range(rows, chunks, c);
            ReadOnlySpan<float> gamma = wd is null ? default : wd.Storage.AsSpan(wd.Offset, d);
            ReadOnlySpan<float> beta = bd is null ? default : bd.Storage.AsSpan(bd.Offset, d);
            for (int r = r0; r < r1; r++)
            {
                var xr = xArr.AsSpan(xo + r * d, d); var yr = yArr.AsSpan(r * d, d);
                float mean = TensorPrimitives.Sum(xr) / d;
                TensorPrimitives.Subtract(xr, mean, yr);                  // x − μ
                float rstd = 1f / MathF.Sqrt(TensorPrimitives.Dot(yr, yr) / d + eps);
                st[r] = mean; st[rows + r] = rstd;
                TensorPrimitives.Multiply(yr, rstd, yr);                  // x̂
                if (wd is not null && bd is not null) TensorPrimitives.MultiplyAdd(yr, gamma, beta, yr);
                else if (wd is not null) TensorPrimitives.Multiply(yr, gamma, yr);
                else if (bd is not null) TensorPrimitives.Add(yr, beta, yr);
            }
        });

        var inputs = new List<Tensor>(3) { x };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        return Tensor.Record(y, "LayerNorm", [.. inputs], g =>
        {
            bool needX = x.RequiresGrad, needW = weight is not null && weight.RequiresGrad, needB = bias is not null && bias.RequiresGrad;
            var gd = g.Dense(); var gArr = gd.Storage; int go = gd.Offset;
            var dx = needX ? Tensor.Empty(xs) : null; var dxArr = dx?.Storage;
            // Per-chunk partial sums of ∂γ and ∂β, added in chunk order afterwards so results are bit-reproducible.
            var partial = needW || needB ? new float[chunks * 2 * d] : null;
            ParallelChunks.For(chunks, 1, (c, _) =>
            {
                var (r0, r1) = RowChunks.Range(rows, chunks, c);
                ReadOnlySpan<float> gamma = wd is null ? default : wd.Storage.AsSpan(wd.Offset, d);
                var scratch = new float[2 * d];
                var xhat = scratch.AsSpan(0, d); var ghat = scratch.AsSpan(d, d);
                var pw = partial is null ? default : partial.AsSpan(c * 2 * d, d);
                var pb = partial is null ? default : partial.AsSpan(c * 2 * d + d, d);
                for (int r = r0; r < r1; r++)
                {
                    var xr = xArr.AsSpan(xo + r * d, d); var gr = gArr.AsSpan(go + r * d, d);
                    float mean = st[r], rstd = st[rows + r];
                    TensorPrimitives.Subtract(xr, mean, xhat);
                    TensorPrimitives.Multiply(xhat, rstd, xhat);              // x̂
                    if (needW) TensorPrimitives.MultiplyAdd(gr, xhat, pw, pw); // ∂γ += g ⊙ x̂
                    if (needB) TensorPrimitives.Add(gr, pb, pb);               // ∂β += g
                    if (!needX) continue;
                    if (wd is null) gr.CopyTo(ghat); else TensorPrimitives.Multiply(gr, gamma, ghat);   // ĝ = g ⊙ γ
                    float a = TensorPrimitives.Sum(ghat) / d, b = TensorPrimitives.Dot(ghat, xhat) / d;
                    var dr = dxArr.AsSpan(r * d, d);
                    TensorPrimitives.MultiplyAdd(xhat, -b, ghat, dr);          // ĝ − x̂·mean(ĝ ⊙ x̂)
                    TensorPrimitives.Add(dr, -a, dr);                          //   − mean(ĝ)
                    TensorPrimitives.Multiply(dr, rstd, dr);                   // · rstd
                }
            });
            if (needX) x.AccumulateGrad(dx!);
            if (needW || needB)
            {
                var dw = needW ? Tensor.Zeros(normalizedShape) : null;
                var db = needB ? Tensor.Zeros(normalizedShape) : null;
                for (int c = 0; c < chunks; c++)
                {
                    if (dw is not null) TensorPrimitives.Add(dw.AsSpan(), partial.AsSpan(c * 2 * d, d), dw.AsSpan());
                    if (db is not null) TensorPrimitives.Add(db.AsSpan(), partial.AsSpan(c * 2 * d + d, d), db.AsSpan());
                }
                if (dw is not null) weight!.AccumulateGrad(dw);
                if (db is not null) bias!.AccumulateGrad(db);
            }
        });
    }

    // ---------------------------------------------------------------- Dropout

    /// <summary>
    /// Inverted dropout (PyTorch <c>F.dropout</c>): each element is kept with probability 1 − p and scaled by 1/(1 − p),
    /// otherwise zeroed, so E[y] = x. Returns x itself when !<paramref name="training"/> or p = 0; p = 1 gives zeros.
    /// The keep mask is drawn from <paramref name="generator"/> (default <see cref="Generator.Default"/>) in row-major order,
    /// one 32-bit uniform u per element (two per 64-bit draw, high half first), kept when u ≥ p·2³², so the same seed gives
    /// the same mask. ∂x = g ⊙ mask/(1 − p).
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Generator? generator = null)
    {
        if (!(p >= 0f && p <= 1f)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: probability p must be in [0, 1], got {p}.");
        if (!training || p == 0f) return x;
        var shape = x.ShapeArray;
        var y = Tensor.Empty(shape);
        if (p == 1f)
        {
            y.AsSpan().Clear();                                       // exact zeros, even where x is ±∞ or NaN
            return Tensor.Record(y, "Dropout", [x], g => x.AccumulateGrad(Tensor.Zeros(shape)));
        }
        var gen = generator ?? Generator.Default;
        float keep = 1f / (1f - p);
        long threshold = (long)Math.Ceiling(p * 4294967296.0);
        var mask = Tensor.Empty(shape);                               // 0 or 1/(1 − p)
        var ms = mask.AsSpan();
        int i = 0;
        for (; i + 1 < ms.Length; i += 2)
        {
            ulong bits = gen.NextUInt64();
            // kept ⇔ u ≥ threshold ⇔ the sign bit of u − threshold is clear (branch-free)
            ms[i] = keep * (1 - (int)((ulong)((long)(bits >> 32) - threshold) >> 63));
            ms[i + 1] = keep * (1 - (int)((ulong)((long)(bits & 0xFFFFFFFFUL) - threshold) >> 63));
        }
        if (i < ms.Length) ms[i] = keep * (1 - (int)((ulong)((long)(gen.NextUInt64() >> 32) - threshold) >> 63));
        TensorPrimitives.Multiply(x.Dense().AsSpan(), ms, y.AsSpan());
        return Tensor.Record(y, "Dropout", [x], g =>
        {
            var dx = Tensor.Empty(shape);
            TensorPrimitives.Multiply(g.Dense().AsSpan(), mask.AsSpan(), dx.AsSpan());
            x.AccumulateGrad(dx);
        });
    }

    // ---------------------------------------------------------------- Embedding

    /// <summary>
    /// Table lookup (PyTorch <c>F.embedding</c>): y[i…, :] = weight[indices[i…], :] for an index tensor of shape
    /// <paramref name="indexShape"/> (given row-major in <paramref name="indices"/>) and <paramref name="weight"/> (V, D)
    /// → (indexShape…, D). ∂weight[v] = Σ_{i: indices[i] = v} g[i] (scatter-add; repeated indices accumulate).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not fit, or an index is outside [0, V); the message names the index and V.</exception>
    public static Tensor Embedding(int[] indices, int[] indexShape, Tensor weight)
    {
        if (weight.Rank != 2)
            throw new ArgumentException($"Embedding: weight must be (V, D), got {ShapeUtil.Format(weight.ShapeArray)}.");
        if (ShapeUtil.Numel(indexShape) != indices.Length)
            throw new ArgumentException($"Embedding: {indices.Length} indices do not fill index shape {ShapeUtil.Format(indexShape)}.");
        int v = weight.ShapeArray[0], d = weight.ShapeArray[1];
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)v)
                throw new ArgumentException($"Embedding: index {indices[i]} at position {i} is out of range for a table of {v} rows (weight {ShapeUtil.Format(weight.ShapeArray)}).");
        var wd = weight.Dense(); var ws = wd.Storage.AsSpan(wd.Offset, wd.Numel);
        var y = Tensor.Empty([.. indexShape, d]);                      // (indexShape…, D)
        var ys = y.AsSpan();
        for (int i = 0; i < indices.Length; i++) ws.Slice(indices[i] * d, d).CopyTo(ys.Slice(i * d, d));
        return Tensor.Record(y, "Embedding", [weight], g =>
        {
            var gs = g.Dense().AsSpan();
            var dw = Tensor.Zeros(v, d); var dws = dw.AsSpan();
            for (int i = 0; i < indices.Length; i++)
            {
                var row = dws.Slice(indices[i] * d, d);
                TensorPrimitives.Add(row, gs.Slice(i * d, d), row);
            }
            weight.AccumulateGrad(dw);
        });
    }
}
