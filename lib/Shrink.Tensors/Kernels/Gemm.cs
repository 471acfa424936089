using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Shrink.Tensors.Kernels;

/// <summary>
/// Single-precision general matrix multiply (GEMM) on row-major storage.
/// </summary>
/// <remarks>
/// <para>
/// Every entry point computes <c>C = alpha·op(A)·op(B) + beta·C</c> where <c>C</c> is m×n, <c>op(A)</c> is m×k and
/// <c>op(B)</c> is k×n, i.e. <c>C[i,j] = alpha·Σ_p op(A)[i,p]·op(B)[p,j] + beta·C[i,j]</c>.
/// All matrices are row-major: element (r, c) of a stored matrix X with leading dimension ldx lives at
/// <c>x[r·ldx + c]</c>. <c>op(A) = A</c> (A stored m×k) or, when <c>transA</c>, <c>op(A) = Aᵀ</c> (A stored k×m);
/// likewise <c>op(B) = B</c> (stored k×n) or <c>Bᵀ</c> (stored n×k). When <c>beta == 0</c> C is overwritten
/// without being read, so it may hold NaN or any garbage.
/// </para>
/// <para>
/// The fast path is a packed, cache-blocked GEMM in the style of GotoBLAS/BLIS, organised so that the
/// vector (contiguous) direction of the micro-kernel runs along the rows of C:
/// <list type="bullet">
/// <item>op(A) is cut into blocks of <see cref="MB"/>×kc (kc ≤ <see cref="KC"/>) and packed into MR-tall row strips,
/// each laid out p-major (<c>strip[p·MR + r]</c>), zero padded to a multiple of MR rows. One strip (MR×kc,
/// a few KiB) stays in L1 while the micro-kernel sweeps across all the B strips.</item>
/// <item>op(B) is cut into blocks of kc×<see cref="NB"/> (sized for the per-core L2) and packed into NR-wide column
/// strips, <c>strip[p·NR + j]</c>, zero padded; the strips are streamed from L2.</item>
/// <item>The micro-kernel keeps an MR×NR tile of C in vector registers: per k step it loads NR/16 vectors of B,
/// broadcasts MR values of A and issues MR·NR/16 FMAs (6×32: 12 zmm accumulators, 2 loads, 6 broadcasts).</item>
/// </list>
/// Transposed operands only change how the packing routines read memory, so there is never a separate transpose copy.
/// Edges (m or n not multiples of MR/NR) are computed on the zero-padded packed data and the partial tile is written back
/// through a small scratch tile.
/// </para>
/// <para>
/// Vector512 (AVX-512) is used when hardware accelerated, otherwise Vector256, otherwise a scalar kernel on the same packed
/// layout. Large problems are split across cores (each core runs the blocked algorithm on its own slab of C with its own
/// packing buffers); small ones run on the calling thread. Packing buffers are per-thread and reused, so steady-state calls
/// allocate nothing on the managed heap apart from the task-parallel bookkeeping of parallel calls.
/// </para>
/// </remarks>
public static class Gemm
{
    // ---------------------------------------------------------------------------------------------------------------
    // Blocking parameters (chosen by measurement on an AMD EPYC Zen 4: 32 KiB L1d and 1 MiB L2 per core, shared L3).
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Rows of C per micro-tile (values of A broadcast per k step).</summary>
    internal const int MR = 6;

    /// <summary>Depth of one packed block: an MR×KC strip of A (6 KiB) lives in L1 during the kernel sweep.</summary>
    internal const int KC = 256;

    /// <summary>Columns of op(B) per packed block: KC×NB floats (512 KiB) sit in the per-core L2.</summary>
    internal const int NB = 512;

    /// <summary>Rows of op(A) per packed block (MB×KC floats, lives in L2/L3); B is re-packed once per such block.</summary>
    internal const int MB = 1536;

    /// <summary>Below this many multiply-adds (m·n·k) a single GEMM runs on the calling thread.</summary>
    internal const long ParallelThreshold = 1L << 18;

    /// <summary>The instruction sets the kernels exist for.</summary>
    internal enum Isa { Scalar, V256, V512 }

