using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Shrink.Tensors.Kernels;

/// <summary>
/// Attention of one (batch·head) slice when it is small (≤ 64 keys, head widths of 16, 32, 48 or 64 — the ViTs on
/// 28×28 images): the whole forward and backward of the slice runs in AVX-512 registers with no GEMM calls, no packing
/// and the softmax fused into the score rows. A GEMM call per 17×17×16 product costs more in dispatch and packing than
/// in arithmetic; this kernel computes the same sums directly.
/// <para>
/// Forward, row r: s = scale·q_r·Kᵀ (Kᵀ transposed once per slice into a zero-padded panel), p = softmax(s) over the
/// Nk valid lanes, O_r = Σ_j p_j·v_j. Backward: ∂v_j = Σ_r P_rj·g_r; ∂P_r = g_r·Vᵀ; ∂S_r = P_r ⊙ (∂P_r − ⟨∂P_r, P_r⟩);
/// ∂q_r = scale·Σ_j ∂S_rj·k_j; ∂k_j = scale·Σ_r ∂S_rj·q_r — the formulas of <see cref="Functional.ScaledDotProductAttention"/>.
/// </para>
/// </summary>
internal static unsafe class SmallAttention
{
    /// <summary>Largest key count and head width the kernel takes (four 16-lane vectors).</summary>
    public const int MaxKeys = 64, MaxWidth = 64;

    /// <summary>Lets tests compare this kernel with the GEMM path on the same inputs.</summary>
    internal static bool Enabled = true;

    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>Whether a slice of these sizes runs here (AVX-512 present, widths multiples of 16, at most 64 keys).</summary>
    public static bool Supports(int nk, int d, int dv) =>
        Enabled && Vector512.IsHardwareAccelerated && nk is > 0 and <= MaxKeys
        && d > 0 && d <= MaxWidth && d % 16 == 0 && dv > 0 && dv <= MaxWidth && dv % 16 == 0;

    private static float* Scratch(int floats, out float[] pin)
    {
        var s = t_scratch;
        if (s is null || s.Length < floats) t_scratch = s = GC.AllocateUninitializedArray<float>(Math.Max(floats, 4096), pinned: true);
        pin = s;
        return (float*)Unsafe.AsPointer(ref s[0]);
    }

    /// <summary>m (rows × cols, row stride ld) transposed into panel (cols × w), columns ≥ rows zero.</summary>
    private static void TransposeToPanel(float* m, int ld, int rows, int cols, float* panel, int w)
    {
        for (int c = 0; c < cols; c++)
        {
            float* dst = panel + c * w;
            for (int j = 0; j < rows; j++) dst[j] = m[j * ld + c];
            for (int j = rows; j < w; j++) dst[j] = 0f;
        }
    }

    /// <summary>acc (nv vectors) = Σ_c x[c]·panel[c, :] over <paramref name="len"/> panel rows of width 16·nv.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowTimesPanel(float* x, int len, float* panel, int nv, Vector512<float>* acc)
    {
        var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
        int w = nv * 16;
        for (int c = 0; c < len; c++, panel += w)
        {
            var s = Vector512.Create(x[c]);
            a0 = Vector512.FusedMultiplyAdd(s, Vector512.Load(panel), a0);
            if (nv > 1) a1 = Vector512.FusedMultiplyAdd(s, Vector512.Load(panel + 16), a1);
            if (nv > 2) a2 = Vector512.FusedMultiplyAdd(s, Vector512.Load(panel + 32), a2);
            if (nv > 3) a3 = Vector512.FusedMultiplyAdd(s, Vector512.Load(panel + 48), a3);
        }
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
    }

    /// <summary>dst[0 .. 16·nd) = alpha·Σ_j weights[j·ws]·rows[j·ld, 0 .. 16·nd) over <paramref name="count"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightedRowSum(float* weights, int ws, int count, float* rows, int ld, int nd, float alpha, float* dst)
    {
        var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
        for (int j = 0; j < count; j++, rows += ld)
        {
            var s = Vector512.Create(weights[j * ws]);
            a0 = Vector512.FusedMultiplyAdd(s, Vector512.Load(rows), a0);
            if (nd > 1) a1 = Vector512.FusedMultiplyAdd(s, Vector512.Load(rows + 16), a1);
            if (nd > 2) a2 = Vector512.FusedMultiplyAdd(s, Vector512.Load(rows + 32), a2);
            if (nd > 3) a3 = Vector512.FusedMultiplyAdd(s, Vector512.Load(rows + 48), a3);
        }
        var va = Vector512.Create(alpha);
        (a0 * va).Store(dst);
        if (nd > 1) (a1 * va).Store(dst + 16);
        if (nd > 2) (a2 * va).Store(dst + 32);
        if (nd > 3) (a3 * va).Store(dst + 48);
    }

    /// <summary>Lanes below <paramref name="valid"/> set, of the vector that holds columns 16·index … 16·index + 15.</summary>
    private static Vector512<float> LaneMask(int index, int valid)
    {
        var lanes = Vector512.Create(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f, 13f, 14f, 15f) + Vector512.Create(16f * index);
        return Vector512.LessThan(lanes, Vector512.Create((float)valid));
    }

