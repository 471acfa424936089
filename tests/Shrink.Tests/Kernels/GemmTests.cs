using Shrink.Tensors.Kernels;

namespace Shrink.Tests.Kernels;

/// <summary>
/// Gemm.Sgemm / SgemmBatched against the double-accumulating reference Gemm.SgemmNaive, with fixed seeds.
/// </summary>
public class GemmTests
{
    // ----- Tolerances ------------------------------------------------------------------------------------------------
    // The reference sums in double, so its error is negligible; the fast kernel sums k products in float32 (one FMA
    // rounding each) in an order that depends on the blocking. Each rounding is at most UnitRoundoff times the running sum,
    // itself bounded by |alpha|·Σ_p |op(A)[i,p]|·|op(B)[p,j]| + |beta·C[i,j]| ≤ mag (see Magnitudes); with independent
    // rounding errors the accumulated error is a random walk of k steps: ~ sqrt(k)·UnitRoundoff·mag.
    // The worst case (k·UnitRoundoff·mag) is never approached by random data; SigmaFactor covers the tail of the random walk
    // over the ~10⁷ elements the tests check, and FinalRoundings the scaling by alpha, the beta·C term and the store.

    /// <summary>float32 unit roundoff u = 2⁻²⁴ (half an ulp of 1).</summary>
    private const double UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>Multiple of the random-walk estimate sqrt(k)·u·mag that an element may deviate by.</summary>
    private const double SigmaFactor = 4.0;

    /// <summary>Roundings after the k-term sum (alpha·s, beta·c, the add) each worth up to u·mag.</summary>
    private const double FinalRoundings = 3.0;

    private static readonly int[] Sizes = [0, 1, 2, 3, 5, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256];

    private static readonly (bool TransA, bool TransB)[] Transposes = [(false, false), (false, true), (true, false), (true, true)];

    // ----- Sweeps ----------------------------------------------------------------------------------------------------

    [Fact]
    public void CubesAllTransposes()
    {
        var rng = new Random(1);
        foreach (int s in Sizes)
            foreach (var (ta, tb) in Transposes)
                Check(rng, Gemm.BestIsa, ta, tb, s, s, s, alpha: 1f, beta: 0f, pad: 0);
    }

    [Fact]
    public void RandomTriplesWithScalingAndPadding()
    {
        var rng = new Random(2);
        float[] alphas = [1f, -0.5f, 2.5f], betas = [0f, 1f, -1.5f];
        for (int t = 0; t < 400; t++)
        {
            int m = Sizes[rng.Next(Sizes.Length)], n = Sizes[rng.Next(Sizes.Length)], k = Sizes[rng.Next(Sizes.Length)];
            var (ta, tb) = Transposes[rng.Next(4)];
            Check(rng, Gemm.BestIsa, ta, tb, m, n, k, alphas[rng.Next(3)], betas[rng.Next(3)], pad: rng.Next(3) * 3);
        }
    }

    [Fact]
    public void EveryEdgeShapeOfOneTile()
    {
        // All m, n in 1..40 (every partial row count of a micro-tile and partial width of a 32/16-wide strip).
        var rng = new Random(3);
        for (int m = 1; m <= 40; m += 1)
            for (int n = 1; n <= 40; n += 1)
            {
                var (ta, tb) = Transposes[(m + n) % 4];
                Check(rng, Gemm.BestIsa, ta, tb, m, n, 1 + (m * 7 + n) % 19, alpha: 1.25f, beta: (m + n) % 3 == 0 ? 0f : 0.5f, pad: n % 3);
            }
    }

    [Fact]
    public void ShapesSpanningSeveralBlocks()
    {
        // More than one k slice (KC), more than one B column block (NB), more than one A row block (MB).
        var rng = new Random(4);
        (int M, int N, int K)[] shapes =
        [
            (37, 45, Gemm.KC + 1), (20, 33, 3 * Gemm.KC + 7), (9, Gemm.NB + 21, 40), (Gemm.MB + 13, 19, 30),
            (70, Gemm.NB + 40, Gemm.KC + 50), (300, 300, 300),
        ];
        foreach (var (m, n, k) in shapes)
            foreach (var (ta, tb) in Transposes)
                Check(rng, Gemm.BestIsa, ta, tb, m, n, k, alpha: 0.75f, beta: -1f, pad: 5);
    }

    [Fact]
    public void PitchesThatAliasInL1()
    {
        // Leading dimensions that are multiples of 4 KiB make the kernels pack operands they would otherwise read in place.
        var rng = new Random(11);
        foreach (var (ta, tb) in Transposes)
        {
            Check(rng, Gemm.BestIsa, ta, tb, 13, 37, 100, alpha: 1f, beta: 0.5f, pad: 0, pitch: 1024);
            Check(rng, Gemm.BestIsa, ta, tb, 20, 70, Gemm.KC + 44, alpha: -1f, beta: 0f, pad: 0, pitch: 2048);
        }
    }

