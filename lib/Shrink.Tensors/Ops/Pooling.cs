using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

// Pooling: average, max, adaptive average and global average over NCHW planes, each forward followed by its backward rule.
public static partial class Functional
{
    /// <summary>Runs body(start, count) over the B·C planes of a pooling op, in parallel when the planes hold enough work.</summary>
    private static void ForPlanes(int planes, long workPerPlane, Action<int, int> body)
    {
        int minPlanes = (int)Math.Max(1, ParallelChunks.MinParallelElements / Math.Max(workPerPlane, 1));
        ParallelChunks.For(planes, minPlanes, body);
    }

    /// <summary>Validates a pooling input (B, C, H, W) and window; returns the output size. PyTorch's rules: padding at most half the kernel.</summary>
    private static (int OH, int OW) PoolGeometry(string op, Tensor x, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        var xs = x.ShapeArray;
        if (x.Rank != 4) throw new ArgumentException($"{op}: input must be (B, C, H, W); got {ShapeUtil.Format(xs)}.");
        CheckWindowArgs(op, xs, kh, kw, sh, sw, ph, pw, 1, 1);
        if (2 * ph > kh || 2 * pw > kw)
            throw new ArgumentException($"{op}: padding ({ph}, {pw}) must be at most half the kernel ({kh}, {kw}) (input {ShapeUtil.Format(xs)}).");
        int h = xs[2], w = xs[3];
        if (kh > h + 2 * ph || kw > w + 2 * pw)
            throw new ArgumentException($"{op}: kernel ({kh}, {kw}) is larger than the padded input ({h + 2 * ph}, {w + 2 * pw}) of input {ShapeUtil.Format(xs)} with padding ({ph}, {pw}).");
        return ((h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1);
    }

    /// <summary>Rank-3 (C, H, W) input is treated as one image, as PyTorch does for unbatched input.</summary>
    private static Tensor Unbatched(Tensor x, Func<Tensor, Tensor> op) => op(x.Unsqueeze(0)).Squeeze(0);

    // ---------------------------------------------------------------- average pooling

    /// <summary>
    /// 2-D average pooling (PyTorch <c>F.avg_pool2d</c>, ceil_mode false) over (B, C, H, W) or (C, H, W):
    /// y[b, c, i, j] = (1/N) Σ_{ki, kj} x[b, c, i·s − p + ki, j·s − p + kj], padding reading 0. N = k² when
    /// <paramref name="countIncludePad"/> (PyTorch's default), else the number of in-image elements of the window.
    /// Stride defaults to the kernel size. Backward: each window spreads g/N over its in-image elements.
    /// </summary>
    public static Tensor AvgPool2d(Tensor x, int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true)
        => AvgPool2d(x, (kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding), countIncludePad);

    /// <summary>2-D average pooling with separate (height, width) kernel, stride (null: the kernel) and padding (null: 0).</summary>
    public static Tensor AvgPool2d(Tensor x, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null, bool countIncludePad = true)
    {
        if (x.Rank == 3) return Unbatched(x, t => AvgPool2d(t, kernelSize, stride, padding, countIncludePad));
        var (kh, kw) = kernelSize;
        var (sh, sw) = stride ?? kernelSize;
        var (ph, pw) = padding ?? (0, 0);
        var (oh, ow) = PoolGeometry("AvgPool2d", x, kh, kw, sh, sw, ph, pw);
        var xs = x.ShapeArray;
        int planes = xs[0] * xs[1], h = xs[2], w = xs[3], inPlane = h * w, outPlane = oh * ow;
        // Divisor of window (i, j); identical for every plane.
        var divisor = new float[outPlane];
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                int hs = i * sh - ph, ws = j * sw - pw;
                int n = countIncludePad
                    ? (Math.Min(hs + kh, h + ph) - hs) * (Math.Min(ws + kw, w + pw) - ws)
                    : (Math.Min(hs + kh, h) - Math.Max(hs, 0)) * (Math.Min(ws + kw, w) - Math.Max(ws, 0));
                divisor[i * ow + j] = 1f / n;
            }
        var xd = x.Dense();
        var xStore = xd.Storage; int xOff = xd.Offset;
        var y = Tensor.Empty(xs[0], xs[1], oh, ow);                               // (B, C, OH, OW)
        var yStore = y.Storage;
        ForPlanes(planes, (long)outPlane * kh * kw, (p0, np) =>
        {
            for (int p = p0; p < p0 + np; p++)
                AvgPoolPlane(xStore.AsSpan(xOff + p * inPlane, inPlane), yStore.AsSpan(p * outPlane, outPlane), divisor, h, w, oh, ow, kh, kw, sh, sw, ph, pw);
        });
        return Tensor.Record(y, "AvgPool2d", [x], g =>
        {
            var gd = g.Dense();
            var gStore = gd.Storage; int gOff = gd.Offset;
            var dx = Tensor.Empty(xs);                                           // (B, C, H, W)
            var dStore = dx.Storage;
            ForPlanes(planes, (long)outPlane * kh * kw, (p0, np) =>
            {
                for (int p = p0; p < p0 + np; p++)
                    AvgPoolPlaneBackward(gStore.AsSpan(gOff + p * outPlane, outPlane), dStore.AsSpan(p * inPlane, inPlane), divisor, h, w, oh, ow, kh, kw, sh, sw, ph, pw);
            });
            x.AccumulateGrad(dx);
        });
    }