    /// <summary>
    /// One slice forward: P (nq × nk, dense) = softmax(scale·q·kᵀ) and O = P·v, with q (nq × d, stride ldq),
    /// k (nk × d, stride ldk), v (nk × dv, stride ldv), O (nq × dv, stride ldo).
    /// </summary>
    public static void Forward(int nq, int nk, int d, int dv, float scale, float* q, int ldq, float* k, int ldk, float* v, int ldv,
        float* p, float* o, int ldo)
    {
        int nv = (nk + 15) / 16, w = nv * 16, nd = dv / 16;
        float* kT = Scratch(d * w + w, out var pin);                      // (d, w) panel, then one padded row
        float* row = kT + d * w;
        TransposeToPanel(k, ldk, nk, d, kT, w);
        var acc = stackalloc Vector512<float>[4];
        var negInf = Vector512.Create(float.NegativeInfinity);
        var vs = Vector512.Create(scale);
        for (int r = 0; r < nq; r++)
        {
            RowTimesPanel(q + r * ldq, d, kT, nv, acc);                   // q_r·Kᵀ
            var max = negInf;
            for (int t = 0; t < nv; t++)
            {
                acc[t] = Vector512.ConditionalSelect(LaneMask(t, nk), acc[t] * vs, negInf);
                max = Vector512.Max(max, acc[t]);
            }
            var vmax = Vector512.Create(HorizontalMax(max));
            var sum = Vector512<float>.Zero;
            for (int t = 0; t < nv; t++)
            {
                acc[t] = Vector512.ConditionalSelect(LaneMask(t, nk), Vector512.Exp(acc[t] - vmax), Vector512<float>.Zero);
                sum += acc[t];
            }
            var inv = Vector512.Create(1f / Vector512.Sum(sum));
            for (int t = 0; t < nv; t++) (acc[t] * inv).Store(row + 16 * t);
            new ReadOnlySpan<float>(row, nk).CopyTo(new Span<float>(p + r * nk, nk));
            WeightedRowSum(row, 1, nk, v, ldv, nd, 1f, o + r * ldo);     // O_r = Σ_j P_rj·v_j
        }
        GC.KeepAlive(pin);
    }

    private static float HorizontalMax(Vector512<float> x)
    {
        var m = Vector256.Max(x.GetLower(), x.GetUpper());
        var m2 = Vector128.Max(m.GetLower(), m.GetUpper());
        float r = m2[0];
        for (int i = 1; i < 4; i++) r = MathF.Max(r, m2[i]);
        return r;
    }

    /// <summary>
    /// One slice backward from g = ∂O (nq × dv, stride ldg): writes ∂q, ∂k, ∂v (each may be null) given the forward's P.
    /// </summary>
    public static void Backward(int nq, int nk, int d, int dv, float scale, float* q, int ldq, float* k, int ldk, float* v, int ldv,
        float* p, float* g, int ldg, float* dq, int lddq, float* dk, int lddk, float* dvOut, int lddv)
    {
        int nv = (nk + 15) / 16, w = nv * 16, nd = dv / 16, ndq = d / 16;
        if (dvOut is not null)
            for (int j = 0; j < nk; j++) WeightedRowSum(p + j, nk, nq, g, ldg, nd, 1f, dvOut + j * lddv);   // ∂v_j = Σ_r P_rj·g_r
        if (dq is null && dk is null) return;
        float* vT = Scratch(dv * w + nq * w + w, out var pin);           // (dv, w) panel, ∂S (nq, w), one padded row
        float* dS = vT + dv * w, prow = dS + nq * w;
        TransposeToPanel(v, ldv, nk, dv, vT, w);
        var acc = stackalloc Vector512<float>[4];
        for (int r = 0; r < nq; r++)
        {
            new ReadOnlySpan<float>(p + r * nk, nk).CopyTo(new Span<float>(prow, nk));
            for (int j = nk; j < w; j++) prow[j] = 0f;
            RowTimesPanel(g + r * ldg, dv, vT, nv, acc);                  // ∂P_r = g_r·Vᵀ (padded lanes 0)
            var dot = Vector512<float>.Zero;
            for (int t = 0; t < nv; t++) dot = Vector512.FusedMultiplyAdd(acc[t], Vector512.Load(prow + 16 * t), dot);
            var vdot = Vector512.Create(Vector512.Sum(dot));
            float* dsr = dS + r * w;
            for (int t = 0; t < nv; t++) ((acc[t] - vdot) * Vector512.Load(prow + 16 * t)).Store(dsr + 16 * t);   // ∂S_r
            if (dq is not null) WeightedRowSum(dsr, 1, nk, k, ldk, ndq, scale, dq + r * lddq);                   // ∂q_r
        }
        if (dk is not null)
            for (int j = 0; j < nk; j++) WeightedRowSum(dS + j, w, nq, q, ldq, ndq, scale, dk + j * lddk);      // ∂k_j
        GC.KeepAlive(pin);
    }
}
