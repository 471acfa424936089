using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

// Batch normalisation over (B, C, …): fused forward (statistics, normalise, affine, running-stat update) and backward.
public static partial class Functional
{
    /// <summary>
    /// Batch normalisation (PyTorch <c>F.batch_norm</c>) of x (B, C, …) per channel c over the n = B·(spatial size)
    /// values of that channel: y = (x − μ_c) / √(σ²_c + eps) · weight[c] + bias[c] (weight 1 and bias 0 when null).
    /// <para>
    /// <paramref name="training"/>: μ and σ² are the batch mean and the biased batch variance (Σ(x − μ)²/n), and when running
    /// buffers are given they are updated in place as PyTorch does:
    /// runningMean ← (1 − momentum)·runningMean + momentum·μ, runningVar ← (1 − momentum)·runningVar + momentum·σ²·n/(n − 1)
    /// (the unbiased variance). Evaluation: μ = runningMean and σ² = runningVar, which are then required.
    /// </para>
    /// <para>
    /// Backward in training (x̂ = (x − μ)/√(σ² + eps), ĝ = g·weight):
    /// ∂x = (1/√(σ² + eps))·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) per channel; ∂weight = Σ g·x̂; ∂bias = Σ g.
    /// In evaluation the statistics are constants: ∂x = g·weight/√(σ² + eps).
    /// </para>
    /// </summary>
    /// <param name="x">Input (B, C) or (B, C, …), e.g. (B, C, H, W).</param>
    /// <param name="runningMean">Running mean (C), updated in place when training; not recorded by autograd.</param>
    /// <param name="runningVar">Running variance (C), updated in place when training; not recorded by autograd.</param>
    /// <param name="weight">Per-channel scale γ (C), or null for 1.</param>
    /// <param name="bias">Per-channel shift β (C), or null for 0.</param>
    /// <param name="training">Use batch statistics (and update the running ones) instead of the running statistics.</param>
    /// <param name="momentum">Weight of the new batch statistic in the running average (PyTorch default 0.1).</param>
    /// <param name="eps">Added to the variance before the square root (PyTorch default 1e−5).</param>
    /// <exception cref="ArgumentException">A shape mismatch, running buffers missing in evaluation, or one value per channel in training; the message names the shapes.</exception>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training, float momentum = 0.1f, float eps = 1e-5f)
    {
        var xs = x.ShapeArray;
        string Shapes() => $"input {ShapeUtil.Format(xs)}" +
            (runningMean is null ? "" : $", runningMean {ShapeUtil.Format(runningMean.ShapeArray)}") +
            (runningVar is null ? "" : $", runningVar {ShapeUtil.Format(runningVar.ShapeArray)}") +
            (weight is null ? "" : $", weight {ShapeUtil.Format(weight.ShapeArray)}") +
            (bias is null ? "" : $", bias {ShapeUtil.Format(bias.ShapeArray)}");
        if (x.Rank < 2) throw new ArgumentException($"BatchNorm: input must be (B, C) or (B, C, …); got {Shapes()}.");
        int batch = xs[0], ch = xs[1];
        foreach (var (t, name) in new[] { (runningMean, "runningMean"), (runningVar, "runningVar"), (weight, "weight"), (bias, "bias") })
            if (t is not null && (t.Rank != 1 || t.ShapeArray[0] != ch))
                throw new ArgumentException($"BatchNorm: {name} must have shape [{ch}] (one value per channel of the input); got {Shapes()}.");
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException($"BatchNorm: give both running buffers or neither; got {Shapes()}.");
        if (!training && runningMean is null)
            throw new ArgumentException($"BatchNorm: evaluation (training: false) normalises with the running statistics, but none were given; got {Shapes()}.");
        if (runningMean is not null && (!runningMean.IsContiguous || !runningVar!.IsContiguous))
            throw new ArgumentException($"BatchNorm: running buffers must be contiguous (they are updated in place); got {Shapes()}.");
        int spatial = ch == 0 || batch == 0 ? 0 : x.Numel / (batch * ch);
        int n = batch * spatial;                                                 // values per channel
        if (training && n <= 1)
            throw new ArgumentException($"BatchNorm: expected more than 1 value per channel when training; got {Shapes()}.");

        var xd = x.Dense();
        var xStore = xd.Storage; int xOff = xd.Offset;
        int rowStride = ch * spatial;                                            // elements between (b, c) and (b + 1, c)
        var mean = new float[ch];
        var invStd = new float[ch];
        var wSpan = weight?.Dense().AsSpan().ToArray();
        var bSpan = bias?.Dense().AsSpan().ToArray();
        int minChannels = Math.Max(1, ParallelChunks.MinParallelElements / Math.Max(n, 1));

        var batchVar = training ? new float[ch] : null;
        if (!training)
        {
            var rm = runningMean!.AsSpan(); var rv = runningVar!.AsSpan();
            for (int c = 0; c < ch; c++) { mean[c] = rm[c]; invStd[c] = 1f / MathF.Sqrt(rv[c] + eps); }
        }

        // Per channel, while its B·spatial values are hot in cache: batch mean, then Σ(x − μ)² (two passes, as stable as
        // PyTorch's Welford), then y = x·scale + shift with scale = γ/√(σ² + eps), shift = β − μ·scale.
        var y = Tensor.Empty(xs);                                                // (B, C, …)
        var yStore = y.Storage;
        ParallelChunks.For(ch, minChannels, (c0, nc) =>
        {
            for (int c = c0; c < c0 + nc; c++)
            {
                if (batchVar is not null)
                {
                    double sum = 0;
                    for (int b = 0; b < batch; b++) sum += TensorPrimitives.Sum(xStore.AsSpan(xOff + b * rowStride + c * spatial, spatial));
                    float m = (float)(sum / n);
                    double sq = 0;
                    for (int b = 0; b < batch; b++) sq += SumSquaredDeviation(xStore.AsSpan(xOff + b * rowStride + c * spatial, spatial), m);
                    double v = sq / n;
                    mean[c] = m;
                    batchVar[c] = (float)v;
                    invStd[c] = (float)(1.0 / Math.Sqrt(v + eps));
                }
                float scale = (wSpan is null ? 1f : wSpan[c]) * invStd[c];
                float shift = (bSpan is null ? 0f : bSpan[c]) - mean[c] * scale;
                for (int b = 0; b < batch; b++)
                {
                    int o = b * rowStride + c * spatial;
                    Affine(xStore.AsSpan(xOff + o, spatial), scale, shift, yStore.AsSpan(o, spatial));
                }
            }
        });
        if (batchVar is not null && runningMean is not null)
        {
            var rm = runningMean.AsSpan(); var rv = runningVar!.AsSpan();
            float unbias = (float)n / (n - 1);
            for (int c = 0; c < ch; c++)
            {
                rm[c] = (1 - momentum) * rm[c] + momentum * mean[c];
                rv[c] = (1 - momentum) * rv[c] + momentum * batchVar[c] * unbias;
            }
        }

        var inputs = new List<Tensor> { x };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        return Tensor.Record(y, "BatchNorm", inputs.ToArray(), g =>
        {
            var gd = g.Dense();
            var gStore = gd.Storage; int gOff = gd.Offset;
            bool needX = x.RequiresGrad, needW = weight is not null && weight.RequiresGrad, needB = bias is not null && bias.RequiresGrad;
            var dx = needX ? Tensor.Empty(xs) : null;                            // (B, C, …)
            var dxStore = dx?.Storage;
            var dw = new float[ch]; var db = new float[ch];
            ParallelChunks.For(ch, minChannels, (c0, nc) =>
            {
                for (int c = c0; c < c0 + nc; c++)
                {
                    float m = mean[c], inv = invStd[c], w = wSpan is null ? 1f : wSpan[c];
                    double sg = 0, sgx = 0;                                      // Σ g, Σ g·(x − μ)
                    for (int b = 0; b < batch; b++)
                    {
                        int o = b * rowStride + c * spatial;
                        var (a1, a2) = SumAndCenteredDot(gStore.AsSpan(gOff + o, spatial), xStore.AsSpan(xOff + o, spatial), m);
                        sg += a1; sgx += a2;
                    }
                    dw[c] = (float)(sgx * inv);
                    db[c] = (float)sg;
                    if (dxStore is null) continue;
                    float k = w * inv;
                    // training: ∂x = k·g + a·x + β with a = −k·inv²·Σg(x−μ)/n, β = −k·Σg/n − a·μ; evaluation: ∂x = k·g
                    float a = training ? (float)(-k * inv * inv * sgx / n) : 0f;
                    float beta = training ? (float)(-k * sg / n) - a * m : 0f;
                    for (int b = 0; b < batch; b++)
                    {
                        int o = b * rowStride + c * spatial;
                        ScaleAddAffine(gStore.AsSpan(gOff + o, spatial), k, xStore.AsSpan(xOff + o, spatial), a, beta, dxStore.AsSpan(o, spatial));
                    }
                }
            });
            if (needX) x.AccumulateGrad(dx!);
            if (needW) weight!.AccumulateGrad(Tensor.FromArray(dw, ch));
            if (needB) bias!.AccumulateGrad(Tensor.FromArray(db, ch));
        });
    }

