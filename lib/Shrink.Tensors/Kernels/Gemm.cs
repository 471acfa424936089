namespace Shrink.Tensors.Kernels;

/// <summary>PLACEHOLDER until the packed kernel lands: naive GEMM with the final signatures.</summary>
public static class Gemm
{
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
        => SgemmNaive(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    public static void SgemmBatched(bool transA, bool transB, int batch, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB, float beta, Span<float> c, int ldc, long strideC)
    {
        for (int i = 0; i < batch; i++)
            SgemmNaive(transA, transB, m, n, k, alpha, a.Slice((int)(i * strideA)), lda, b.Slice((int)(i * strideB)), ldb, beta, c.Slice((int)(i * strideC)), ldc);
    }

    public static void SgemmNaive(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double)(transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = beta == 0 ? (float)(alpha * s) : (float)(alpha * s + beta * c[i * ldc + j]);
            }
    }
}
