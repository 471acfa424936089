namespace Shrink.Genes;

/// <summary>
/// Which basis function the n-th learngene A_n (n = 1 … k) is weighted by.
/// </summary>
public enum LearngeneIndexing
{
    /// <summary>
    /// The paper's Eqs. 3–5 (default): a(l, n) = φ_n((l − 1)/L), so A₁ gets φ₁ — for Chebyshev T₁(x) = x, which is 0 at the
    /// first layer (a one-learngene model's first block is all zeros and acts as the identity through the residual).
    /// Worked example (Eq. 4): a(2, 3) = T₃(1/12) = 2·(1/12)·T₂(1/12) − T₁(1/12) for L = 12.
    /// </summary>
    Paper,

    /// <summary>
    /// TLEG-style: a(l, n) = φ_{n−1}((l − 1)/L), so A₁ has the constant coefficient φ₀ = 1 and A₂ the coefficient x —
    /// TLEG's θ_l = θ_A + x·θ_B is this indexing with two learngenes. The paper's code is not public; this is the
    /// ablation of that ambiguity (papers/learngene.md §1).
    /// </summary>
    Tleg,
}
