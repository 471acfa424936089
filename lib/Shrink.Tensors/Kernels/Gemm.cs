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
/// The fast path is a cache-blocked GEMM in the style of GotoBLAS/BLIS, organised so that the vector (contiguous)
/// direction of the micro-kernel runs along the rows of C:
/// <list type="bullet">
/// <item>The micro-kernel keeps an MR×NR = 6×32 tile of C in 12 zmm registers: per k step it loads 2 vectors of a B strip,
/// broadcasts 6 values of an A strip and issues 12 FMAs. Fringe columns use 16- and 8-wide strips (6×16 zmm, 6×8 ymm
/// kernels); partial tiles are written with masked stores.</item>
/// <item>Long k (&gt; <see cref="KShort"/>): k is cut into slices of at most <see cref="KC"/>; op(B) into blocks of
/// kc×<see cref="NB"/> packed into NR-wide column strips (<c>strip[p·NR + j]</c>, zero padded, kept in L2);
/// op(A) into blocks of <see cref="MB"/> rows, whose MR-row strips (<c>strip[p·MR + r]</c>) stay in L1 while the kernel
/// sweeps the B strips. A non-transposed A is read in place; a transposed one (or one whose row pitch aliases in L1)
/// is packed.</item>
/// <item>Short k (≤ <see cref="KShort"/>, e.g. attention and narrow linear layers): no slicing, A is read in place and
/// a non-transposed B too; only Bᵀ and fringe strips are packed, one strip at a time.</item>
/// </list>
/// Transposed operands only change how the packing routines read memory (8×8 register transposes), so there is never a
/// separate transpose copy.
/// </para>
/// <para>
/// Vector512 (AVX-512) is used when hardware accelerated, otherwise Vector256 (6×16 tile), otherwise a scalar kernel on
/// the same layout. Large problems are split across cores (each core runs the blocked algorithm on its own slab of C with
/// its own packing buffers); small ones run on the calling thread, and batches of small matrices are spread over the cores
/// one matrix at a time. Packing buffers are per-thread and reused, so steady-state calls allocate nothing on the managed
/// heap apart from the task-parallel bookkeeping of parallel calls.
/// </para>
/// </remarks>
public static class Gemm
{
    // ---------------------------------------------------------------------------------------------------------------
    // Blocking parameters (chosen by measurement on an AMD EPYC Zen 4: 32 KiB L1d and 1 MiB L2 per core, shared L3).
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Rows of C per micro-tile (values of A broadcast per k step).</summary>
    internal const int MR = 6;

    /// <summary>
    /// Deepest k slice: an MR×KC strip of A (12 KiB) stays in L1 while the kernel sweeps the B block, and C is read and
    /// written once per slice. 256, 384, 512 and 768 measured within noise of each other; 512 halves the C traffic of 256.
    /// </summary>
    internal const int KC = 512;

    /// <summary>Columns of op(B) per packed block: KC×NB floats (512 KiB) sit in the per-core L2 (1 MiB on Zen 4).</summary>
    internal const int NB = 256;

    /// <summary>Rows of op(A) per packed block (MB×KC floats, lives in L2/L3); B is re-packed once per such block.</summary>
    internal const int MB = 1536;

    /// <summary>Longest k handled without packing A or slicing k (<see cref="GemmShortK"/>): one MR×k strip of A is a few cache lines.</summary>
    internal const int KShort = 128;

    /// <summary>Rows of A per block in the short-k path: this many floats of A (128 KiB) stay in L2 while B strips sweep past.</summary>
    internal const int ShortKBlockFloats = 32 * 1024;

    /// <summary>Multiply-adds (m·n·k) each thread should get at least (about 5 µs of work) before a GEMM is split.</summary>
    internal const long MinWorkPerThread = 1L << 18;

    /// <summary>Most threads one call uses (defaults to the core count; benchmarks lower it to measure one core).</summary>
    internal static int MaxThreads { get; set; } = Environment.ProcessorCount;

    /// <summary>The instruction sets the kernels exist for.</summary>
    internal enum Isa { Scalar, V256, V512 }

    /// <summary>The best kernel family for this machine.</summary>
    internal static Isa BestIsa =>
        Vector512.IsHardwareAccelerated ? Isa.V512 : Vector256.IsHardwareAccelerated ? Isa.V256 : Isa.Scalar;

    /// <summary>Width of a full packed B strip (NR) for an instruction set.</summary>
    internal static int StripWidth(Isa isa) => isa == Isa.V512 ? 32 : 16;