    [Fact]
    public void BetaZeroOverwritesNaN()
    {
        // Check fills C with NaN when beta == 0; a read of C would propagate it.
        var rng = new Random(5);
        foreach (int s in new[] { 1, 7, 33, 100, 256 })
            foreach (var (ta, tb) in Transposes)
                Check(rng, Gemm.BestIsa, ta, tb, s, s + 3, s + 1, alpha: -2f, beta: 0f, pad: 4);
    }

    [Fact]
    public void KZeroScalesC()
    {
        var rng = new Random(6);
        foreach (float beta in new[] { 0f, 1f, 3f })
            Check(rng, Gemm.BestIsa, false, true, 9, 35, 0, alpha: 2f, beta: beta, pad: 2);
    }

    [Fact]
    public void FallbackKernelsMatch()
    {
        var rng = new Random(7);
        foreach (var isa in new[] { Gemm.Isa.V256, Gemm.Isa.Scalar })
        {
            foreach (int s in new[] { 0, 1, 5, 16, 17, 33, 64, 129 })
                foreach (var (ta, tb) in Transposes)
                    Check(rng, isa, ta, tb, s, s, s, alpha: 1f, beta: 0f, pad: 0);
            for (int t = 0; t < 60; t++)
            {
                int m = Sizes[rng.Next(14)], n = Sizes[rng.Next(17)], k = Sizes[rng.Next(17)];
                var (ta, tb) = Transposes[rng.Next(4)];
                Check(rng, isa, ta, tb, m, n, k, alpha: 0.5f, beta: 2f, pad: 1);
            }
            Check(rng, isa, true, false, 50, Gemm.NB + 9, Gemm.KC + 3, alpha: 1f, beta: 1f, pad: 0);
        }
    }

    // ----- Batched ---------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false, false, 512, 17, 17, 16)]   // attention scores, small: parallel over the batch
    [InlineData(false, true, 512, 17, 17, 16)]    // q @ kᵀ
    [InlineData(false, false, 192, 50, 50, 64)]
    [InlineData(true, false, 6, 40, 33, 20)]
    [InlineData(false, false, 3, 130, 120, 90)]   // big matrices: each multiplied in parallel
    [InlineData(true, true, 2, 70, 300, 80)]
    [InlineData(false, false, 1, 40, 41, 42)]
    [InlineData(false, false, 0, 4, 4, 4)]
    public void BatchedMatchesPerMatrixReference(bool transA, bool transB, int batch, int m, int n, int k)
    {
        var rng = new Random(8);
        foreach (bool broadcastB in new[] { false, true })
            CheckBatched(rng, transA, transB, batch, m, n, k, broadcastB, alpha: 0.5f, beta: batch % 2 == 0 ? 0f : 1.5f, gap: 3);
    }

    [Fact]
    public void BatchedStackedRowsWithSharedB()
    {
        // x @ W: A and C stacked row after row, B shared: computed as one tall product.
        var rng = new Random(9);
        CheckBatched(rng, false, true, 64, 17, 48, 32, broadcastB: true, alpha: 1f, beta: 0f, gap: 0);
        CheckBatched(rng, false, false, 5, 33, 70, 65, broadcastB: true, alpha: 2f, beta: 1f, gap: 0);
    }

    [Fact]
    public void BatchedInterleavedOutputs()
    {
        // Heads written side by side into one row-major (tokens × heads·d) matrix: strideC = d, ldc = heads·d.
        var rng = new Random(10);
        const int heads = 4, tokens = 17, d = 16;
        float[] a = RandomArray(rng, heads * tokens * tokens), b = RandomArray(rng, heads * tokens * d);
        float[] c = new float[tokens * heads * d], expected = new float[c.Length];
        Gemm.SgemmBatched(false, false, heads, tokens, d, tokens, 1f, a, tokens, tokens * tokens, b, d, tokens * d, 0f, c, heads * d, d);
        for (int h = 0; h < heads; h++)
            Gemm.SgemmNaive(false, false, tokens, d, tokens, 1f, a.AsSpan(h * tokens * tokens), tokens, b.AsSpan(h * tokens * d), d, 0f,
                expected.AsSpan(h * d), heads * d);
        AssertClose(expected, c, Magnitudes(false, false, heads, tokens, d, tokens, 1f, a, tokens, tokens * tokens, b, d, tokens * d,
            0f, c, heads * d, d), tokens, "interleaved heads");
    }

