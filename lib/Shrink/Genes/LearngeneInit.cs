namespace Shrink.Genes;

/// <summary>
/// How a learngene A_n with n ≥ 2 starts (the paper does not say; papers/learngene.md §2 "unknowns", §7.8). A₁ always
/// starts like a freshly initialised timm ViT block: LayerNorm γ = 1 and β = 0, Linear weights trunc-normal(std 0.02) as timm
/// initialises them, biases 0. The rule below applies to every later learngene — one added by a later phase of incremental
/// training, or one trained jointly from the start (simultaneous training) — so both regimes start from the same
/// A₁ … A_N. Each A_n draws from its own generator (seeded by the model seed and n), so its start does not depend on
/// how many learngenes exist or on the order they were added in.
/// </summary>
public enum LearngeneInit
{
    /// <summary>
    /// TLEG's init of its second learngene (<c>weight_ilayer</c>), the default: Linear weights trunc-normal(std 0.02),
    /// biases 0, LayerNorm γ = 0 and β = 0. Adding A_n then perturbs the weights slightly (no LayerNorm change), so the
    /// model right after adding it stays close to the previous phase's function.
    /// </summary>
    SmallRandom,

    /// <summary>
    /// Every tensor 0: the model right after adding A_n computes exactly the previous phase's function. A_n still gets a
    /// gradient (Σ_l a(l, n)·∂L/∂W_l ≠ 0), so it trains.
    /// </summary>
    Zeros,

    /// <summary>Like A₁: a fresh ViT block (γ = 1, β = 0, Linear weights trunc-normal(0.02), biases 0).</summary>
    BlockLike,
}