    /// <summary>
    /// Width of the B strip that starts where <paramref name="remaining"/> columns are left: full nr-wide strips, then the
    /// narrowest of 32, 16 and 8 that wastes least on the fringe (17..24 columns left become a 16 and an 8 strip, 1..8 one
    /// 8 strip). Narrow strips matter for small matrices: a 17-wide product costs 16 + 8 lanes instead of 32.
    /// </summary>
    internal static int StripWidthAt(int nr, int remaining) =>
        remaining >= nr || (nr == 32 && remaining > 24) ? nr : remaining > 8 ? 16 : 8;

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
    /// <param name="alpha">Scale of the product. When 0, A and B are not read and C = beta·C.</param>
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
            if (batch == 1 || (strideB == 0 && !transA && strideA == (long)m * lda && strideC == (long)m * ldc && (long)batch * m <= int.MaxValue))
            {
                GemmParallel(isa, transA, transB, batch * m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                return;
            }

            long work = (long)m * n * k;
            if (work >= 2 * MinWorkPerThread || MaxThreads <= 1)
            {
                // Big matrices (or one core): one after another, each split across the cores inside.
                for (int t = 0; t < batch; t++)
                    GemmParallel(isa, transA, transB, m, n, k, alpha, pa + t * strideA, lda, pb + t * strideB, ldb, beta,
                        pc + t * strideC, ldc);
                return;
            }

            BatchOfSmall(isa, transA, transB, batch, m, n, k, alpha, pa, lda, strideA, pb, ldb, strideB, beta, pc, ldc, strideC);
        }
    }

    /// <summary>
    /// Many small matrices: each is one serial GEMM; runs of them are handed out to the cores dynamically (a slow or busy
    /// core simply takes fewer).
    /// </summary>
    private static unsafe void BatchOfSmall(Isa isa, bool transA, bool transB, int batch, int m, int n, int k, float alpha,
        float* a, int lda, long strideA, float* b, int ldb, long strideB, float beta, float* c, int ldc, long strideC)
    {
        int threads = Math.Min(MaxThreads, batch);
        int perPart = Math.Max(1, batch / (32 * threads)); // ~32 runs per thread: balance without contending on the counter
        GemmJob job = GemmJob.Rent();
        job.Set(isa, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        job.Batch = true;
        job.BatchSize = batch;
        job.PerPart = perPart;
        job.StrideA = strideA;
        job.StrideB = strideB;
        job.StrideC = strideC;
        job.Run(CeilDiv(batch, perPart), threads - 1);
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
    // ---------------------------------------------------------------------------------------------------------------
    // Driver: scaling shortcut, split across cores, then one of the two serial algorithms.
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
        int nr = StripWidth(isa);
        int mStrips = (m + MR - 1) / MR, nStrips = (n + nr - 1) / nr;
        int parts = (int)Math.Min(MaxThreads, work / MinWorkPerThread);
        if (parts <= 1 || (mStrips < 2 && nStrips < 2))
        {
            GemmSerial(isa, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }

        // Split C into one slab per thread, whole micro-tiles each. Pick the side whose split leaves the largest slab
        // (in padded tiles) smallest; on a near tie split the longer side, which makes the operand that every slab packs
        // for itself the smaller one.
        long rowSlab = CeilDiv(mStrips, Math.Min(parts, mStrips)) * MR * (long)nStrips * nr;
        long colSlab = CeilDiv(nStrips, Math.Min(parts, nStrips)) * nr * (long)mStrips * MR;
        bool splitRows = rowSlab * 100 < colSlab * 99 || (colSlab * 100 >= rowSlab * 99 && m >= n);
        if (splitRows ? mStrips < 2 : nStrips < 2) splitRows = !splitRows;
        int tiles = splitRows ? mStrips : nStrips, unit = splitRows ? MR : nr;

        // Cut more slabs than threads (claimed dynamically), so a helper that starts late or a core that is busy elsewhere
        // costs a slab rather than half the call. Every slab reads all of the shared operand (op(B) for row slabs, op(A) for
        // column slabs); where that operand is packed, each extra slab packs it once more (~8 kernel-FMA slots per float),
        // so take only as many slabs as keep that within 2% of the work.
        bool sharedPacked = splitRows
            ? transB || k > KShort || AliasesInL1(ldb)
            : AliasesInL1(lda) || (transA && k > KShort);
        long sharedFloats = splitRows ? (long)k * n : (long)m * k;
        int perThread = 4;
        if (sharedPacked)
            while (perThread > 1 && 8 * sharedFloats * perThread * parts * 50 > work) perThread /= 2;
        Split(isa, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, splitRows, tiles, unit, Math.Min(parts * perThread, tiles));
    }

    /// <summary>Runs one serial GEMM per slab of C: <paramref name="parts"/> slabs of whole tiles (rows of MR or columns of NR).</summary>
    private static unsafe void Split(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda,
        float* b, nint ldb, float beta, float* c, nint ldc, bool splitRows, int tiles, int unit, int parts)
    {
        int threads = Math.Min(MaxThreads, parts);
        GemmJob job = GemmJob.Rent();
        job.Set(isa, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        job.Batch = false;
        job.SplitRows = splitRows;
        job.Tiles = tiles;
        job.Unit = unit;
        job.Slabs = parts;
        job.Run(parts, threads - 1);
    }

    /// <summary>
    /// One parallel call, shared by the calling thread and thread-pool helpers without allocating: the parts (slabs of C,
    /// or runs of batch matrices) are claimed one at a time through an interlocked counter by the caller as well as by the
    /// helpers, so the call completes even if no helper ever gets a thread, and the caller then only waits for parts that
    /// are being computed elsewhere. One job object per calling thread is reused; it is replaced (the only allocation) if
    /// a helper queued by the previous call has not run yet.
    /// </summary>
    private sealed unsafe class GemmJob : IThreadPoolWorkItem
    {
        [ThreadStatic] private static GemmJob? t_job;

        private int _parts, _next, _pending, _queued;
        private Exception? _error;

        // The product (see GemmSerial).
        private Isa _isa;
        private bool _transA, _transB;
        private int _m, _n, _k;
        private float _alpha, _beta;
        private float* _a, _b, _c;
        private nint _lda, _ldb, _ldc;

        // Slabs of one product: part w covers tiles [Tiles·w/Slabs, Tiles·(w+1)/Slabs) of Unit rows or columns.
        public bool Batch, SplitRows;
        public int Tiles, Unit, Slabs;

        // Batch: part t covers matrices [t·PerPart, min((t+1)·PerPart, BatchSize)).
        public int BatchSize, PerPart;
        public long StrideA, StrideB, StrideC;

        public static GemmJob Rent()
        {
            GemmJob? job = t_job;
            if (job is null || Volatile.Read(ref job._queued) != 0) t_job = job = new GemmJob();
            return job;
        }

        public void Set(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha, float* a, nint lda, float* b,
            nint ldb, float beta, float* c, nint ldc)
        {
            (_isa, _transA, _transB, _m, _n, _k, _alpha, _beta) = (isa, transA, transB, m, n, k, alpha, beta);
            _a = a;
            _b = b;
            _c = c;
            (_lda, _ldb, _ldc) = (lda, ldb, ldc);
        }

        /// <summary>Computes parts 0 .. parts-1 with up to <paramref name="helpers"/> pool threads joining in.</summary>
        public void Run(int parts, int helpers)
        {
            _parts = parts;
            _pending = parts;
            _error = null;
            _queued = helpers;
            Volatile.Write(ref _next, 0); // publishes everything above to the helpers
            for (int i = 0; i < helpers; i++) ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
            if (_error is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        void IThreadPoolWorkItem.Execute()
        {
            Work();
            Interlocked.Decrement(ref _queued);
        }

        private void Work()
        {
            int part;
            while ((part = Interlocked.Increment(ref _next) - 1) < _parts)
            {
                try
                {
                    RunPart(part);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, e, null);
                }
                finally
                {
                    Interlocked.Decrement(ref _pending);
                }
            }
        }

        private void RunPart(int part)
        {
            if (Batch)
            {
                int t1 = Math.Min(BatchSize, (part + 1) * PerPart);
                for (int t = part * PerPart; t < t1; t++)
                    GemmSerial(_isa, _transA, _transB, _m, _n, _k, _alpha, _a + t * StrideA, _lda, _b + t * StrideB, _ldb, _beta,
                        _c + t * StrideC, _ldc);
                return;
            }
            int s0 = (int)((long)Tiles * part / Slabs) * Unit, s1 = (int)((long)Tiles * (part + 1) / Slabs) * Unit;
            if (SplitRows)
            {
                s1 = Math.Min(s1, _m);
                GemmSerial(_isa, _transA, _transB, s1 - s0, _n, _k, _alpha, _transA ? _a + s0 : _a + s0 * _lda, _lda, _b, _ldb,
                    _beta, _c + s0 * _ldc, _ldc);
            }
            else
            {
                s1 = Math.Min(s1, _n);
                GemmSerial(_isa, _transA, _transB, _m, s1 - s0, _k, _alpha, _a, _lda, _transB ? _b + s0 * _ldb : _b + s0, _ldb,
                    _beta, _c + s0, _ldc);
            }
        }
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

    /// <summary>One GEMM on the calling thread.</summary>
    private static unsafe void GemmSerial(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
            ScaleC(m, n, beta, c, ldc);
        else if (k <= KShort)
            GemmShortK(isa, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else
            GemmBlocked(isa, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /// <summary>
    /// Short k (at most <see cref="KShort"/>): no k slicing and, usually, no packing at all. An MR×k strip of op(A) is only
    /// a few cache lines, so the micro-kernel broadcasts straight from A (row stride rs, column stride cs: both layouts of A
    /// work); B is used in place when it is not transposed (row p of a strip is NR contiguous floats of B) and packed one
    /// strip at a time otherwise (Bᵀ, or a partial last strip, zero padded). Operands whose row pitch would alias in L1
    /// (see <see cref="AliasesInL1"/>) are packed instead. Loop nest: i0 over row blocks of A sized for L2 ·
    /// jr over NR-column strips of B (≤ 16 KiB, stays in L1) · ir over MR-row strips of A · micro-kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void GemmShortK(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        int nr = StripWidth(isa);
        int mBlock = Math.Max(MR, ShortKBlockFloats / k / MR * MR);
        bool packA = AliasesInL1(lda), packAllB = transB || AliasesInL1(ldb);
        PackBuffers buffers = PackBuffers.ForThread();
        float* bp = buffers.B(nr * k);
        float* ap = packA ? buffers.A(RoundUp(Math.Min(mBlock, m), MR) * k) : null;
        for (int i0 = 0; i0 < m; i0 += mBlock)
        {
            int mb = Math.Min(mBlock, m - i0);
            // op(A)[i0 + i, p] = aBlock[i·rs + p·cs]
            float* aBlock = transA ? a + i0 : a + i0 * lda;
            nint rs = transA ? 1 : lda, cs = transA ? lda : 1;
            if (packA)
            {
                PackA(transA, a, lda, i0, mb, 0, k, ap);
                aBlock = ap;
                rs = 1;
                cs = MR;
            }
            for (int jr = 0, width; jr < n; jr += width)
            {
                width = StripWidthAt(nr, n - jr);
                int cols = Math.Min(width, n - jr);
                float* bStrip = b + jr;
                nint bStride = ldb;
                if (packAllB || cols != width)
                {
                    PackBStrip(transB, b, ldb, 0, k, jr, cols, width, bp);
                    bStrip = bp;
                    bStride = width;
                }
                float* cTile = c + i0 * ldc + jr;
                for (int ir = 0; ir < mb; ir += MR, cTile += MR * ldc)
                {
                    float* aStrip = packA ? aBlock + ir * k : aBlock + ir * rs;
                    MicroKernel(isa, width, k, aStrip, rs, cs, bStrip, bStride, cTile, ldc, Math.Min(MR, mb - ir), cols, alpha, beta);
                }
            }
        }
    }

    /// <summary>
    /// Long k: the blocked algorithm. Loop nest, outermost first: i0 over MB-row blocks of op(A) · p0 over kc-deep
    /// slices (pack the A block into MR-row strips, unless A is not transposed and its rows can be read in place) ·
    /// j0 over NB-column blocks (pack the B block into NR-column strips, kept in L2) · ir over A strips (one MR×kc strip
    /// stays in L1) · jr over B strips (streamed from L2) · micro-kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void GemmBlocked(Isa isa, bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, nint lda, float* b, nint ldb, float beta, float* c, nint ldc)
    {
        int nr = StripWidth(isa);
        // Balance the k slices (k = 257 gives 129 + 128 rather than 256 + 1) so no pass is a sliver.
        int kSlices = (k + KC - 1) / KC;
        int kcMax = (k + kSlices - 1) / kSlices;
        int mbMax = Math.Min(MB, m), nbMax = Math.Min(NB, n);
        // A strip read in place is MR rows of kc contiguous floats: fine unless the rows alias in L1. A transposed A would
        // need kc separate cache lines per strip, so it is always packed.
        bool packA = transA || AliasesInL1(lda);

        PackBuffers buffers = PackBuffers.ForThread();
        float* ap = packA ? buffers.A(RoundUp(mbMax, MR) * kcMax) : null;
        float* bp = buffers.B(RoundUp(nbMax, nr) * kcMax);

        for (int i0 = 0; i0 < m; i0 += MB)
        {
            int mb = Math.Min(MB, m - i0);
            for (int p0 = 0; p0 < k; p0 += kcMax)
            {
                int kc = Math.Min(kcMax, k - p0);
                if (packA) PackA(transA, a, lda, i0, mb, p0, kc, ap);
                // Only the first k slice applies beta; later slices accumulate onto the partial result.
                float betaK = p0 == 0 ? beta : 1f;
                for (int j0 = 0; j0 < n; j0 += NB)
                {
                    int nb = Math.Min(NB, n - j0);
                    PackB(transB, b, ldb, p0, kc, j0, nb, nr, bp);
                    for (int ir = 0; ir < mb; ir += MR)
                    {
                        int rows = Math.Min(MR, mb - ir);
                        float* aStrip = packA ? ap + (nint)ir * kc : a + (i0 + ir) * lda + p0;
                        nint rs = packA ? 1 : lda, cs = packA ? MR : 1;
                        float* cRow = c + (i0 + ir) * ldc + j0;
                        for (int jr = 0, width; jr < nb; jr += width)
                        {
                            width = StripWidthAt(nr, nb - jr);
                            int cols = Math.Min(width, nb - jr);
                            MicroKernel(isa, width, kc, aStrip, rs, cs, bp + (nint)jr * kc, width, cRow + jr, ldc, rows, cols,
                                alpha, betaK);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// True when rows <paramref name="ld"/> floats apart fall into the same L1 sets (a pitch that is a multiple of 4 KiB,
    /// the span of one L1 way): the MR rows (or kc rows) of an operand strip read in place would then compete for the
    /// same few sets, so such operands are packed.
    /// </summary>
    private static bool AliasesInL1(nint ld) => ld % 1024 == 0;

    private static int RoundUp(int x, int to) => (x + to - 1) / to * to;

    private static int CeilDiv(int x, int y) => (x + y - 1) / y;

    // ---------------------------------------------------------------------------------------------------------------
    // Packing
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Packs op(A)[i0 .. i0+mb, p0 .. p0+kc] into MR-row strips: strip s holds <c>dst[s·MR·kc + p·MR + r] = op(A)[i0+s·MR+r, p0+p]</c>,
    /// rows past mb zero filled. Writes up to 2 floats past the last strip (the buffer has slack).
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
                float* src = a + p0 * lda + i0 + s;
                if (s + 8 <= mb)
                {
                    // 8-wide copies (2 beyond the strip, still inside this block of A); the 2 extra floats land where the
                    // next p's values are written next.
                    for (int p = 0; p < kc; p++, src += lda, d += MR) Vector256.Store(Vector256.Load(src), d);
                }
                else if (rows == MR)
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
                int p = 0;
                if (rows == MR)
                {
                    if (Avx.IsSupported)
                    {
                        // 8 p at a time: transpose 6 rows (+2 zero rows) of 8 into 8 groups of 8 and store each group at
                        // its p; a group's 2 trailing zeros are overwritten by the next group.
                        for (; p + 8 <= kc; p += 8, d += 8 * MR)
                        {
                            var t0 = Vector256.Load(src + p); var t1 = Vector256.Load(src + lda + p);
                            var t2 = Vector256.Load(src + 2 * lda + p); var t3 = Vector256.Load(src + 3 * lda + p);
                            var t4 = Vector256.Load(src + 4 * lda + p); var t5 = Vector256.Load(src + 5 * lda + p);
                            var t6 = Vector256<float>.Zero; var t7 = Vector256<float>.Zero;
                            Transpose8x8(ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref t6, ref t7);
                            t0.Store(d); t1.Store(d + MR); t2.Store(d + 2 * MR); t3.Store(d + 3 * MR);
                            t4.Store(d + 4 * MR); t5.Store(d + 5 * MR); t6.Store(d + 6 * MR); t7.Store(d + 7 * MR);
                        }
                    }
                    for (; p < kc; p++, d += MR)
                    {
                        float* q = src + p;
                        d[0] = q[0]; d[1] = q[lda]; d[2] = q[2 * lda]; d[3] = q[3 * lda]; d[4] = q[4 * lda]; d[5] = q[5 * lda];
                    }
                }
                else
                {
                    for (; p < kc; p++, d += MR)
                        for (int r = 0; r < MR; r++) d[r] = r < rows ? src[r * lda + p] : 0f;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[p0 .. p0+kc, j0 .. j0+nb] into column strips of the widths <see cref="StripWidthAt"/> gives: the strip
    /// starting at column jr, of width w, holds <c>dst[jr·kc + p·w + j] = op(B)[p0+p, j0+jr+j]</c>.
    /// </summary>
    private static unsafe void PackB(bool transB, float* b, nint ldb, int p0, int kc, int j0, int nb, int nr, float* dst)
    {
        for (int jr = 0, width; jr < nb; jr += width)
        {
            width = StripWidthAt(nr, nb - jr);
            PackBStrip(transB, b, ldb, p0, kc, j0 + jr, Math.Min(width, nb - jr), width, dst + (nint)jr * kc);
        }
    }

    /// <summary>
    /// Packs one strip <c>dst[p·width + j] = op(B)[p0+p, j0+j]</c> for p &lt; kc, j &lt; cols, and zeros for cols ≤ j &lt; width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackBStrip(bool transB, float* b, nint ldb, int p0, int kc, int j0, int cols, int width, float* dst)
    {
        if (!transB)
        {
            // B stored k×n: each packed row is a contiguous run of B.
            float* src = b + p0 * ldb + j0;
            float* d = dst;
            if (cols == width && width % 8 == 0)
            {
                for (int p = 0; p < kc; p++, src += ldb, d += width)
                    for (int jj = 0; jj < width; jj += 8) Vector256.Store(Vector256.Load(src + jj), d + jj);
                return;
            }
            if (Avx.IsSupported)
            {
                // Partial strip: masked loads read only the cols valid floats and fill the rest of each group with zeros.
                int full = cols & ~7;
                Vector256<float> mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols - full)).AsSingle();
                for (int p = 0; p < kc; p++, src += ldb, d += width)
                {
                    int jj = 0;
                    for (; jj < full; jj += 8) Vector256.Store(Vector256.Load(src + jj), d + jj);
                    if (jj < cols)
                    {
                        Vector256.Store(Avx.MaskLoad(src + jj, mask), d + jj);
                        jj += 8;
                    }
                    for (; jj < width; jj += 8) Vector256.Store(Vector256<float>.Zero, d + jj);
                }
                return;
            }
            for (int p = 0; p < kc; p++, src += ldb, d += width)
                for (int jj = 0; jj < width; jj++) d[jj] = jj < cols ? src[jj] : 0f;
            return;
        }

        // B stored n×k: column j of op(B) is row j0+j of B, contiguous in p. Zero the padding columns first (whole
        // 8-float groups from the one holding column `cols`; the data written below overwrites the overlap), then
        // transpose 8×8 blocks, then the fringes.
        if (cols < width)
        {
            int z0 = cols & ~7;
            for (int p = 0; p < kc; p++)
                for (int jj = z0; jj < width; jj += 8) Vector256.Store(Vector256<float>.Zero, dst + p * width + jj);
        }
        float* rowsB = b + j0 * ldb + p0;
        int j = 0;
        if (Avx.IsSupported)
        {
            for (; j + 8 <= cols; j += 8)
            {
                float* s = rowsB + j * ldb;
                int p = 0;
                for (; p + 8 <= kc; p += 8)
                {
                    float* q = s + p;
                    var t0 = Vector256.Load(q); var t1 = Vector256.Load(q + ldb); var t2 = Vector256.Load(q + 2 * ldb);
                    var t3 = Vector256.Load(q + 3 * ldb); var t4 = Vector256.Load(q + 4 * ldb); var t5 = Vector256.Load(q + 5 * ldb);
                    var t6 = Vector256.Load(q + 6 * ldb); var t7 = Vector256.Load(q + 7 * ldb);
                    Transpose8x8(ref t0, ref t1, ref t2, ref t3, ref t4, ref t5, ref t6, ref t7);
                    float* d = dst + p * width + j;
                    t0.Store(d); t1.Store(d + width); t2.Store(d + 2 * width); t3.Store(d + 3 * width);
                    t4.Store(d + 4 * width); t5.Store(d + 5 * width); t6.Store(d + 6 * width); t7.Store(d + 7 * width);
                }
                for (; p < kc; p++)
                    for (int jj = 0; jj < 8; jj++) dst[p * width + j + jj] = s[jj * ldb + p];
            }
        }
        for (; j < cols; j++)
        {
            float* s = rowsB + j * ldb;
            for (int p = 0; p < kc; p++) dst[p * width + j] = s[p];
        }
    }

    /// <summary>In-register transpose of the 8×8 block whose rows are r0..r7 (AVX).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
        ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE), s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE), s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        r0 = Avx.Permute2x128(s0, s4, 0x20); r1 = Avx.Permute2x128(s1, s5, 0x20); r2 = Avx.Permute2x128(s2, s6, 0x20); r3 = Avx.Permute2x128(s3, s7, 0x20);
        r4 = Avx.Permute2x128(s0, s4, 0x31); r5 = Avx.Permute2x128(s1, s5, 0x31); r6 = Avx.Permute2x128(s2, s6, 0x31); r7 = Avx.Permute2x128(s3, s7, 0x31);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Micro-kernels. All share one contract: for r < rows and j < cols,
    //   C[r·ldc + j] = alpha·Σ_{p<kc} A[r·rs + p·cs]·B[p·ldb + j] + beta·C[r·ldc + j]   (beta = 0: C not read),
    // with the MR×width accumulator tile held in registers across the k loop. Rows past `rows` re-read the last valid row
    // of A (never out of bounds) and are not stored; B must be readable for all `width` columns (packed strips are zero
    // padded), and only the first `cols` columns are stored.
    // ---------------------------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void MicroKernel(Isa isa, int width, int kc, float* a, nint rs, nint cs, float* b, nint ldb,
        float* c, nint ldc, int rows, int cols, float alpha, float beta)
    {
        switch (isa)
        {
            case Isa.V512 when width == 32: KernelV512x32(kc, a, rs, cs, b, ldb, c, ldc, rows, cols, alpha, beta); break;
            case Isa.V512 when width == 16: KernelV512x16(kc, a, rs, cs, b, ldb, c, ldc, rows, cols, alpha, beta); break;
            case Isa.V512: KernelV256x8(kc, a, rs, cs, b, ldb, c, ldc, rows, cols, alpha, beta); break;
            case Isa.V256 when width == 16: KernelV256x16(kc, a, rs, cs, b, ldb, c, ldc, rows, cols, alpha, beta); break;
            case Isa.V256: KernelV256x8(kc, a, rs, cs, b, ldb, c, ldc, rows, cols, alpha, beta); break;
            default: KernelScalar(width, kc, a, rs, cs, b, ldb, c, ldc, rows, cols, alpha, beta); break;
        }
    }

    /// <summary>Offsets of the MR rows of an A strip; rows at or past <paramref name="rows"/> alias the last valid row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowOffsets(nint rs, int rows, out nint o1, out nint o2, out nint o3, out nint o4, out nint o5)
    {
        o1 = rows > 1 ? rs : 0;
        o2 = rows > 2 ? 2 * rs : o1;
        o3 = rows > 3 ? 3 * rs : o2;
        o4 = rows > 4 ? 4 * rs : o3;
        o5 = rows > 5 ? 5 * rs : o4;
    }

    /// <summary>Prefetches the rows of the C tile so their cache misses overlap the k loop instead of the final update.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchTile(float* c, nint ldc, int rows, int width)
    {
        if (!Sse.IsSupported) return;
        for (int r = 0; r < rows; r++, c += ldc)
        {
            Sse.Prefetch0(c);
            if (width > 16) Sse.Prefetch0(c + 16);
        }
    }

    /// <summary>6×32 tile, 12 zmm accumulators: per k step 2 B loads, 6 A broadcasts, 12 FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelV512x32(int kc, float* a, nint rs, nint cs, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, float alpha, float beta)
    {
        RowOffsets(rs, rows, out nint o1, out nint o2, out nint o3, out nint o4, out nint o5);
        PrefetchTile(c, ldc, rows, 32);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        // The loop runs on the B pointer alone (no counter), which leaves a register for the sixth row offset.
        for (float* bEnd = b + kc * ldb; b < bEnd; )
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[o1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[o2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[o3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[o4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[o5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            a += cs;
            b += ldb;
        }

        var va = Vector512.Create(alpha);
        if (rows == MR && cols == 32)
        {
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
                Update(c00, c, va, vb); Update(c01, c + 16, va, vb); c += ldc;
                Update(c10, c, va, vb); Update(c11, c + 16, va, vb); c += ldc;
                Update(c20, c, va, vb); Update(c21, c + 16, va, vb); c += ldc;
                Update(c30, c, va, vb); Update(c31, c + 16, va, vb); c += ldc;
                Update(c40, c, va, vb); Update(c41, c + 16, va, vb); c += ldc;
                Update(c50, c, va, vb); Update(c51, c + 16, va, vb);
            }
        }
        else
        {
            Vector512<float>* acc = stackalloc Vector512<float>[2 * MR] { c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 };
            StorePartialV512(acc, 2, rows, cols, c, ldc, alpha, beta);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Update(Vector512<float> x, float* c, Vector512<float> va, Vector512<float> vb)
            => Vector512.Store(Vector512.FusedMultiplyAdd(x, va, Vector512.Load(c) * vb), c);
    }

    /// <summary>6×16 tile for a narrow last strip: 6 zmm accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelV512x16(int kc, float* a, nint rs, nint cs, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, float alpha, float beta)
    {
        RowOffsets(rs, rows, out nint o1, out nint o2, out nint o3, out nint o4, out nint o5);
        PrefetchTile(c, ldc, rows, 16);
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o1]), b0, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o2]), b0, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o3]), b0, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o4]), b0, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(a[o5]), b0, c5);
            a += cs;
            b += ldb;
        }
        Vector512<float>* acc = stackalloc Vector512<float>[MR] { c0, c1, c2, c3, c4, c5 };
        StorePartialV512(acc, 1, rows, cols, c, ldc, alpha, beta);
    }

    /// <summary>Writes rows × cols of an accumulator tile (vecs zmm per row) with AVX-512 masked loads and stores.</summary>
    private static unsafe void StorePartialV512(Vector512<float>* acc, int vecs, int rows, int cols, float* c, nint ldc, float alpha, float beta)
    {
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        for (int v = 0; v < vecs; v++)
        {
            int n = Math.Min(16, cols - 16 * v);
            if (n <= 0) break;
            float* cv = c + 16 * v;
            if (n == 16)
            {
                for (int r = 0; r < rows; r++)
                {
                    Vector512<float> x = acc[r * vecs + v] * va;
                    if (beta != 0f) x = Vector512.FusedMultiplyAdd(Vector512.Load(cv + r * ldc), vb, x);
                    Vector512.Store(x, cv + r * ldc);
                }
            }
            else if (Avx512F.IsSupported)
            {
                Vector512<float> mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(n)).AsSingle();
                for (int r = 0; r < rows; r++)
                {
                    Vector512<float> x = acc[r * vecs + v] * va;
                    if (beta != 0f) x = Vector512.FusedMultiplyAdd(Avx512F.MaskLoad(cv + r * ldc, mask, Vector512<float>.Zero), vb, x);
                    Avx512F.MaskStore(cv + r * ldc, mask, x);
                }
            }
            else
            {
                StorePartial((float*)acc + 16 * v, 16 * vecs, rows, n, cv, ldc, alpha, beta);
            }
        }
    }

    /// <summary>6×16 tile with 256-bit vectors (AVX2 machines): 12 ymm accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelV256x16(int kc, float* a, nint rs, nint cs, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, float alpha, float beta)
    {
        RowOffsets(rs, rows, out nint o1, out nint o2, out nint o3, out nint o4, out nint o5);
        PrefetchTile(c, ldc, rows, 16);
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[o1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[o2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[o3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[o4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[o5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a += cs;
            b += ldb;
        }
        Vector256<float>* acc = stackalloc Vector256<float>[2 * MR] { c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 };
        StoreTile256(acc, 2, rows, cols, c, ldc, alpha, beta);
    }

    /// <summary>6×8 tile with 256-bit vectors for a narrow last strip.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void KernelV256x8(int kc, float* a, nint rs, nint cs, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, float alpha, float beta)
    {
        RowOffsets(rs, rows, out nint o1, out nint o2, out nint o3, out nint o4, out nint o5);
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b);
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(a[0]), b0, c0);
            c1 = Vector256.FusedMultiplyAdd(Vector256.Create(a[o1]), b0, c1);
            c2 = Vector256.FusedMultiplyAdd(Vector256.Create(a[o2]), b0, c2);
            c3 = Vector256.FusedMultiplyAdd(Vector256.Create(a[o3]), b0, c3);
            c4 = Vector256.FusedMultiplyAdd(Vector256.Create(a[o4]), b0, c4);
            c5 = Vector256.FusedMultiplyAdd(Vector256.Create(a[o5]), b0, c5);
            a += cs;
            b += ldb;
        }
        Vector256<float>* acc = stackalloc Vector256<float>[MR] { c0, c1, c2, c3, c4, c5 };
        StoreTile256(acc, 1, rows, cols, c, ldc, alpha, beta);
    }

    /// <summary>Writes rows × cols of a tile of ymm accumulators (vecs per row): vector stores when whole, scalar otherwise.</summary>
    private static unsafe void StoreTile256(Vector256<float>* acc, int vecs, int rows, int cols, float* c, nint ldc, float alpha, float beta)
    {
        if (rows == MR && cols == 8 * vecs)
        {
            var va = Vector256.Create(alpha);
            var vb = Vector256.Create(beta);
            for (int r = 0; r < MR; r++, c += ldc)
                for (int v = 0; v < vecs; v++)
                {
                    Vector256<float> x = acc[r * vecs + v] * va;
                    if (beta != 0f) x = Vector256.FusedMultiplyAdd(Vector256.Load(c + 8 * v), vb, x);
                    Vector256.Store(x, c + 8 * v);
                }
        }
        else if (Avx.IsSupported && vecs == 1)
        {
            // Narrow fringe strip (up to 8 columns): masked loads and stores, one row at a time.
            var va = Vector256.Create(alpha);
            var vb = Vector256.Create(beta);
            Vector256<float> mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols)).AsSingle();
            for (int r = 0; r < rows; r++, c += ldc)
            {
                Vector256<float> x = acc[r] * va;
                if (beta != 0f) x = Vector256.FusedMultiplyAdd(Avx.MaskLoad(c, mask), vb, x);
                Avx.MaskStore(c, mask, x);
            }
        }
        else
        {
            StorePartial((float*)acc, 8 * vecs, rows, cols, c, ldc, alpha, beta);
        }
    }

    /// <summary>Portable MR×width tile (width ≤ 16) for machines without 256-bit SIMD.</summary>
    private static unsafe void KernelScalar(int width, int kc, float* a, nint rs, nint cs, float* b, nint ldb, float* c, nint ldc,
        int rows, int cols, float alpha, float beta)
    {
        float* acc = stackalloc float[MR * 16];
        new Span<float>(acc, MR * 16).Clear();
        for (int p = 0; p < kc; p++, a += cs, b += ldb)
        {
            for (int r = 0; r < rows; r++)
            {
                float x = a[r * rs];
                float* row = acc + r * width;
                for (int j = 0; j < width; j++) row[j] = MathF.FusedMultiplyAdd(x, b[j], row[j]);
            }
        }
        StorePartial(acc, width, rows, cols, c, ldc, alpha, beta);
    }

    /// <summary>Scalar write-back of rows × cols from a float tile with row pitch <paramref name="pitch"/>.</summary>
    private static unsafe void StorePartial(float* tile, int pitch, int rows, int cols, float* c, nint ldc, float alpha, float beta)
    {
        for (int r = 0; r < rows; r++, tile += pitch, c += ldc)
        {
            if (beta == 0f)
                for (int j = 0; j < cols; j++) c[j] = alpha * tile[j];
            else
                for (int j = 0; j < cols; j++) c[j] = alpha * tile[j] + beta * c[j];
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Packing buffers: one pair per thread, grown on demand, pinned and 64-byte aligned.
    // ---------------------------------------------------------------------------------------------------------------

    private sealed class PackBuffers
    {
        [ThreadStatic] private static PackBuffers? s_current;

        private float[]? _a, _b;

        public static PackBuffers ForThread() => s_current ??= new PackBuffers();

        /// <summary>A buffer of at least <paramref name="floats"/> floats (plus slack for over-wide vector stores), 64-byte aligned.</summary>
        public unsafe float* A(int floats) => Get(ref _a, floats);

        /// <inheritdoc cref="A"/>
        public unsafe float* B(int floats) => Get(ref _b, floats);

        private static unsafe float* Get(ref float[]? array, int floats)
        {
            int needed = floats + 16 + 64; // alignment + slack
            if (array is null || array.Length < needed)
                array = GC.AllocateUninitializedArray<float>(Math.Max(needed, 4096), pinned: true);
            nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            return (float*)((p + 63) & ~(nint)63);
        }
    }
}