    [Fact]
    public void ConcurrentCallers()
    {
        // Several threads each running parallel GEMMs (sharing the thread pool and the per-thread job and pack buffers).
        Parallel.For(0, 6, new ParallelOptions { MaxDegreeOfParallelism = 6 }, w =>
        {
            var rng = new Random(100 + w);
            for (int i = 0; i < 4; i++)
            {
                Check(rng, Gemm.BestIsa, w % 2 == 0, w % 3 == 0, 90 + w, 70 + i, 80, alpha: 1f, beta: 0.5f, pad: 1);
                CheckBatched(rng, false, true, 40, 17, 17, 16, broadcastB: false, alpha: 1f, beta: 0f, gap: 1);
            }
        });
    }

    // ----- Argument validation ---------------------------------------------------------------------------------------

    [Fact]
    public void NegativeSizesAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, -1, 2, 2, 1f, new float[4], 2, new float[4], 2, 0f, new float[4], 2));
        Assert.Contains("m=-1", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.SgemmNaive(false, false, 2, 2, -3, 1f, new float[4], 2, new float[4], 2, 0f, new float[4], 2));
        Assert.Contains("k=-3", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.SgemmBatched(false, false, -2, 2, 2, 2, 1f, new float[4], 2, 4, new float[4], 2, 0, 0f,
            new float[4], 2, 4));
        Assert.Contains("batch", ex.Message);
    }

    [Fact]
    public void ShortSpansNameTheOperand()
    {
        // A is 3×4 (12 elements) but only 11 given.
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 3, 5, 4, 1f, new float[11], 4, new float[20], 5, 0f, new float[15], 5));
        Assert.Contains("operand A", ex.Message);
        Assert.Contains("12", ex.Message);
        // Bᵀ: B stored 5×4 with ldb = 6 needs 4·6 + 4 = 28.
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 3, 5, 4, 1f, new float[12], 4, new float[27], 6, 0f, new float[15], 5));
        Assert.Contains("operand B", ex.Message);
        Assert.Contains("28", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 3, 5, 4, 1f, new float[12], 4, new float[20], 5, 0f, new float[14], 5));
        Assert.Contains("operand C", ex.Message);
        // Batched: the last B matrix overruns.
        ex = Assert.Throws<ArgumentException>(() => Gemm.SgemmBatched(false, false, 3, 2, 2, 2, 1f, new float[12], 2, 4, new float[11], 2, 4, 0f,
            new float[12], 2, 4));
        Assert.Contains("operand B", ex.Message);
        Assert.Contains("strideB", ex.Message);
    }

    [Fact]
    public void SmallLeadingDimensionsNameTheOperand()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(true, false, 3, 5, 4, 1f, new float[100], 2, new float[100], 5, 0f, new float[100], 5));
        Assert.Contains("operand A", ex.Message);
        Assert.Contains("lda=2", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 3, 5, 4, 1f, new float[100], 4, new float[100], 4, 0f, new float[100], 5));
        Assert.Contains("operand B", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 3, 5, 4, 1f, new float[100], 4, new float[100], 5, 0f, new float[100], 4));
        Assert.Contains("operand C", ex.Message);
        Assert.Contains("ldc=4", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.SgemmBatched(false, false, 2, 2, 2, 2, 1f, new float[8], 2, 4, new float[8], 2, -1, 0f,
            new float[8], 2, 4));
        Assert.Contains("strideB", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Gemm.SgemmBatched(false, false, 2, 2, 2, 2, 1f, new float[8], 2, 4, new float[8], 2, 4, 0f,
            new float[8], 2, 0));
        Assert.Contains("operand C", ex.Message);
    }

    [Fact]
    public void EmptyProductsNeedNoStorage()
    {
        Gemm.Sgemm(false, false, 0, 0, 0, 1f, [], 0, [], 0, 0f, [], 0);
        Gemm.Sgemm(true, true, 0, 5, 3, 1f, [], 0, new float[15], 3, 1f, [], 5);
        var c = new float[] { 1, 2, 3, 4 };
        Gemm.Sgemm(false, false, 2, 2, 0, 1f, [], 0, [], 2, 0.5f, c, 2);
        Assert.Equal(new float[] { 0.5f, 1, 1.5f, 2 }, c);
    }

    // ----- Helpers ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// Random op(A) (m×k), op(B) (k×n), C (m×n) with leading dimensions widened by <paramref name="pad"/>; runs the fast GEMM
    /// and the reference and compares every element, and checks the padding columns of C are untouched.
    /// </summary>
    private static void Check(Random rng, Gemm.Isa isa, bool ta, bool tb, int m, int n, int k, float alpha, float beta, int pad,
        int pitch = 0)
    {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = pitch > 0 ? pitch : aCols + pad, ldb = pitch > 0 ? pitch : bCols + pad, ldc = pitch > 0 ? pitch : n + pad;
        float[] a = RandomArray(rng, Math.Max(0, aRows * lda)), b = RandomArray(rng, Math.Max(0, bRows * ldb));
        float[] c0 = RandomArray(rng, m * ldc);
        if (beta == 0f) Array.Fill(c0, float.NaN);
        float[] got = (float[])c0.Clone(), expected = (float[])c0.Clone();

        Gemm.SgemmWith(isa, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc);
        Gemm.SgemmNaive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, expected, ldc);

        string what = $"{isa} transA={ta} transB={tb} m={m} n={n} k={k} alpha={alpha} beta={beta} pad={pad}";
        float[] mag = Magnitudes(ta, tb, 1, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c0, ldc, 0);
        AssertClose(expected, got, mag, k, what);
        for (int i = 0; i < m; i++)
            for (int j = n; j < ldc; j++)
                Assert.True(BitConverter.SingleToInt32Bits(got[i * ldc + j]) == BitConverter.SingleToInt32Bits(c0[i * ldc + j]),
                    $"{what}: padding C[{i},{j}] was written");
    }

    private static void CheckBatched(Random rng, bool ta, bool tb, int batch, int m, int n, int k, bool broadcastB, float alpha, float beta,
        int gap)
    {
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols, ldb = bCols, ldc = n;
        long strideA = (long)aRows * lda + gap, strideB = broadcastB ? 0 : (long)bRows * ldb + gap, strideC = (long)m * ldc + gap;
        float[] a = RandomArray(rng, (int)(batch * strideA)), b = RandomArray(rng, (int)(Math.Max(1, batch) * Math.Max(strideB, bRows * ldb)));
        float[] c0 = RandomArray(rng, (int)(batch * strideC));
        if (beta == 0f) Array.Fill(c0, float.NaN);
        float[] got = (float[])c0.Clone(), expected = (float[])c0.Clone();

        Gemm.SgemmBatched(ta, tb, batch, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, got, ldc, strideC);
        for (int t = 0; t < batch; t++)
            Gemm.SgemmNaive(ta, tb, m, n, k, alpha, a.AsSpan((int)(t * strideA)), lda, b.AsSpan((int)(t * strideB)), ldb, beta,
                expected.AsSpan((int)(t * strideC)), ldc);

        float[] mag = Magnitudes(ta, tb, batch, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c0, ldc, strideC);
        AssertClose(expected, got, mag, k, $"batched transA={ta} transB={tb} batch={batch} m={m} n={n} k={k} broadcastB={broadcastB}");
    }

    /// <summary>
    /// Per-element error scale mag[i,j] = |alpha|·‖op(A)[i,:]‖₂·‖op(B)[:,j]‖₂ + |beta·C[i,j]| (0 off the matrices). By
    /// Cauchy–Schwarz it bounds |alpha|·Σ_p |op(A)[i,p]|·|op(B)[p,j]| + |beta·C[i,j]|, the sum every rounding error is
    /// proportional to, and costs O((m + n)·k) instead of another triple loop.
    /// </summary>
    private static float[] Magnitudes(bool ta, bool tb, int batch, int m, int n, int k, float alpha, float[] a, int lda, long strideA,
        float[] b, int ldb, long strideB, float beta, float[] c0, int ldc, long strideC)
    {
        var mag = new float[c0.Length];
        var rowNorm = new double[m];
        var colNorm = new double[n];
        for (int t = 0; t < batch; t++)
        {
            for (int i = 0; i < m; i++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = ta ? a[t * strideA + (long)p * lda + i] : a[t * strideA + (long)i * lda + p];
                    s += x * x;
                }
                rowNorm[i] = Math.Sqrt(s);
            }
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double y = tb ? b[t * strideB + (long)j * ldb + p] : b[t * strideB + (long)p * ldb + j];
                    s += y * y;
                }
                colNorm[j] = Math.Sqrt(s);
            }
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    long ij = t * strideC + (long)i * ldc + j;
                    mag[ij] = (float)(Math.Abs(alpha) * rowNorm[i] * colNorm[j] + (beta == 0f ? 0 : Math.Abs(beta * c0[ij])));
                }
        }
        return mag;
    }

    private static void AssertClose(float[] expected, float[] got, float[] mag, int k, string what)
    {
        double scale = (SigmaFactor * Math.Sqrt(k) + FinalRoundings) * UnitRoundoff;
        for (int i = 0; i < expected.Length; i++)
        {
            if (float.IsNaN(expected[i]) && float.IsNaN(got[i])) continue; // untouched NaN padding
            double err = Math.Abs((double)expected[i] - got[i]);
            Assert.True(err <= scale * mag[i], $"{what}: element {i}: expected {expected[i]}, got {got[i]} (|err| {err:G3} > {scale * mag[i]:G3})");
        }
    }

    private static float[] RandomArray(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