    // ---------------------------------------------------------------- max pooling

    /// <summary>
    /// 2-D max pooling (PyTorch <c>F.max_pool2d</c>, ceil_mode false, dilation 1) over (B, C, H, W) or (C, H, W):
    /// y[b, c, i, j] = max_{ki, kj} x[b, c, i·s − p + ki, j·s − p + kj], padding reading −∞. Stride defaults to the kernel size.
    /// Ties go to the first maximum in row-major window order and NaN wins, as in PyTorch.
    /// Backward: g goes to the argmax element of each window (summed where windows share it).
    /// </summary>
    public static Tensor MaxPool2d(Tensor x, int kernelSize, int? stride = null, int padding = 0)
        => MaxPool2d(x, (kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding));

    /// <summary>2-D max pooling with separate (height, width) kernel, stride (null: the kernel) and padding (null: 0).</summary>
    public static Tensor MaxPool2d(Tensor x, (int H, int W) kernelSize, (int H, int W)? stride = null, (int H, int W)? padding = null)
    {
        if (x.Rank == 3) return Unbatched(x, t => MaxPool2d(t, kernelSize, stride, padding));
        var (kh, kw) = kernelSize;
        var (sh, sw) = stride ?? kernelSize;
        var (ph, pw) = padding ?? (0, 0);
        var (oh, ow) = PoolGeometry("MaxPool2d", x, kh, kw, sh, sw, ph, pw);
        var xs = x.ShapeArray;
        int planes = xs[0] * xs[1], h = xs[2], w = xs[3], inPlane = h * w, outPlane = oh * ow;
        var xd = x.Dense();
        var xStore = xd.Storage; int xOff = xd.Offset;
        var y = Tensor.Empty(xs[0], xs[1], oh, ow);                               // (B, C, OH, OW)
        var yStore = y.Storage;
        // The argmax (index within its plane) of every output, kept for backward in a pooled buffer viewed as int.
        bool keep = GradMode.IsEnabled && x.RequiresGrad;
        var argTensor = keep ? Tensor.Empty(y.ShapeArray) : null;
        var argStore = argTensor?.Storage;
        ForPlanes(planes, (long)outPlane * kh * kw, (p0, np) =>
        {
            for (int p = p0; p < p0 + np; p++)
            {
                var arg = argStore is null ? default : MemoryMarshal.Cast<float, int>(argStore.AsSpan(p * outPlane, outPlane));
                MaxPoolPlane(xStore.AsSpan(xOff + p * inPlane, inPlane), yStore.AsSpan(p * outPlane, outPlane), arg, h, w, oh, ow, kh, kw, sh, sw, ph, pw);
            }
        });
        return Tensor.Record(y, "MaxPool2d", [x], g =>
        {
            var gd = g.Dense();
            var gStore = gd.Storage; int gOff = gd.Offset;
            var dx = Tensor.Empty(xs);                                           // (B, C, H, W)
            var dStore = dx.Storage;
            ForPlanes(planes, outPlane, (p0, np) =>
            {
                for (int p = p0; p < p0 + np; p++)
                {
                    var gp = gStore.AsSpan(gOff + p * outPlane, outPlane);
                    var arg = MemoryMarshal.Cast<float, int>(argStore!.AsSpan(p * outPlane, outPlane));
                    var d = dStore.AsSpan(p * inPlane, inPlane);
                    d.Clear();
                    for (int k = 0; k < outPlane; k++) d[arg[k]] += gp[k];
                }
            });
            x.AccumulateGrad(dx);
        });
    }

    /// <summary>One plane of average pooling; the window at (i, j) is multiplied by invCount[i·OW + j].</summary>
    private static void AvgPoolPlane(ReadOnlySpan<float> src, Span<float> dst, ReadOnlySpan<float> invCount, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        for (int i = 0; i < oh; i++)
        {
            int hs = i * sh - ph, h0 = Math.Max(hs, 0), h1 = Math.Min(hs + kh, h);
            for (int j = 0; j < ow; j++)
            {
                int ws = j * sw - pw, w0 = Math.Max(ws, 0), w1 = Math.Min(ws + kw, w);
                float acc = 0;
                for (int r = h0; r < h1; r++)
                {
                    var line = src.Slice(r * w + w0, w1 - w0);
                    for (int q = 0; q < line.Length; q++) acc += line[q];
                }
                dst[i * ow + j] = acc * invCount[i * ow + j];
            }
        }
    }

