namespace Shrink.Genes;

/// <summary>
/// The fixed functions φ_m whose values at the layer position x = (l − 1)/L are the coefficients
/// a(l, n) = φ_{m(n)}(x) of <c>W_l = Σ_n a(l, n)·A_n</c> (<see cref="LearngeneCoefficients"/>; the order m(n) is set by
/// <see cref="LearngeneIndexing"/>). The paper's Table 1 compares the four (12 learngenes, ImageNet-1K:
/// Taylor 74.80%, Chebyshev 77.73%, Fourier 77.09%, Legendre 73.13%); it writes out only Chebyshev, so the other three
/// are the standard families named below.
/// </summary>
public enum LearngeneBasis
{
    /// <summary>
    /// Chebyshev polynomials of the first kind (the paper's Eq. 2, the default): T₀(x) = 1, T₁(x) = x,
    /// T_{m+1}(x) = 2x·T_m(x) − T_{m−1}(x).
    /// </summary>
    Chebyshev,

    /// <summary>Monomials (a Taylor series): φ_m(x) = x^m, with x⁰ = 1 (also at x = 0).</summary>
    Taylor,

    /// <summary>
    /// Legendre polynomials (Bonnet's recursion): P₀(x) = 1, P₁(x) = x, (m + 1)·P_{m+1}(x) = (2m + 1)·x·P_m(x) − m·P_{m−1}(x).
    /// </summary>
    Legendre,

    /// <summary>
    /// The real Fourier basis of period 2 (orthogonal on [−1, 1], like Chebyshev and Legendre):
    /// φ₀(x) = 1, φ_{2j−1}(x) = sin(jπx), φ_{2j}(x) = cos(jπx) for j ≥ 1.
    /// </summary>
    Fourier,
}