    /// <summary>The best kernel family for this machine.</summary>
    internal static Isa BestIsa =>
        Vector512.IsHardwareAccelerated ? Isa.V512 : Vector256.IsHardwareAccelerated ? Isa.V256 : Isa.Scalar;

    /// <summary>Width of a full packed B strip (NR) for an instruction set.</summary>
    internal static int StripWidth(Isa isa) => isa == Isa.V512 ? 32 : 16;

    // ---------------------------------------------------------------------------------------------------------------
    // Public API
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Computes <c>C = alpha·op(A)·op(B) + beta·C</c> for row-major matrices, where <c>op(A)</c> is m×k
    /// (A stored m×k, or k×m when <paramref name="transA"/>), <c>op(B)</c> is k×n (B stored k×n, or n×k when
    /// <paramref name="transB"/>) and C is m×n. Element (r, c) of a stored matrix X is <c>x[r·ldx + c]</c>.
    /// </summary>
    /// <param name="transA">Use Aᵀ: A is stored k×m.</param>
    /// <param name="transB">Use Bᵀ: B is stored n×k.</param>
    /// <param name="m">Rows of C and of op(A).</param>
    /// <param name="n">Columns of C and of op(B).</param>
    /// <param name="k">Columns of op(A) and rows of op(B). With k = 0 the result is <c>C = beta·C</c>.</param>
    /// <param name="alpha">Scale of the product.</param>
    /// <param name="a">Storage of A.</param>
    /// <param name="lda">Leading dimension (row stride) of the stored A, at least its column count.</param>
    /// <param name="b">Storage of B.</param>
    /// <param name="ldb">Leading dimension of the stored B, at least its column count.</param>
    /// <param name="beta">Scale of the old C. When 0, C is overwritten without being read (NaN in C does not propagate).</param>
    /// <param name="c">Storage of C (m×n).</param>
    /// <param name="ldc">Leading dimension of C, at least n.</param>
    /// <exception cref="ArgumentException">A size is negative, a leading dimension is too small, or a span is too short.</exception>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => SgemmWith(BestIsa, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    /// <summary>
    /// Batched GEMM: for every <c>t</c> in <c>[0, batch)</c> computes <c>C_t = alpha·op(A_t)·op(B_t) + beta·C_t</c>,
    /// with <c>A_t</c> starting at <c>a[t·strideA]</c>, <c>B_t</c> at <c>b[t·strideB]</c> and <c>C_t</c> at
    /// <c>c[t·strideC]</c>; each product has the shapes and layout of <see cref="Sgemm"/>.
    /// A stride of 0 broadcasts one operand across the batch (strideB = 0 is <c>x @ W</c>).
    /// The C matrices must not overlap each other (they may interleave, e.g. strideC = head size with ldc = heads·head size).
    /// </summary>
    /// <remarks>
    /// Batches of small matrices are spread over the cores one matrix per task; large matrices are each multiplied
    /// with the parallel <see cref="Sgemm"/>. With strideB = 0, no transposed A and A and C stacked row after row
    /// (strideA = m·lda, strideC = m·ldc) the batch is computed as one (batch·m)×n product.
    /// </remarks>
    /// <exception cref="ArgumentException">A size or stride is negative, a leading dimension is too small, a span is too short,
    /// or strideC is 0 with more than one non-empty output.</exception>
    public static void SgemmBatched(bool transA, bool transB, int batch, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB, float beta,
        Span<float> c, int ldc, long strideC)
        => SgemmBatchedWith(BestIsa, transA, transB, batch, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC);