    /// <summary>Adjoint of <see cref="AvgPoolPlane"/>: writes every element of dx (zeroes it first).</summary>
    private static void AvgPoolPlaneBackward(ReadOnlySpan<float> g, Span<float> dx, ReadOnlySpan<float> invCount, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        dx.Clear();
        for (int i = 0; i < oh; i++)
        {
            int hs = i * sh - ph, h0 = Math.Max(hs, 0), h1 = Math.Min(hs + kh, h);
            for (int j = 0; j < ow; j++)
            {
                int ws = j * sw - pw, w0 = Math.Max(ws, 0), w1 = Math.Min(ws + kw, w);
                float v = g[i * ow + j] * invCount[i * ow + j];
                for (int r = h0; r < h1; r++)
                {
                    var line = dx.Slice(r * w + w0, w1 - w0);
                    for (int q = 0; q < line.Length; q++) line[q] += v;
                }
            }
        }
    }

    /// <summary>
    /// One plane of max pooling, PyTorch's scan: the first maximum in row-major window order wins, a NaN replaces any
    /// value. Writes the argmax (index in the plane) to <paramref name="arg"/> unless it is empty.
    /// </summary>
    private static void MaxPoolPlane(ReadOnlySpan<float> src, Span<float> dst, Span<int> arg, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        bool keep = !arg.IsEmpty;
        if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0)
        {
            // 2×2, stride 2: the common CNN downsampling, with no window clipping.
            for (int i = 0; i < oh; i++)
            {
                int r0 = 2 * i * w, r1 = r0 + w;
                var top = src.Slice(r0, 2 * ow);
                var bottom = src.Slice(r1, 2 * ow);
                var d = dst.Slice(i * ow, ow);
                for (int j = 0; j < d.Length; j++)
                {
                    int q = 2 * j;
                    float best = top[q]; int bi = r0 + q;
                    float v = top[q + 1]; if (v > best || float.IsNaN(v)) { best = v; bi = r0 + q + 1; }
                    v = bottom[q]; if (v > best || float.IsNaN(v)) { best = v; bi = r1 + q; }
                    v = bottom[q + 1]; if (v > best || float.IsNaN(v)) { best = v; bi = r1 + q + 1; }
                    d[j] = best;
                    if (keep) arg[i * ow + j] = bi;
                }
            }
            return;
        }
        for (int i = 0; i < oh; i++)
        {
            int hs = i * sh - ph, h0 = Math.Max(hs, 0), h1 = Math.Min(hs + kh, h);
            for (int j = 0; j < ow; j++)
            {
                int ws = j * sw - pw, w0 = Math.Max(ws, 0), w1 = Math.Min(ws + kw, w);
                float best = float.NegativeInfinity; int bi = h0 * w + w0;
                for (int r = h0; r < h1; r++)
                {
                    var line = src.Slice(r * w + w0, w1 - w0);
                    for (int q = 0; q < line.Length; q++)
                    {
                        float v = line[q];
                        if (v > best || float.IsNaN(v)) { best = v; bi = r * w + w0 + q; }
                    }
                }
                dst[i * ow + j] = best;
                if (keep) arg[i * ow + j] = bi;
            }
        }
    }

    // ---------------------------------------------------------------- adaptive and global average pooling

    /// <summary>
    /// Adaptive average pooling (PyTorch <c>F.adaptive_avg_pool2d</c>) to (outH, outW) over (B, C, H, W) or (C, H, W):
    /// output row i averages input rows [⌊i·H/outH⌋, ⌈(i+1)·H/outH⌉), likewise columns (bins may overlap when H is not a
    /// multiple of outH). Backward: each bin spreads g/|bin| over its elements.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, int outH, int outW)
    {
        if (x.Rank == 3) return Unbatched(x, t => AdaptiveAvgPool2d(t, outH, outW));
        var xs = x.ShapeArray;
        if (x.Rank != 4) throw new ArgumentException($"AdaptiveAvgPool2d: input must be (B, C, H, W); got {ShapeUtil.Format(xs)}.");
        if (outH < 1 || outW < 1) throw new ArgumentException($"AdaptiveAvgPool2d: output size ({outH}, {outW}) must be positive (input {ShapeUtil.Format(xs)}).");
        int planes = xs[0] * xs[1], h = xs[2], w = xs[3], inPlane = h * w, outPlane = outH * outW;
        if (h < 1 || w < 1) throw new ArgumentException($"AdaptiveAvgPool2d: input {ShapeUtil.Format(xs)} has an empty plane.");
        var rs = new int[outH]; var re = new int[outH]; var cs = new int[outW]; var ce = new int[outW];
        for (int i = 0; i < outH; i++) { rs[i] = (int)((long)i * h / outH); re[i] = (int)(((long)(i + 1) * h + outH - 1) / outH); }
        for (int j = 0; j < outW; j++) { cs[j] = (int)((long)j * w / outW); ce[j] = (int)(((long)(j + 1) * w + outW - 1) / outW); }
        var xd = x.Dense();
        var xStore = xd.Storage; int xOff = xd.Offset;
        var y = Tensor.Empty(xs[0], xs[1], outH, outW);                          // (B, C, outH, outW)
        var yStore = y.Storage;
        ForPlanes(planes, inPlane, (p0, np) =>
        {
            for (int p = p0; p < p0 + np; p++)
            {
                var src = xStore.AsSpan(xOff + p * inPlane, inPlane);
                var dst = yStore.AsSpan(p * outPlane, outPlane);
                for (int i = 0; i < outH; i++)
                    for (int j = 0; j < outW; j++)
                    {
                        float acc = 0;
                        for (int r = rs[i]; r < re[i]; r++) acc += TensorPrimitives.Sum(src.Slice(r * w + cs[j], ce[j] - cs[j]));
                        dst[i * outW + j] = acc / ((re[i] - rs[i]) * (ce[j] - cs[j]));
                    }
            }
        });
        return Tensor.Record(y, "AdaptiveAvgPool2d", [x], g =>
        {
            var gd = g.Dense();
            var gStore = gd.Storage; int gOff = gd.Offset;
            var dx = Tensor.Empty(xs);                                           // (B, C, H, W)
            var dStore = dx.Storage;
            ForPlanes(planes, inPlane, (p0, np) =>
            {
                for (int p = p0; p < p0 + np; p++)
                {
                    var gp = gStore.AsSpan(gOff + p * outPlane, outPlane);
                    var d = dStore.AsSpan(p * inPlane, inPlane);
                    d.Clear();
                    for (int i = 0; i < outH; i++)
                        for (int j = 0; j < outW; j++)
                        {
                            float v = gp[i * outW + j] / ((re[i] - rs[i]) * (ce[j] - cs[j]));
                            for (int r = rs[i]; r < re[i]; r++) { var seg = d.Slice(r * w + cs[j], ce[j] - cs[j]); TensorPrimitives.Add(seg, v, seg); }
                        }
                }
            });
            x.AccumulateGrad(dx);
        });
    }

    /// <summary>
    /// Global average pooling: (B, C, H, W) → (B, C), y[b, c] = (1/(H·W)) Σ_{i,j} x[b, c, i, j]
    /// (= <c>AdaptiveAvgPool2d(x, 1, 1).Flatten(1)</c>, the head of a ResNet). Backward: ∂x = g/(H·W) on every element.
    /// </summary>
    public static Tensor GlobalAvgPool2d(Tensor x)
    {
        var xs = x.ShapeArray;
        if (x.Rank != 4) throw new ArgumentException($"GlobalAvgPool2d: input must be (B, C, H, W); got {ShapeUtil.Format(xs)}.");
        int planes = xs[0] * xs[1], inPlane = xs[2] * xs[3];
        if (inPlane == 0) throw new ArgumentException($"GlobalAvgPool2d: input {ShapeUtil.Format(xs)} has an empty plane.");
        float inv = 1f / inPlane;
        var xd = x.Dense();
        var xStore = xd.Storage; int xOff = xd.Offset;
        var y = Tensor.Empty(xs[0], xs[1]);                                      // (B, C)
        var yStore = y.Storage;
        ForPlanes(planes, inPlane, (p0, np) =>
        {
            for (int p = p0; p < p0 + np; p++) yStore[p] = TensorPrimitives.Sum(xStore.AsSpan(xOff + p * inPlane, inPlane)) * inv;
        });
        return Tensor.Record(y, "GlobalAvgPool2d", [x], g =>
        {
            var gd = g.Dense();
            var gStore = gd.Storage; int gOff = gd.Offset;
            var dx = Tensor.Empty(xs);                                           // (B, C, H, W)
            var dStore = dx.Storage;
            ForPlanes(planes, inPlane, (p0, np) =>
            {
                for (int p = p0; p < p0 + np; p++) dStore.AsSpan(p * inPlane, inPlane).Fill(gStore[gOff + p] * inv);
            });
            x.AccumulateGrad(dx);
        });
    }
}
