namespace Shrink.Genes;

/// <summary>How a recomposed model is fine-tuned (the paper's §3.3 and Table 2).</summary>
public enum RecompositionMode
{
    /// <summary>
    /// "w/o const": Eq. 9 only initialises the model; each layer's W_l becomes an independent parameter of an ordinary
    /// <see cref="Models.VisionTransformer"/> (timm names), so stored and trainable parameters grow with the depth L'.
    /// </summary>
    Unrolled,

    /// <summary>
    /// "w/ const": the model keeps W_l = Σ_{n ≤ k} a(l, n)·A_n (a <see cref="LearngeneVit"/>) and trains the k learngenes
    /// (and the embeddings, norm and head), never the W_l: stored and trainable parameters grow with k, the FLOPs are
    /// those of an L'-layer model.
    /// </summary>
    Constrained,
}
