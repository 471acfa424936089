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

    /// <summary>cols[(c·KH + ki)·KW + kj, oh·OW + ow] = x[c, ih, iw] (0 outside the image); cols is (Rows, L).</summary>
    public void Im2Col(ReadOnlySpan<float> x, Span<float> cols)
    {
        int oh = OH, ow = OW, l = oh * ow;
        for (int c = 0; c < C; c++)
            for (int ki = 0; ki < KH; ki++)
                for (int kj = 0; kj < KW; kj++)
                {
                    var dst = cols.Slice(((c * KH + ki) * KW + kj) * l, l);
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

    /// <summary>The adjoint of <see cref="Im2Col"/> (col2im, PyTorch <c>fold</c>): dx[c, ih, iw] += cols[row, col] for every window reading it. Accumulates: zero dx first.</summary>
    public void Col2Im(ReadOnlySpan<float> cols, Span<float> dx)
    {
        int oh = OH, ow = OW, l = oh * ow;
        for (int c = 0; c < C; c++)
            for (int ki = 0; ki < KH; ki++)
                for (int kj = 0; kj < KW; kj++)
                {
                    var srcRow = cols.Slice(((c * KH + ki) * KW + kj) * l, l);
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
            for (int i = s; i < e; i++) win.Im2Col(xStore.AsSpan(xOff + i * img, img), yStore.AsSpan(i * colSize, colSize));
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
                    win.Col2Im(gStore.AsSpan(gOff + i * colSize, colSize), d);
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
                win.Col2Im(cStore.AsSpan(cOff + i * colSize, colSize), d);
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
                for (int i = s; i < e; i++) win.Im2Col(gStore.AsSpan(gOff + i * img, img), dStore.AsSpan(i * colSize, colSize));
            });
            cols.AccumulateGrad(dc);
        });
    }

    // ---------------------------------------------------------------- conv2d

    /// <summary>
    /// 2-D convolution (cross-correlation, PyTorch <c>F.conv2d</c>) over NCHW input x (B, C, H, W) — or one unbatched
    /// image (C, H, W) — with weight (O, C/groups, kh, kw) and optional bias (O):
    /// y[b, o, i, j] = bias[o] + Σ_{c ∈ group(o), ki, kj} W[o, c, ki, kj] · x[b, g·C/groups + c, i·s − p + ki·d, j·s − p + kj·d],
    /// zero padding; output (B, O, OH, OW) with OH = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1.
    /// <para>
    /// Computed per image as one GEMM per group, W_g (O/g, C/g·kh·kw) × im2col(x_b)_g (C/g·kh·kw, OH·OW), the batch spread
    /// over the cores; 1×1 stride-1 convolutions use the image itself as the column matrix, and non-overlapping
    /// windows (stride = kernel, no padding: the ViT patch embedding) use a transposed patch matrix built by row copies.
    /// Backward: ∂W = Σ_b g_b · cols_bᵀ, ∂x_b = col2im(Wᵀ · g_b), ∂bias = Σ_{b,i,j} g.
    /// </para>
    /// </summary>
    /// <exception cref="ArgumentException">Channel mismatch, groups not dividing the channels, a kernel larger than the padded input,
    /// or a bias of the wrong shape; the message names the shapes and parameters.</exception>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
        => Conv2d(x, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>
    /// 2-D convolution with separate (height, width) stride, padding and dilation (PyTorch <c>F.conv2d</c> with tuples);
    /// null dilation means (1, 1). Same math as <see cref="Conv2d(Tensor, Tensor, Tensor?, int, int, int, int)"/>.
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
        int oh = win.OH, ow = win.OW, l = win.L, rows = win.Rows, img = win.ImageSize;
        int og = o / groups, kg = rows / groups;                                 // per group: O/g outputs, C/g·kh·kw inputs
        // Column layout: pointwise reads x_b as (C, L); patchify builds (L, rows) and multiplies by its transpose; else im2col (rows, L).
        bool direct = win.IsPointwise, patches = !direct && win.IsPatchify;
        int colSize = direct ? 0 : rows * l;
        int ldCols = patches ? rows : l;
        long GroupOffset(int grp) => patches ? grp * kg : (long)grp * kg * l;     // where group grp's block starts in the column matrix

        var xd = x.Dense(); var wd = weight.Dense(); var bd = bias?.Dense();
        var xStore = xd.Storage; int xOff = xd.Offset;
        var wStore = wd.Storage; int wOff = wd.Offset;
        var y = Tensor.Empty(b, o, oh, ow);                                      // (B, O, OH, OW)
        var yStore = y.Storage;
        int outSize = o * l;
        int workers = BatchWorkers(b, (long)o * kg * l);

        SplitBatch(b, workers, (_, s, e) =>
        {
            float[] colBuf = colSize > 0 ? BufferPool.Rent(colSize) : [];
            try
            {
                for (int i = s; i < e; i++)
                {
                    var xb = xStore.AsSpan(xOff + i * img, img);                 // (C, H, W)
                    ReadOnlySpan<float> cols = xb;
                    if (patches) { win.Patchify(xb, colBuf); cols = colBuf.AsSpan(0, colSize); }
                    else if (!direct) { win.Im2Col(xb, colBuf); cols = colBuf.AsSpan(0, colSize); }
                    var yb = yStore.AsSpan(i * outSize, outSize);                // (O, L)
                    var wAll = wStore.AsSpan(wOff, o * kg);                      // (O, C/g·kh·kw)
                    for (int grp = 0; grp < groups; grp++)
                        Gemm.Sgemm(false, patches, og, l, kg, 1f, wAll.Slice(grp * og * kg), kg,
                            cols.Slice((int)GroupOffset(grp)), ldCols, 0f, yb.Slice(grp * og * l), l);
                    if (bd is not null)
                    {
                        var bs = bd.AsSpan();
                        for (int oc = 0; oc < o; oc++) { var row = yb.Slice(oc * l, l); TensorPrimitives.Add(row, bs[oc], row); }
                    }
                }
            }
            finally { if (colSize > 0) BufferPool.Return(colBuf); }
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
            var dw = needW ? Tensor.Empty(ws) : null;                            // (O, C/g, kh, kw)
            int wSize = o * kg;
            // Each worker accumulates its own ∂W over its samples; worker 0 writes into dw, the others into pooled partials.
            var partials = new float[workers][];
            if (needW)
            {
                partials[0] = dw!.Storage;
                for (int k = 1; k < workers; k++) partials[k] = BufferPool.Rent(wSize);
            }
            bool[] touched = new bool[workers];

            SplitBatch(b, workers, (worker, s, e) =>
            {
                float[] colBuf = needW && colSize > 0 ? BufferPool.Rent(colSize) : [];
                float[] dColBuf = needX && colSize > 0 ? BufferPool.Rent(colSize) : [];
                try
                {
                    var wAll = wStore.AsSpan(wOff, wSize);
                    for (int i = s; i < e; i++)
                    {
                        var gb = gStore.AsSpan(gOff + i * outSize, outSize);     // (O, L)
                        if (needW)
                        {
                            var xb = xStore.AsSpan(xOff + i * img, img);
                            ReadOnlySpan<float> cols = xb;
                            if (patches) { win.Patchify(xb, colBuf); cols = colBuf.AsSpan(0, colSize); }
                            else if (!direct) { win.Im2Col(xb, colBuf); cols = colBuf.AsSpan(0, colSize); }
                            var dwPart = partials[worker].AsSpan(0, wSize);
                            float beta = i == s ? 0f : 1f;
                            // ∂W_g (O/g, kg) += g_b,g (O/g, L) · cols_gᵀ (L, kg)
                            for (int grp = 0; grp < groups; grp++)
                                Gemm.Sgemm(false, !patches, og, kg, l, 1f, gb.Slice(grp * og * l), l,
                                    cols.Slice((int)GroupOffset(grp)), ldCols, beta, dwPart.Slice(grp * og * kg), kg);
                        }
                        if (needX)
                        {
                            var dxb = dxStore!.AsSpan(i * img, img);              // (C, H, W)
                            Span<float> dcols = direct ? dxb : dColBuf.AsSpan(0, colSize);
                            for (int grp = 0; grp < groups; grp++)
                            {
                                if (patches)   // ∂P[:, g-block] (L, kg) = g_b,gᵀ (L, O/g) · W_g (O/g, kg)
                                    Gemm.Sgemm(true, false, l, kg, og, 1f, gb.Slice(grp * og * l), l,
                                        wAll.Slice(grp * og * kg), kg, 0f, dcols.Slice(grp * kg), rows);
                                else           // ∂cols_g (kg, L) = W_gᵀ (kg, O/g) · g_b,g (O/g, L)
                                    Gemm.Sgemm(true, false, kg, l, og, 1f, wAll.Slice(grp * og * kg), kg,
                                        gb.Slice(grp * og * l), l, 0f, dcols.Slice(grp * kg * l), l);
                            }
                            if (patches) win.Unpatchify(dcols, dxb);
                            else if (!direct) { dxb.Clear(); win.Col2Im(dcols, dxb); }
                        }
                    }
                    touched[worker] = true;
                }
                finally
                {
                    if (colBuf.Length > 0) BufferPool.Return(colBuf);
                    if (dColBuf.Length > 0) BufferPool.Return(dColBuf);
                }
            });

            if (needW)
            {
                var dws = dw!.AsSpan();
                if (!touched[0]) dws.Clear();
                for (int k = 1; k < workers; k++)
                {
                    if (touched[k]) TensorPrimitives.Add(dws, partials[k].AsSpan(0, wSize), dws);
                    BufferPool.Return(partials[k]);
                }
                weight.AccumulateGrad(dw);
            }
            if (needX) x.AccumulateGrad(dx!);
        });
    }
}
