namespace Shrink.Distillation;

/// <summary>
/// How the soft (KL) distillation term is normalised. The term is τ²·Σ_b Σ_c p_bc·(log p_bc − log q_bc) divided by
/// a normaliser, with p = softmax(z_t/τ) the teacher's and q = softmax(z_s/τ) the student's softened distributions.
/// </summary>
public enum KdNormalization
{
    /// <summary>
    /// Divide by the batch size B: the KL divergence per sample, PyTorch's <c>reduction='batchmean'</c> — Hinton's and
    /// this project's convention (DESIGN.md), and Co-advise's.
    /// </summary>
    BatchMean,

    /// <summary>
    /// Divide by B·C, the number of logits: DeiT's <c>F.kl_div(…, reduction='sum') * T*T / outputs_kd.numel()</c>
    /// (facebookresearch/deit losses.py, "legacy PyTorch behaviour", deit issue #61). It is the batch-mean term divided
    /// by the number of classes C, so the same α weighs the distillation term C times less.
    /// </summary>
    DeiTSumOverNumel,
}