    /// <summary>
    /// Reference GEMM with the same contract as <see cref="Sgemm"/>: the plain triple loop
    /// <c>C[i,j] = alpha·Σ_p op(A)[i,p]·op(B)[p,j] + beta·C[i,j]</c>, accumulated in double precision.
    /// Slow; kept as the ground truth for tests.
    /// </summary>
    public static void SgemmNaive(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, 1, m, n, k, a, lda, 0, b, ldb, 0, c, ldc, 0);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a[p * lda + i] : a[i * lda + p];
                    double y = transB ? b[j * ldb + p] : b[p * ldb + j];
                    s += x * y;
                }
                ref float cij = ref c[i * ldc + j];
                cij = beta == 0f ? (float)(alpha * s) : (float)(alpha * s + (double)beta * cij);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Entry points with an explicit instruction set (tests use them to exercise the fallbacks).
    // ---------------------------------------------------------------------------------------------------------------

    internal static unsafe void SgemmWith(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a,
        int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, 1, m, n, k, a, lda, 0, b, ldb, 0, c, ldc, 0);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            GemmParallel(isa, transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
    }

    internal static unsafe void SgemmBatchedWith(Isa isa, bool transA, bool transB, int batch, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB, float beta,
        Span<float> c, int ldc, long strideC)
    {
        Validate(transA, transB, batch, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC);
        if (batch == 0 || m == 0 || n == 0) return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            // x @ W with x a stack of row-major matrices: one tall product packs W once instead of batch times.
            if (batch == 1 || (strideB == 0 && !transA && strideA == (long)m * lda && strideC == (long)m * ldc))
            {
                GemmParallel(isa, transA, transB, checked(batch * m), n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                return;
            }

            long work = (long)m * n * Math.Max(k, 1);
            int workers = Math.Min(Environment.ProcessorCount, batch);
            if (work >= ParallelThreshold || workers <= 1)
            {
                // Big matrices (or one core): one after another, each parallel inside.
                for (int t = 0; t < batch; t++)
                    GemmParallel(isa, transA, transB, m, n, k, alpha, pa + t * strideA, lda, pb + t * strideB, ldb, beta,
                        pc + t * strideC, ldc);
                return;
            }

            // Many small matrices: hand each worker a contiguous run of the batch.
            nint ia = (nint)pa, ib = (nint)pb, ic = (nint)pc;
            Parallel.For(0, workers, w =>
            {
                int t0 = (int)((long)batch * w / workers), t1 = (int)((long)batch * (w + 1) / workers);
                for (int t = t0; t < t1; t++)
                    GemmSerial(isa, transA, transB, m, n, k, alpha, (float*)ia + t * strideA, lda, (float*)ib + t * strideB,
                        ldb, beta, (float*)ic + t * strideC, ldc);
            });
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Validation
    // ---------------------------------------------------------------------------------------------------------------

    private static void Validate(bool transA, bool transB, int batch, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        long strideA, ReadOnlySpan<float> b, int ldb, long strideB, ReadOnlySpan<float> c, int ldc, long strideC)
    {
        if (batch < 0) throw new ArgumentException($"GEMM: batch must be non-negative, got {batch}.", nameof(batch));
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"GEMM: sizes must be non-negative, got m={m}, n={n}, k={k}.", m < 0 ? nameof(m) : n < 0 ? nameof(n) : nameof(k));
        CheckOperand("A", transA ? "Aᵀ" : "A", transA ? k : m, transA ? m : k, a.Length, lda, "lda", strideA, "strideA", batch,
            needed: m > 0 && n > 0 && k > 0);
        CheckOperand("B", transB ? "Bᵀ" : "B", transB ? n : k, transB ? k : n, b.Length, ldb, "ldb", strideB, "strideB", batch,
            needed: m > 0 && n > 0 && k > 0);
        CheckOperand("C", "C", m, n, c.Length, ldc, "ldc", strideC, "strideC", batch, needed: m > 0 && n > 0);
        if (strideC == 0 && batch > 1 && m > 0 && n > 0)
            throw new ArgumentException($"GEMM: operand C: strideC = 0 would make all {batch} outputs ({m}×{n}) overlap.", "strideC");
    }

    private static void CheckOperand(string name, string opName, int rows, int cols, int length, int ld, string ldName,
        long stride, string strideName, int batch, bool needed)
    {
        if (ld < cols || ld < 0)
            throw new ArgumentException(
                $"GEMM: operand {name} is stored {rows}×{cols} (for {opName}) but {ldName}={ld} is smaller than its {cols} columns.", ldName);
        if (stride < 0)
            throw new ArgumentException($"GEMM: operand {name}: {strideName}={stride} must be non-negative.", strideName);
        if (!needed || rows == 0 || cols == 0 || batch == 0) return;
        long required = (long)(batch - 1) * stride + (long)(rows - 1) * ld + cols;
        if (length < required)
            throw new ArgumentException(
                $"GEMM: operand {name} is stored {rows}×{cols} with {ldName}={ld}" +
                (batch > 1 ? $", {strideName}={stride} and batch={batch}" : "") +
                $", which needs {required} elements, but its span has {length}.", name.ToLowerInvariant());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Driver: scaling shortcut, split across cores, then the blocked serial algorithm.
    // ---------------------------------------------------------------------------------------------------------------

    private static unsafe void GemmParallel(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }

        long work = (long)m * n * k;
        int cores = Environment.ProcessorCount;
        int nr = StripWidth(isa);
        int mStrips = (m + MR - 1) / MR, nStrips = (n + nr - 1) / nr;
        if (cores <= 1 || work < ParallelThreshold || (mStrips < 2 && nStrips < 2))
        {
            GemmSerial(isa, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }

        // Split C into slabs, one per core, along the longer side (counted in micro-tiles). Each slab re-packs the operand
        // it shares with the others: splitting the longer side makes that shared operand the smaller one.
        bool splitRows = mStrips * MR >= nStrips * nr ? mStrips >= 2 : nStrips < 2;
        int tiles = splitRows ? mStrips : nStrips, unit = splitRows ? MR : nr;
        int parts = Math.Min(cores, tiles);
        nint ia = (nint)a, ib = (nint)b, ic = (nint)c;
        Parallel.For(0, parts, w =>
        {
            int s0 = (int)((long)tiles * w / parts) * unit, s1 = (int)((long)tiles * (w + 1) / parts) * unit;
            float* pa = (float*)ia, pb = (float*)ib, pc = (float*)ic;
            if (splitRows)
            {
                s1 = Math.Min(s1, m);
                GemmSerial(isa, transA, transB, s1 - s0, n, k, alpha, transA ? pa + s0 : pa + s0 * lda, lda, pb, ldb, beta,
                    pc + s0 * ldc, ldc);
            }
            else
            {
                s1 = Math.Min(s1, n);
                GemmSerial(isa, transA, transB, m, s1 - s0, k, alpha, pa, lda, transB ? pb + s0 * ldb : pb + s0, ldb, beta,
                    pc + s0, ldc);
            }
        });
    }

    /// <summary>C = beta·C (beta = 0 writes zeros without reading).</summary>
    private static unsafe void ScaleC(int m, int n, float beta, float* c, nint ldc)
    {
        if (beta == 1f) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<float>(c + i * ldc, n);
            if (beta == 0f) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>
    /// The blocked algorithm on the calling thread. Loop nest, outermost first:
    /// i0 over MB-row blocks of op(A) · p0 over kc-deep slices (pack A block) · j0 over NB-column blocks (pack B block)
    /// · ir over MR-row strips of A (L1 resident) · jr over NR-column strips of B (streamed from L2) · micro-kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void GemmSerial(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }

        int nr = StripWidth(isa);
        // Balance the k slices (k = 257 gives 129 + 128 rather than 256 + 1) so no pass is a sliver.
        int kSlices = (k + KC - 1) / KC;
        int kcMax = (k + kSlices - 1) / kSlices;
        int mbMax = Math.Min(MB, m), nbMax = Math.Min(NB, n);

        PackBuffers buffers = PackBuffers.ForThread();
        float* ap = buffers.A(RoundUp(mbMax, MR) * kcMax + 16);
        float* bp = buffers.B(RoundUp(nbMax, nr) * kcMax + 32);
        float* tile = stackalloc float[MR * 32];

        for (int i0 = 0; i0 < m; i0 += MB)
        {
            int mb = Math.Min(MB, m - i0);
            for (int p0 = 0; p0 < k; p0 += kcMax)
            {
                int kc = Math.Min(kcMax, k - p0);
                PackA(transA, a, lda, i0, mb, p0, kc, ap);
                // Only the first k slice applies beta; later slices accumulate onto the partial result.
                float betaK = p0 == 0 ? beta : 1f;
                for (int j0 = 0; j0 < n; j0 += NB)
                {
                    int nb = Math.Min(NB, n - j0);
                    PackB(transB, b, ldb, p0, kc, j0, nb, nr, bp);
                    for (int ir = 0; ir < mb; ir += MR)
                    {
                        int rows = Math.Min(MR, mb - ir);
                        float* aStrip = ap + (nint)ir * kc;
                        float* cRow = c + (i0 + ir) * ldc + j0;
                        for (int jr = 0; jr < nb; jr += nr)
                        {
                            int cols = Math.Min(nr, nb - jr);
                            int width = cols <= nr / 2 ? nr / 2 : nr;
                            float* bStrip = bp + (nint)jr * kc;
                            if (rows == MR && cols == width)
                            {
                                MicroKernel(isa, width, kc, aStrip, bStrip, cRow + jr, ldc, alpha, betaK);
                            }
                            else
                            {
                                // Partial tile: compute the whole padded tile into scratch, write back the valid part.
                                MicroKernel(isa, width, kc, aStrip, bStrip, tile, width, 1f, 0f);
                                MergeTile(tile, width, rows, cols, cRow + jr, ldc, alpha, betaK);
                            }
                        }
                    }
                }
            }
        }
    }

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;

    private static unsafe void MergeTile(float* tile, int width, int rows, int cols, float* c, nint ldc, float alpha, float beta)
    {
        for (int r = 0; r < rows; r++)
        {
            float* t = tile + r * width;
            float* cr = c + r * ldc;
            if (beta == 0f)
                for (int j = 0; j < cols; j++) cr[j] = alpha * t[j];
            else
                for (int j = 0; j < cols; j++) cr[j] = alpha * t[j] + beta * cr[j];
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Packing
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Packs op(A)[i0 .. i0+mb, p0 .. p0+kc] into MR-row strips: strip s holds <c>dst[s·MR·kc + p·MR + r] = op(A)[i0+s·MR+r, p0+p]</c>,
    /// rows past mb zero filled.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackA(bool transA, float* a, nint lda, int i0, int mb, int p0, int kc, float* dst)
    {
        for (int s = 0; s < mb; s += MR)
        {
            int rows = Math.Min(MR, mb - s);
            float* d = dst + (nint)s * kc;
            if (transA)
            {
                // A stored k×m: the MR values for one p are contiguous.
                float* src = a + (nint)p0 * lda + i0 + s;
                if (rows == MR)
                {
                    for (int p = 0; p < kc; p++, src += lda, d += MR)
                    {
                        d[0] = src[0]; d[1] = src[1]; d[2] = src[2]; d[3] = src[3]; d[4] = src[4]; d[5] = src[5];
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += lda, d += MR)
                        for (int r = 0; r < MR; r++) d[r] = r < rows ? src[r] : 0f;
                }
            }
            else
            {
                // A stored m×k: each of the MR rows is contiguous in p; interleave them.
                float* src = a + (i0 + s) * lda + p0;
                if (rows == MR)
                {
                    float* r0 = src, r1 = src + lda, r2 = src + 2 * lda, r3 = src + 3 * lda, r4 = src + 4 * lda, r5 = src + 5 * lda;
                    for (int p = 0; p < kc; p++, d += MR)
                    {
                        d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p];
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++, d += MR)
                        for (int r = 0; r < MR; r++) d[r] = r < rows ? src[r * lda + p] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0 .. p0+kc, j0 .. j0+nb] into column strips of width nr (the last one nr/2 wide when at most nr/2
    /// columns remain): the strip starting at column jr holds <c>dst[jr·kc + p·w + j] = op(B)[p0+p, j0+jr+j]</c>,
    /// columns past nb zero filled.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackB(bool transB, float* b, nint ldb, int p0, int kc, int j0, int nb, int nr, float* dst)
    {
        for (int jr = 0; jr < nb; jr += nr)
        {
            int cols = Math.Min(nr, nb - jr);
            int width = cols <= nr / 2 ? nr / 2 : nr;
            float* d = dst + (nint)jr * kc;
            if (!transB)
            {
                // B stored k×n: each packed row of the strip is a contiguous run of B.
                float* src = b + (nint)p0 * ldb + j0 + jr;
                if (cols == width)
                {
                    for (int p = 0; p < kc; p++, src += ldb, d += width)
                        new ReadOnlySpan<float>(src, width).CopyTo(new Span<float>(d, width));
                }
                else
                {
                    for (int p = 0; p < kc; p++, src += ldb, d += width)
                    {
                        new ReadOnlySpan<float>(src, cols).CopyTo(new Span<float>(d, cols));
                        new Span<float>(d + cols, width - cols).Clear();
                    }
                }
            }
            else
            {
                // B stored n×k: column j of op(B) is row j of B, contiguous in p; scatter it with stride width.
                float* src = b + (nint)(j0 + jr) * ldb + p0;
                for (int j = 0; j < cols; j++)
                {
                    float* s = src + j * ldb;
                    float* dj = d + j;
                    for (int p = 0; p < kc; p++) dj[p * width] = s[p];
                }
                for (int j = cols; j < width; j++)
                    for (int p = 0; p < kc; p++) d[p * width + j] = 0f;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Micro-kernels: C[0..MR, 0..width] = alpha·(Apanel · Bpanel) + beta·C, the tile held in registers over the kc loop.
    // ---------------------------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MicroKernel(Isa isa, int width, int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        switch (isa)
        {
            case Isa.V512 when width == 32: KernelV512x32(kc, a, b, c, ldc, alpha, beta); break;
            case Isa.V512: KernelV512x16(kc, a, b, c, ldc, alpha, beta); break;
            case Isa.V256 when width == 16: KernelV256x16(kc, a, b, c, ldc, alpha, beta); break;
            case Isa.V256: KernelV256x8(kc, a, b, c, ldc, alpha, beta); break;
            default: KernelScalar(width, kc, a, b, c, ldc, alpha, beta); break;
        }
    }

    /// <summary>6×32 tile, 12 zmm accumulators: per k step 2 B loads, 6 A broadcasts, 12 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelV512x32(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            a += MR;
            b += 32;
        }
        var va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            Vector512.Store(c00 * va, c); Vector512.Store(c01 * va, c + 16); c += ldc;
            Vector512.Store(c10 * va, c); Vector512.Store(c11 * va, c + 16); c += ldc;
            Vector512.Store(c20 * va, c); Vector512.Store(c21 * va, c + 16); c += ldc;
            Vector512.Store(c30 * va, c); Vector512.Store(c31 * va, c + 16); c += ldc;
            Vector512.Store(c40 * va, c); Vector512.Store(c41 * va, c + 16); c += ldc;
            Vector512.Store(c50 * va, c); Vector512.Store(c51 * va, c + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Update(c00, c01, c, va, vb); c += ldc;
            Update(c10, c11, c, va, vb); c += ldc;
            Update(c20, c21, c, va, vb); c += ldc;
            Update(c30, c31, c, va, vb); c += ldc;
            Update(c40, c41, c, va, vb); c += ldc;
            Update(c50, c51, c, va, vb);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Update(Vector512<float> x0, Vector512<float> x1, float* c, Vector512<float> va, Vector512<float> vb)
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(x0, va, Vector512.Load(c) * vb), c);
            Vector512.Store(Vector512.FusedMultiplyAdd(x1, va, Vector512.Load(c + 16) * vb), c + 16);
        }
    }

    /// <summary>6×16 tile for the last, narrow strip: 6 zmm accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelV512x16(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            a += MR;
            b += 16;
        }
        var va = Vector512.Create(alpha);
        if (beta == 0f)
        {
            Vector512.Store(c0 * va, c); c += ldc;
            Vector512.Store(c1 * va, c); c += ldc;
            Vector512.Store(c2 * va, c); c += ldc;
            Vector512.Store(c3 * va, c); c += ldc;
            Vector512.Store(c4 * va, c); c += ldc;
            Vector512.Store(c5 * va, c);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.Store(Vector512.FusedMultiplyAdd(c0, va, Vector512.Load(c) * vb), c); c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c1, va, Vector512.Load(c) * vb), c); c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c2, va, Vector512.Load(c) * vb), c); c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c3, va, Vector512.Load(c) * vb), c); c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c4, va, Vector512.Load(c) * vb), c); c += ldc;
            Vector512.Store(Vector512.FusedMultiplyAdd(c5, va, Vector512.Load(c) * vb), c);
        }
    }

    /// <summary>6×16 tile with 256-bit vectors (AVX2 machines): 12 ymm accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelV256x16(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a += MR;
            b += 16;
        }
        var va = Vector256.Create(alpha);
        if (beta == 0f)
        {
            Vector256.Store(c00 * va, c); Vector256.Store(c01 * va, c + 8); c += ldc;
            Vector256.Store(c10 * va, c); Vector256.Store(c11 * va, c + 8); c += ldc;
            Vector256.Store(c20 * va, c); Vector256.Store(c21 * va, c + 8); c += ldc;
            Vector256.Store(c30 * va, c); Vector256.Store(c31 * va, c + 8); c += ldc;
            Vector256.Store(c40 * va, c); Vector256.Store(c41 * va, c + 8); c += ldc;
            Vector256.Store(c50 * va, c); Vector256.Store(c51 * va, c + 8);
        }
        else
        {
            var vb = Vector256.Create(beta);
            Update(c00, c01, c, va, vb); c += ldc;
            Update(c10, c11, c, va, vb); c += ldc;
            Update(c20, c21, c, va, vb); c += ldc;
            Update(c30, c31, c, va, vb); c += ldc;
            Update(c40, c41, c, va, vb); c += ldc;
            Update(c50, c51, c, va, vb);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Update(Vector256<float> x0, Vector256<float> x1, float* c, Vector256<float> va, Vector256<float> vb)
        {
            Vector256.Store(Vector256.FusedMultiplyAdd(x0, va, Vector256.Load(c) * vb), c);
            Vector256.Store(Vector256.FusedMultiplyAdd(x1, va, Vector256.Load(c + 8) * vb), c + 8);
        }
    }

    /// <summary>6×8 tile with 256-bit vectors for the last, narrow strip.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelV256x8(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[1]), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[2]), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[3]), b0, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[4]), b0, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[5]), b0, c5);
            a += MR;
            b += 8;
        }
        var va = Vector256.Create(alpha);
        var vb = Vector256.Create(beta);
        bool read = beta != 0f;
        Vector256<float>* acc = stackalloc Vector256<float>[MR] { c0, c1, c2, c3, c4, c5 };
        for (int r = 0; r < MR; r++, c += ldc)
            Vector256.Store(read ? Vector256.FusedMultiplyAdd(acc[r], va, Vector256.Load(c) * vb) : acc[r] * va, c);
    }

    /// <summary>Portable MR×width tile (width ≤ 16) for machines without 256-bit SIMD.</summary>
    private static unsafe void KernelScalar(int width, int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        float* acc = stackalloc float[MR * 16];
        new Span<float>(acc, MR * 16).Clear();
        for (int p = 0; p < kc; p++, a += MR, b += width)
        {
            for (int r = 0; r < MR; r++)
            {
                float x = a[r];
                float* row = acc + r * width;
                for (int j = 0; j < width; j++) row[j] = MathF.FusedMultiplyAdd(x, b[j], row[j]);
            }
        }
        for (int r = 0; r < MR; r++, c += ldc)
            for (int j = 0; j < width; j++)
                c[j] = beta == 0f ? alpha * acc[r * width + j] : alpha * acc[r * width + j] + beta * c[j];
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Packing buffers: one pair per thread, grown on demand, pinned and 64-byte aligned.
    // ---------------------------------------------------------------------------------------------------------------

    private sealed class PackBuffers
    {
        [ThreadStatic] private static PackBuffers? s_current;

        private float[]? _a, _b;

        public static PackBuffers ForThread() => s_current ??= new PackBuffers();

        public unsafe float* A(int floats) => Get(ref _a, floats);

        public unsafe float* B(int floats) => Get(ref _b, floats);

        private static unsafe float* Get(ref float[]? array, int floats)
        {
            if (array is null || array.Length < floats + 16)
                array = GC.AllocateUninitializedArray<float>(Math.Max(floats + 16, 4096), pinned: true);
            nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            return (float*)((p + 63) & ~(nint)63);
        }
    }
}
