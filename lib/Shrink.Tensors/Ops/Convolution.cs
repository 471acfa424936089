using System.Numerics.Tensors;
using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

/// <summary>
/// Geometry of a 2-D sliding window over one (C, H, W) image, with the im2col / col2im kernels that the
/// convolution family shares. Window (oh, ow) reads input rows ih = oh·SH − PH + ki·DH and columns
/// iw = ow·SW − PW + kj·DW for ki &lt; KH, kj &lt; KW; positions outside the image read 0 (zero padding).
/// The column matrix has <see cref="Rows"/> = C·KH·KW rows ordered (c, ki, kj) and <see cref="L"/> = OH·OW columns
/// ordered (oh, ow), exactly the per-image layout of PyTorch's <c>unfold</c>.
/// </summary>
internal readonly record struct Window2d(int C, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW)
{
    /// <summary>Output rows: ⌊(H + 2·PH − DH·(KH − 1) − 1) / SH⌋ + 1.</summary>
    public int OH => (H + 2 * PH - DH * (KH - 1) - 1) / SH + 1;

    /// <summary>Output columns: ⌊(W + 2·PW − DW·(KW − 1) − 1) / SW⌋ + 1.</summary>
    public int OW => (W + 2 * PW - DW * (KW - 1) - 1) / SW + 1;

    /// <summary>Number of windows OH·OW.</summary>
    public int L => OH * OW;

    /// <summary>Rows of the column matrix, C·KH·KW.</summary>
    public int Rows => C * KH * KW;

    /// <summary>Elements of one input image, C·H·W.</summary>
    public int ImageSize => C * H * W;

    /// <summary>Non-overlapping windows that tile the image without padding (ViT patch embedding): im2col is a reshuffle.</summary>
    public bool IsPatchify => SH == KH && SW == KW && PH == 0 && PW == 0 && DH == 1 && DW == 1;

    /// <summary>A 1×1 window with stride 1 and no padding: the column matrix is the image itself, (C, H·W).</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && SH == 1 && SW == 1 && PH == 0 && PW == 0;

    /// <summary>The range [lo, hi) of output columns whose input column iw0 + ow·SW lies inside [0, W).</summary>
    private (int Lo, int Hi) ValidColumns(int iw0)
    {
        int ow = OW;
        int lo = iw0 >= 0 ? 0 : (-iw0 + SW - 1) / SW;
        int hi = iw0 > W - 1 ? 0 : (W - 1 - iw0) / SW + 1;
        lo = Math.Min(lo, ow); hi = Math.Min(hi, ow);
        return (lo, Math.Max(lo, hi));
    }

    /// <summary>
    /// cols[(c·KH + ki)·KW + kj, oh·OW + ow] = x[c, ih, iw] (0 outside the image); cols is (Rows, L) with row stride
    /// <paramref name="ld"/> ≥ L (several images side by side share one wider matrix).
    /// </summary>
    public void Im2Col(ReadOnlySpan<float> x, Span<float> cols, int ld)
    {
        if (IsRowShift) { Im2ColShift(x, cols, ld); return; }
        int oh = OH, ow = OW, l = oh * ow;
        for (int c = 0; c < C; c++)
            for (int ki = 0; ki < KH; ki++)
                for (int kj = 0; kj < KW; kj++)
                {
                    var dst = cols.Slice(((c * KH + ki) * KW + kj) * ld, l);
                    int iw0 = kj * DW - PW;
                    var (lo, hi) = ValidColumns(iw0);
                    for (int r = 0; r < oh; r++)
                    {
                        var d = dst.Slice(r * ow, ow);
                        int ih = r * SH - PH + ki * DH;
                        if ((uint)ih >= (uint)H) { d.Clear(); continue; }
                        var src = x.Slice((c * H + ih) * W, W);
                        d[..lo].Clear();
                        d[hi..].Clear();
                        if (SW == 1) src.Slice(iw0 + lo, hi - lo).CopyTo(d[lo..hi]);
                        else for (int q = lo, iw = iw0 + lo * SW; q < hi; q++, iw += SW) d[q] = src[iw];
                    }
                }
    }

    /// <summary>
    /// Stride 1 with "same" width (OW = W): every im2col row is the input plane shifted by a constant offset, so it is
    /// built with one long copy plus zeros at the padded border, instead of one short copy per output row.
    /// </summary>
    private bool IsRowShift => SH == 1 && SW == 1 && OW == W;

    /// <summary>The shifted-plane view of one im2col row (<see cref="IsRowShift"/>): rows [r0, r1) read the plane at offset shift.</summary>
    private (int R0, int R1, int Shift, int Lo, int Hi) ShiftRow(int ki, int kj)
    {
        int dh0 = ki * DH - PH, shift = kj * DW - PW;
        int r0 = Math.Max(0, -dh0), r1 = Math.Min(OH, H - dh0);
        var (lo, hi) = ValidColumns(shift);
        return (r0, Math.Max(r0, r1), dh0 * W + shift, lo, hi);
    }

    private void Im2ColShift(ReadOnlySpan<float> x, Span<float> cols, int ld)
    {
        int l = OH * W, plane = H * W;
        for (int c = 0; c < C; c++)
        {
            var src = x.Slice(c * plane, plane);
            for (int ki = 0; ki < KH; ki++)
                for (int kj = 0; kj < KW; kj++)
                {
                    var dst = cols.Slice(((c * KH + ki) * KW + kj) * ld, l);
                    var (r0, r1, shift, lo, hi) = ShiftRow(ki, kj);
                    if (r1 == r0 || hi == lo) { dst.Clear(); continue; }
                    dst[..(r0 * W)].Clear();
                    dst[(r1 * W)..].Clear();
                    // dst[t] = src[t + shift] for t in [r0·W, r1·W), clamped to the plane; what falls outside is in a padded column.
                    int t0 = Math.Max(r0 * W, -shift), t1 = Math.Min(r1 * W, plane - shift);
                    if (t1 > t0) src.Slice(t0 + shift, t1 - t0).CopyTo(dst.Slice(t0, t1 - t0));
                    ZeroPaddedColumns(dst, r0, r1, lo, hi);
                }
        }
    }

    /// <summary>Sets columns [0, lo) and [hi, W) of rows [r0, r1) of a (OH, W) row to 0 (the reads of padding).</summary>
    private void ZeroPaddedColumns(Span<float> row, int r0, int r1, int lo, int hi)
    {
        if (lo == 0 && hi == W) return;
        for (int r = r0; r < r1; r++)
        {
            var line = row.Slice(r * W, W);
            for (int q = 0; q < lo; q++) line[q] = 0f;
            for (int q = hi; q < W; q++) line[q] = 0f;
        }
    }

    /// <summary>
    /// <see cref="Col2Im"/> for a scratch column matrix that may be overwritten: with <see cref="IsRowShift"/> geometry each
    /// row is added to the plane with one long shifted add after its padded columns are zeroed.
    /// </summary>
    public void Col2ImScratch(Span<float> cols, Span<float> dx, int ld)
    {
        if (!IsRowShift) { Col2Im(cols, dx, ld); return; }
        int l = OH * W, plane = H * W;
        for (int c = 0; c < C; c++)
        {
            var d = dx.Slice(c * plane, plane);
            for (int ki = 0; ki < KH; ki++)
                for (int kj = 0; kj < KW; kj++)
                {
                    var row = cols.Slice(((c * KH + ki) * KW + kj) * ld, l);
                    var (r0, r1, shift, lo, hi) = ShiftRow(ki, kj);
                    if (r1 == r0 || hi == lo) continue;
                    ZeroPaddedColumns(row, r0, r1, lo, hi);
                    int t0 = Math.Max(r0 * W, -shift), t1 = Math.Min(r1 * W, plane - shift);
                    if (t1 <= t0) continue;
                    var seg = d.Slice(t0 + shift, t1 - t0);
                    TensorPrimitives.Add(seg, row.Slice(t0, t1 - t0), seg);
                }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Im2Col"/> (col2im, PyTorch <c>fold</c>): dx[c, ih, iw] += cols[row, col] for every window
    /// reading it; cols has row stride <paramref name="ld"/>. Accumulates: zero dx first.
    /// </summary>
    public void Col2Im(ReadOnlySpan<float> cols, Span<float> dx, int ld)
    {
        int oh = OH, ow = OW, l = oh * ow;
        for (int c = 0; c < C; c++)
            for (int ki = 0; ki < KH; ki++)
                for (int kj = 0; kj < KW; kj++)
                {
                    var srcRow = cols.Slice(((c * KH + ki) * KW + kj) * ld, l);
                    int iw0 = kj * DW - PW;
                    var (lo, hi) = ValidColumns(iw0);
                    if (hi == lo) continue;
                    for (int r = 0; r < oh; r++)
                    {
                        int ih = r * SH - PH + ki * DH;
                        if ((uint)ih >= (uint)H) continue;
                        var s = srcRow.Slice(r * ow, ow);
                        var d = dx.Slice((c * H + ih) * W, W);
                        if (SW == 1)
                        {
                            var seg = d.Slice(iw0 + lo, hi - lo);
                            TensorPrimitives.Add(seg, s[lo..hi], seg);
                        }
                        else for (int q = lo, iw = iw0 + lo * SW; q < hi; q++, iw += SW) d[iw] += s[q];
                    }
                }
    }

    /// <summary>
    /// Patch matrix for <see cref="IsPatchify"/> windows, transposed relative to im2col: p[oh·OW + ow, (c·KH + ki)·KW + kj]
    /// = x[c, oh·KH + ki, ow·KW + kj]; p is (L, Rows) and every patch row is KW contiguous input values.
    /// </summary>
    public void Patchify(ReadOnlySpan<float> x, Span<float> p)
    {
        int oh = OH, ow = OW, rows = Rows;
        for (int r = 0; r < oh; r++)
            for (int q = 0; q < ow; q++)
            {
                var dst = p.Slice((r * ow + q) * rows, rows);
                for (int c = 0; c < C; c++)
                    for (int ki = 0; ki < KH; ki++)
                        x.Slice((c * H + r * KH + ki) * W + q * KW, KW).CopyTo(dst.Slice((c * KH + ki) * KW, KW));
            }
    }

    /// <summary>The adjoint of <see cref="Patchify"/>: writes every element of dx (patches do not overlap; uncovered border pixels get 0).</summary>
    public void Unpatchify(ReadOnlySpan<float> p, Span<float> dx)
    {
        int oh = OH, ow = OW, rows = Rows;
        if (oh * KH != H || ow * KW != W) dx.Clear();
        for (int r = 0; r < oh; r++)
            for (int q = 0; q < ow; q++)
            {
                var src = p.Slice((r * ow + q) * rows, rows);
                for (int c = 0; c < C; c++)
                    for (int ki = 0; ki < KH; ki++)
                        src.Slice((c * KH + ki) * KW, KW).CopyTo(dx.Slice((c * H + r * KH + ki) * W + q * KW, KW));
            }
    }
}

// Convolution family: unfold (im2col), fold (col2im) and conv2d, each forward followed by its backward rule.
public static partial class Functional
{
    // ---------------------------------------------------------------- shared helpers

    /// <summary>Below this many multiply-adds in a whole batch, per-sample loops stay on the calling thread.</summary>
    private const long ConvParallelWork = 1L << 17;

    /// <summary>How many workers to split a batch of <paramref name="batch"/> samples over, given the work of one sample.</summary>
    private static int BatchWorkers(int batch, long workPerSample) =>
        batch >= 2 && workPerSample * batch >= ConvParallelWork ? Math.Min(Environment.ProcessorCount, batch) : 1;

    /// <summary>Runs body(worker, start, end) over <paramref name="workers"/> contiguous slices of [0, batch).</summary>
    private static void SplitBatch(int batch, int workers, Action<int, int, int> body)
    {
        if (workers <= 1) { if (batch > 0) body(0, 0, batch); return; }
        ParallelChunks.For(workers, 1, (w0, nw) =>
        {
            for (int w = w0; w < w0 + nw; w++)
            {
                int s = (int)((long)batch * w / workers), e = (int)((long)batch * (w + 1) / workers);
                if (e > s) body(w, s, e);
            }
        });
    }

    private static void CheckWindowArgs(string op, int[] xShape, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw)
    {
        string args = $"kernel ({kh}, {kw}), stride ({sh}, {sw}), padding ({ph}, {pw}), dilation ({dh}, {dw})";
        if (kh < 1 || kw < 1) throw new ArgumentException($"{op}: kernel size must be positive; got {args} for input {ShapeUtil.Format(xShape)}.");
        if (sh < 1 || sw < 1) throw new ArgumentException($"{op}: stride must be positive; got {args} for input {ShapeUtil.Format(xShape)}.");
        if (ph < 0 || pw < 0) throw new ArgumentException($"{op}: padding must be non-negative; got {args} for input {ShapeUtil.Format(xShape)}.");
        if (dh < 1 || dw < 1) throw new ArgumentException($"{op}: dilation must be positive; got {args} for input {ShapeUtil.Format(xShape)}.");
    }

    private static Window2d MakeWindow(string op, int[] xShape, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw)
    {
        CheckWindowArgs(op, xShape, kh, kw, sh, sw, ph, pw, dh, dw);
        int ekh = dh * (kh - 1) + 1, ekw = dw * (kw - 1) + 1;
        if (ekh > h + 2 * ph || ekw > w + 2 * pw)
            throw new ArgumentException($"{op}: kernel ({kh}, {kw}) with dilation ({dh}, {dw}) spans ({ekh}, {ekw}), larger than the padded input " +
                $"({h + 2 * ph}, {w + 2 * pw}) of input {ShapeUtil.Format(xShape)} with padding ({ph}, {pw}).");
        return new Window2d(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw);
    }

    // ---------------------------------------------------------------- unfold / fold

    /// <summary>
    /// im2col (PyTorch <c>F.unfold</c>): (B, C, H, W) → (B, C·k·k, L), L = OH·OW, where
    /// y[b, (c·k + ki)·k + kj, oh·OW + ow] = x[b, c, oh·s − p + ki·d, ow·s − p + kj·d] (0 in the padding),
    /// OH = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1 (likewise OW). Backward is col2im (<see cref="Fold(Tensor, int, int, int, int, int, int)"/>),
    /// which sums the gradients of overlapping windows.
    /// </summary>
    public static Tensor Unfold(Tensor x, int kernelSize, int dilation = 1, int padding = 0, int stride = 1)
        => Unfold(x, (kernelSize, kernelSize), (dilation, dilation), (padding, padding), (stride, stride));

    /// <summary>
    /// im2col with separate (height, width) kernel, dilation, padding and stride (PyTorch <c>F.unfold</c> with tuples):
    /// (B, C, H, W) → (B, C·kh·kw, OH·OW). Null dilation and stride mean (1, 1); null padding (0, 0).
    /// </summary>
    public static Tensor Unfold(Tensor x, (int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null, (int H, int W)? stride = null)
    {
        var (dh, dw) = dilation ?? (1, 1);
        var (ph, pw) = padding ?? (0, 0);
        var (sh, sw) = stride ?? (1, 1);
        var xs = x.ShapeArray;
        if (x.Rank != 4) throw new ArgumentException($"Unfold: input must be (B, C, H, W); got {ShapeUtil.Format(xs)}.");
        int b = xs[0];
        var win = MakeWindow("Unfold", xs, xs[1], xs[2], xs[3], kernelSize.H, kernelSize.W, sh, sw, ph, pw, dh, dw);
        int rows = win.Rows, l = win.L, img = win.ImageSize, colSize = rows * l;
        var xd = x.Dense();
        var xStore = xd.Storage; int xOff = xd.Offset;
        var y = Tensor.Empty(b, rows, l);                                        // (B, C·kh·kw, L)
        var yStore = y.Storage;
        SplitBatch(b, BatchWorkers(b, colSize), (_, s, e) =>
        {
            for (int i = s; i < e; i++) win.Im2Col(xStore.AsSpan(xOff + i * img, img), yStore.AsSpan(i * colSize, colSize), l);
        });
        return Tensor.Record(y, "Unfold", [x], g =>
        {
            var gd = g.Dense();
            var gStore = gd.Storage; int gOff = gd.Offset;
            var dx = Tensor.Empty(xs);                                           // (B, C, H, W)
            var dStore = dx.Storage;
            SplitBatch(b, BatchWorkers(b, colSize), (_, s, e) =>
            {
                for (int i = s; i < e; i++)
                {
                    var d = dStore.AsSpan(i * img, img);
                    d.Clear();
                    win.Col2Im(gStore.AsSpan(gOff + i * colSize, colSize), d, l);
                }
            });
            x.AccumulateGrad(dx);
        });
    }

    /// <summary>
    /// col2im (PyTorch <c>F.fold</c>): (B, C·k·k, L) → (B, C, outputH, outputW), summing every column entry into the
    /// pixel its window position reads: y[b, c, oh·s − p + ki·d, ow·s − p + kj·d] += cols[b, (c·k + ki)·k + kj, oh·OW + ow].
    /// L must equal OH·OW of the (outputH, outputW) image. The adjoint of <see cref="Unfold(Tensor, int, int, int, int)"/>;
    /// its backward is im2col.
    /// </summary>
    public static Tensor Fold(Tensor cols, int outputH, int outputW, int kernelSize, int dilation = 1, int padding = 0, int stride = 1)
        => Fold(cols, (outputH, outputW), (kernelSize, kernelSize), (dilation, dilation), (padding, padding), (stride, stride));

    /// <summary>col2im with separate (height, width) parameters (PyTorch <c>F.fold</c> with tuples). Null dilation and stride mean (1, 1); null padding (0, 0).</summary>
    public static Tensor Fold(Tensor cols, (int H, int W) outputSize, (int H, int W) kernelSize, (int H, int W)? dilation = null, (int H, int W)? padding = null, (int H, int W)? stride = null)
    {
        var (dh, dw) = dilation ?? (1, 1);
        var (ph, pw) = padding ?? (0, 0);
        var (sh, sw) = stride ?? (1, 1);
        var cs = cols.ShapeArray;
        if (cols.Rank != 3) throw new ArgumentException($"Fold: input must be (B, C·kh·kw, L); got {ShapeUtil.Format(cs)}.");
        int kk = kernelSize.H * kernelSize.W;
        CheckWindowArgs("Fold", cs, kernelSize.H, kernelSize.W, sh, sw, ph, pw, dh, dw);
        if (kk == 0 || cs[1] % kk != 0)
            throw new ArgumentException($"Fold: input {ShapeUtil.Format(cs)} has {cs[1]} rows, not a multiple of kernel ({kernelSize.H}, {kernelSize.W}) = {kk}.");
        int b = cs[0], c = cs[1] / kk;
        int[] outShape = [b, c, outputSize.H, outputSize.W];
        var win = MakeWindow("Fold", outShape, c, outputSize.H, outputSize.W, kernelSize.H, kernelSize.W, sh, sw, ph, pw, dh, dw);
        if (win.L != cs[2])
            throw new ArgumentException($"Fold: input {ShapeUtil.Format(cs)} has {cs[2]} windows, but output size ({outputSize.H}, {outputSize.W}) with kernel ({kernelSize.H}, {kernelSize.W}), " +
                $"stride ({sh}, {sw}), padding ({ph}, {pw}), dilation ({dh}, {dw}) gives {win.OH}·{win.OW} = {win.L}.");
        int img = win.ImageSize, colSize = win.Rows * win.L;
        var cd = cols.Dense();
        var cStore = cd.Storage; int cOff = cd.Offset;
        var y = Tensor.Empty(outShape);                                          // (B, C, H, W)
        var yStore = y.Storage;
        SplitBatch(b, BatchWorkers(b, colSize), (_, s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                var d = yStore.AsSpan(i * img, img);
                d.Clear();
                win.Col2Im(cStore.AsSpan(cOff + i * colSize, colSize), d, win.L);
            }
        });
        return Tensor.Record(y, "Fold", [cols], g =>
        {
            var gd = g.Dense();
            var gStore = gd.Storage; int gOff = gd.Offset;
            var dc = Tensor.Empty(cs);                                           // (B, C·kh·kw, L)
            var dStore = dc.Storage;
            SplitBatch(b, BatchWorkers(b, colSize), (_, s, e) =>
            {
                for (int i = s; i < e; i++) win.Im2Col(gStore.AsSpan(gOff + i * img, img), dStore.AsSpan(i * colSize, colSize), win.L);
            });
            cols.AccumulateGrad(dc);
        });
    }

    // ---------------------------------------------------------------- conv2d

    /// <summary>Column matrices are built for several images side by side, about this many floats (1 MiB, a core's L2; at least one image) per GEMM.</summary>
    private const int ConvChunkFloats = 1 << 18;

    /// <summary>Images are grouped until a GEMM has about this many columns (narrower GEMMs lose speed to packing).</summary>
    private const int ConvTargetWidth = 768;

    /// <summary>
    /// 2-D convolution (cross-correlation, PyTorch <c>F.conv2d</c>) over NCHW input x (B, C, H, W) — or one unbatched
    /// image (C, H, W) — with weight (O, C/groups, kh, kw) and optional bias (O):
    /// y[b, o, i, j] = bias[o] + Σ_{c &lt; C/groups, ki, kj} W[o, c, ki, kj] · x[b, g(o)·C/groups + c, i·s − p + ki·d, j·s − p + kj·d]
    /// with g(o) = ⌊o / (O/groups)⌋ and zero padding; output (B, O, OH, OW), OH = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1.
    /// <para>
    /// Computed as im2col + GEMM, chunk by chunk, each core taking its own chunks: the column matrices of a chunk's n images
    /// lie side by side, (C·kh·kw, n·L) with L = OH·OW, and are multiplied by W_g (O/g, C/g·kh·kw) once per group. A chunk
    /// holds enough images for a GEMM about 768 columns wide while its columns stay within a core's L2 cache; with one image
    /// per chunk the GEMM writes the output in place, and a 1×1 stride-1 convolution reads the image itself. Stride-1 "same"
    /// convolutions build each im2col row as one shifted copy of the input plane; non-overlapping windows (stride = kernel,
    /// no padding, dilation 1: the ViT patch embedding) build a transposed patch matrix (n·L, C·kh·kw) by row copies.
    /// Backward, with G the output gradient laid out like the output chunk: ∂W = Σ G · colsᵀ (one partial per core),
    /// ∂x = col2im(Wᵀ · G), ∂bias = Σ_{b,i,j} g.
    /// </para>
    /// </summary>
    /// <exception cref="ArgumentException">Channel mismatch, groups not dividing the channels, a kernel larger than the padded input,
    /// or a bias of the wrong shape; the message names the shapes and parameters.</exception>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
        => Conv2d(x, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>
    /// 2-D convolution with separate (height, width) stride, padding and dilation (PyTorch <c>F.conv2d</c> with tuples, e.g.
    /// <c>Conv2d(x, w, b, stride: (2, 1), padding: (1, 0))</c>); null dilation means (1, 1). Same math as
    /// <see cref="Conv2d(Tensor, Tensor, Tensor?, int, int, int, int)"/>.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W)? dilation = null, int groups = 1)
    {
        var (sh, sw) = stride;
        var (ph, pw) = padding;
        var (dh, dw) = dilation ?? (1, 1);
        var xs = x.ShapeArray; var ws = weight.ShapeArray;
        string Args() => $"input {ShapeUtil.Format(xs)}, weight {ShapeUtil.Format(ws)}{(bias is null ? "" : $", bias {ShapeUtil.Format(bias.ShapeArray)}")}, " +
            $"stride ({sh}, {sw}), padding ({ph}, {pw}), dilation ({dh}, {dw}), groups {groups}";
        if (x.Rank == 3 && weight.Rank == 4)
            return Conv2d(x.Unsqueeze(0), weight, bias, stride, padding, dilation, groups).Squeeze(0);
        if (x.Rank != 4 || weight.Rank != 4)
            throw new ArgumentException($"Conv2d: expected input (B, C, H, W) and weight (O, C/groups, kh, kw); got {Args()}.");
        if (groups < 1) throw new ArgumentException($"Conv2d: groups must be positive; got {Args()}.");
        int b = xs[0], c = xs[1], h = xs[2], w = xs[3];
        int o = ws[0], kh = ws[2], kw = ws[3];
        if (c % groups != 0 || o % groups != 0)
            throw new ArgumentException($"Conv2d: groups {groups} must divide both the input channels {c} and the output channels {o}; got {Args()}.");
        if (ws[1] * groups != c)
            throw new ArgumentException($"Conv2d: input has {c} channels but weight expects weight.shape[1]·groups = {ws[1]}·{groups} = {ws[1] * groups}; got {Args()}.");
        if (bias is not null && (bias.Rank != 1 || bias.ShapeArray[0] != o))
            throw new ArgumentException($"Conv2d: bias must have shape [{o}] (one per output channel); got {Args()}.");
        CheckWindowArgs("Conv2d", xs, kh, kw, sh, sw, ph, pw, dh, dw);
        int ekh = dh * (kh - 1) + 1, ekw = dw * (kw - 1) + 1;
        if (ekh > h + 2 * ph || ekw > w + 2 * pw)
            throw new ArgumentException($"Conv2d: kernel ({kh}, {kw}) with dilation ({dh}, {dw}) spans ({ekh}, {ekw}), larger than the padded input ({h + 2 * ph}, {w + 2 * pw}); got {Args()}.");

        var win = new Window2d(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw);
        int oh = win.OH, ow = win.OW, l = win.L, rows = win.Rows, img = win.ImageSize, outSize = o * l;
        int og = o / groups, kg = rows / groups;                                 // per group: O/g outputs, C/g·kh·kw taps
        bool patches = win.IsPatchify && !win.IsPointwise;
        // Images per chunk: enough for a GEMM about ConvTargetWidth columns wide, as long as the chunk's column matrix fits
        // in a core's L2 cache; balanced so all chunks hold the same number of images.
        int nb = (int)Math.Clamp(Math.Min((ConvTargetWidth + l - 1) / l, ConvChunkFloats / Math.Max(1L, (long)rows * l)), 1, Math.Max(b, 1));
        int chunks = (b + nb - 1) / nb;
        if (chunks > 0) nb = (b + chunks - 1) / chunks;
        // One image per chunk: the GEMM writes the output (and reads the output gradient) in place; a 1×1 stride-1 convolution
        // also reads the image itself as its column matrix and writes ∂x in place.
        bool direct = nb == 1, identityCols = direct && win.IsPointwise;
        // Chunks are spread over the cores, each core running im2col, GEMM and scatter on its own chunks; with one chunk
        // (or little work) the GEMM itself runs on all cores instead.
        int workers = chunks >= 2 && (long)b * o * kg * l >= ConvParallelWork ? Math.Min(Environment.ProcessorCount, chunks) : 1;
        bool innerParallel = workers == 1;
        int minImages = Math.Max(1, ParallelChunks.MinParallelElements / Math.Max(1, rows * l));
        int minOutImages = Math.Max(1, ParallelChunks.MinParallelElements / Math.Max(1, outSize));

        var xd = x.Dense(); var wd = weight.Dense(); var bd = bias?.Dense();
        var xStore = xd.Storage; int xOff = xd.Offset;
        var wStore = wd.Storage; int wOff = wd.Offset;
        var bStore = bd?.Storage; int bOff = bd?.Offset ?? 0;

        // Runs body(j0, count) over the n images of a chunk: on all cores when the chunk is processed by one worker.
        void ForImages(int n, int minPer, Action<int, int> body)
        {
            if (innerParallel) ParallelChunks.For(n, minPer, body);
            else body(0, n);
        }
        // Column matrix of images [b0, b0 + n) into buf (or the image itself): returns its storage and offset.
        // im2col (rows, n·L), image j in columns j·L…; patches (n·L, rows), image j in rows j·L….
        (float[] Arr, int Off) Columns(float[] buf, int b0, int n)
        {
            if (identityCols) return (xStore, xOff + b0 * img);
            int width = n * l;
            ForImages(n, minImages, (j0, nj) =>
            {
                for (int j = j0; j < j0 + nj; j++)
                {
                    var xj = xStore.AsSpan(xOff + (b0 + j) * img, img);
                    if (patches) win.Patchify(xj, buf.AsSpan(j * l * rows, l * rows));
                    else win.Im2Col(xj, buf.AsSpan(j * l), width);
                }
            });
            return (buf, 0);
        }
        // Start and leading dimension of group grp's block of the column matrix (width = n·L).
        int ColsOffset(int grp, int width) => patches ? grp * kg : grp * kg * width;
        int ColsLd(int width) => patches ? rows : width;
        // Chunk c holds images [c·nb, min((c + 1)·nb, B)).
        (int B0, int N) Chunk(int chunk) => (chunk * nb, Math.Min(nb, b - chunk * nb));

        var y = Tensor.Empty(b, o, oh, ow);                                      // (B, O, OH, OW)
        var yStore = y.Storage;
        SplitBatch(chunks, workers, (_, c0, c1) =>
        {
            var colBuf = identityCols ? [] : BufferPool.Rent(rows * nb * l);     // (rows, n·L) or (n·L, rows)
            var outBuf = direct ? [] : BufferPool.Rent(o * nb * l);              // (O, n·L)
            try
            {
                var wAll = wStore.AsSpan(wOff, o * kg);                          // (O, C/g·kh·kw)
                for (int chunk = c0; chunk < c1; chunk++)
                {
                    var (b0, n) = Chunk(chunk);
                    int width = n * l;
                    var (colArr, colOff) = Columns(colBuf, b0, n);
                    var (outArr, outOff) = direct ? (yStore, b0 * outSize) : (outBuf, 0);
                    for (int grp = 0; grp < groups; grp++)                       // Y_g (O/g, n·L) = W_g · cols_g
                        Gemm.Sgemm(false, patches, og, width, kg, 1f, wAll.Slice(grp * og * kg), kg,
                            colArr.AsSpan(colOff + ColsOffset(grp, width)), ColsLd(width), 0f, outArr.AsSpan(outOff + grp * og * width), width);
                    // (O, n·L) → y[b0 + j, o, :], plus bias
                    if (direct && bStore is null) continue;
                    ForImages(n, minOutImages, (j0, nj) =>
                    {
                        for (int j = j0; j < j0 + nj; j++)
                            for (int oc = 0; oc < o; oc++)
                            {
                                var src = outArr.AsSpan(outOff + oc * width + j * l, l);
                                var dst = yStore.AsSpan((b0 + j) * outSize + oc * l, l);
                                if (bStore is null) src.CopyTo(dst);
                                else TensorPrimitives.Add(src, bStore[bOff + oc], dst);
                            }
                    });
                }
            }
            finally { BufferPool.Return(colBuf); BufferPool.Return(outBuf); }
        });

        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Tensor.Record(y, "Conv2d", inputs, g =>
        {
            var gd = g.Dense();                                                  // (B, O, OH, OW)
            var gStore = gd.Storage; int gOff = gd.Offset;
            bool needX = x.RequiresGrad, needW = weight.RequiresGrad, needB = bias is not null && bias.RequiresGrad;
            if (needB)
            {
                var db = Tensor.Empty(o);                                        // (O)
                var dbs = db.AsSpan();
                for (int oc = 0; oc < o; oc++)
                {
                    double acc = 0;
                    for (int i = 0; i < b; i++) acc += TensorPrimitives.Sum(gStore.AsSpan(gOff + i * outSize + oc * l, l));
                    dbs[oc] = (float)acc;
                }
                bias!.AccumulateGrad(db);
            }
            if (!needX && !needW) return;

            var dx = needX ? Tensor.Empty(xs) : null;                            // (B, C, H, W)
            var dxStore = dx?.Storage;
            int wSize = o * kg;
            var dW = needW ? Tensor.Zeros(ws) : null;                            // (O, C/g, kh, kw)
            // Each worker accumulates ∂W over its own chunks: worker 0 into dW, the others into pooled partials added at the end.
            var partials = new float[workers][];
            if (dW is not null)
            {
                partials[0] = dW.Storage;
                for (int k = 1; k < workers; k++) { partials[k] = BufferPool.Rent(wSize); partials[k].AsSpan().Clear(); }
            }

            SplitBatch(chunks, workers, (worker, c0, c1) =>
            {
                var colBuf = identityCols ? [] : BufferPool.Rent(rows * nb * l);
                var gBuf = direct ? [] : BufferPool.Rent(o * nb * l);            // G (O, n·L)
                try
                {
                    var wAll = wStore.AsSpan(wOff, wSize);
                    for (int chunk = c0; chunk < c1; chunk++)
                    {
                        var (b0, n) = Chunk(chunk);
                        int width = n * l;
                        var (gArr, gAt) = direct ? (gStore, gOff + b0 * outSize) : (gBuf, 0);
                        if (!direct)
                            ForImages(n, minOutImages, (j0, nj) =>
                            {
                                for (int j = j0; j < j0 + nj; j++)
                                    for (int oc = 0; oc < o; oc++)
                                        gStore.AsSpan(gOff + (b0 + j) * outSize + oc * l, l).CopyTo(gBuf.AsSpan(oc * width + j * l, l));
                            });
                        if (dW is not null)
                        {
                            var (colArr, colOff) = Columns(colBuf, b0, n);
                            var dws = partials[worker].AsSpan(0, wSize);
                            for (int grp = 0; grp < groups; grp++)               // ∂W_g (O/g, kg) += G_g (O/g, n·L) · cols_gᵀ (n·L, kg)
                                Gemm.Sgemm(false, !patches, og, kg, width, 1f, gArr.AsSpan(gAt + grp * og * width), width,
                                    colArr.AsSpan(colOff + ColsOffset(grp, width)), ColsLd(width), 1f, dws.Slice(grp * og * kg), kg);
                        }
                        if (dxStore is not null)
                        {
                            var (dcArr, dcOff) = identityCols ? (dxStore, b0 * img) : (colBuf, 0);
                            for (int grp = 0; grp < groups; grp++)
                            {
                                if (patches)   // ∂P[:, g-block] (n·L, kg) = G_gᵀ (n·L, O/g) · W_g (O/g, kg)
                                    Gemm.Sgemm(true, false, width, kg, og, 1f, gArr.AsSpan(gAt + grp * og * width), width,
                                        wAll.Slice(grp * og * kg), kg, 0f, dcArr.AsSpan(dcOff + grp * kg), rows);
                                else           // ∂cols_g (kg, n·L) = W_gᵀ (kg, O/g) · G_g (O/g, n·L)
                                    Gemm.Sgemm(true, false, kg, width, og, 1f, wAll.Slice(grp * og * kg), kg,
                                        gArr.AsSpan(gAt + grp * og * width), width, 0f, dcArr.AsSpan(dcOff + grp * kg * width), width);
                            }
                            if (identityCols) continue;
                            ForImages(n, minImages, (j0, nj) =>
                            {
                                for (int j = j0; j < j0 + nj; j++)
                                {
                                    var dxj = dxStore.AsSpan((b0 + j) * img, img);
                                    if (patches) win.Unpatchify(colBuf.AsSpan(j * l * rows, l * rows), dxj);
                                    else { dxj.Clear(); win.Col2ImScratch(colBuf.AsSpan(j * l), dxj, width); }
                                }
                            });
                        }
                    }
                }
                finally { BufferPool.Return(colBuf); BufferPool.Return(gBuf); }
            });

            if (dW is not null)
            {
                var dws = dW.AsSpan();
                for (int k = 1; k < workers; k++) { TensorPrimitives.Add(dws, partials[k].AsSpan(0, wSize), dws); BufferPool.Return(partials[k]); }
                weight.AccumulateGrad(dW);
            }
            if (dx is not null) x.AccumulateGrad(dx);
        });
    }
}