    // ---------------------------------------------------------------- fused span kernels (one pass each)

    /// <summary>Σ (x − m)².</summary>
    private static double SumSquaredDeviation(ReadOnlySpan<float> x, float m)
    {
        int i = 0;
        var acc = Vector256<float>.Zero;
        if (Vector256.IsHardwareAccelerated)
        {
            var vm = Vector256.Create(m);
            for (; i <= x.Length - 8; i += 8) { var d = Vector256.Create(x.Slice(i, 8)) - vm; acc = Vector256.FusedMultiplyAdd(d, d, acc); }
        }
        double s = Vector256.Sum(acc);
        for (; i < x.Length; i++) { float d = x[i] - m; s += d * d; }
        return s;
    }

    /// <summary>y = a·x + b.</summary>
    private static void Affine(ReadOnlySpan<float> x, float a, float b, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a); var vb = Vector256.Create(b);
            for (; i <= x.Length - 8; i += 8) Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i, 8)), va, vb).CopyTo(y.Slice(i, 8));
        }
        for (; i < x.Length; i++) y[i] = a * x[i] + b;
    }

    /// <summary>(Σ g, Σ g·(x − m)).</summary>
    private static (double SumG, double SumGX) SumAndCenteredDot(ReadOnlySpan<float> g, ReadOnlySpan<float> x, float m)
    {
        int i = 0;
        var sg = Vector256<float>.Zero; var sgx = Vector256<float>.Zero;
        if (Vector256.IsHardwareAccelerated)
        {
            var vm = Vector256.Create(m);
            for (; i <= x.Length - 8; i += 8)
            {
                var vg = Vector256.Create(g.Slice(i, 8));
                sg += vg;
                sgx = Vector256.FusedMultiplyAdd(vg, Vector256.Create(x.Slice(i, 8)) - vm, sgx);
            }
        }
        double a = Vector256.Sum(sg), b = Vector256.Sum(sgx);
        for (; i < x.Length; i++) { a += g[i]; b += g[i] * (x[i] - m); }
        return (a, b);
    }

    /// <summary>dx = k·g + a·x + b.</summary>
    private static void ScaleAddAffine(ReadOnlySpan<float> g, float k, ReadOnlySpan<float> x, float a, float b, Span<float> dx)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vk = Vector256.Create(k); var va = Vector256.Create(a); var vb = Vector256.Create(b);
            for (; i <= x.Length - 8; i += 8)
                Vector256.FusedMultiplyAdd(Vector256.Create(g.Slice(i, 8)), vk, Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i, 8)), va, vb)).CopyTo(dx.Slice(i, 8));
        }
        for (; i < x.Length; i++) dx[i] = k * g[i] + (a * x[i] + b);
    }
}
