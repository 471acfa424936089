using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Shrink.Distillation;

/// <summary>
/// Attention-map distillation: the KL divergence from the teacher's attention distributions to the student's, row by
/// row. With A_s, A_t (B, H, T, T) the attention probabilities of a chosen layer (each row a distribution over keys),
/// L = (1/R)·Σ_rows KL(A_t[row] ‖ A_s[row]) = (1/R)·Σ A_t·(log A_t − log A_s), R = B·H'·T rows, where H' = 1 after
/// averaging the heads (<see cref="AttentionHeadMatching.Averaged"/>) or H' = H (<see cref="AttentionHeadMatching.Matched"/>)
/// — <c>F.kl_div(log A_s, A_t, reduction='batchmean')</c> over the (R, T) rows.
/// log A_s is taken of max(A_s, 1e−12) so an underflowed probability does not give −∞. Layers are averaged by
/// <see cref="KlLayers"/>. (MiniLM v1's self-attention distribution transfer; the token counts must agree.) There is no
/// α here: the <see cref="Distiller"/> adds w·L (<see cref="DistillationHparams.AttentionWeight"/>).
/// </summary>
public static class AttentionDistillation
{
    /// <summary>Smallest probability whose log is taken.</summary>
    public const float MinProbability = 1e-12f;

    /// <summary>The row-mean KL(A_t ‖ A_s) of one layer (see the class remarks).</summary>
    /// <exception cref="ArgumentException">Shapes do not fit (rank, batch, tokens, or head counts for <see cref="AttentionHeadMatching.Matched"/>).</exception>
    public static Tensor Kl(Tensor studentAttention, Tensor teacherAttention, AttentionHeadMatching matching = AttentionHeadMatching.Averaged)
    {
        ArgumentNullException.ThrowIfNull(studentAttention);
        ArgumentNullException.ThrowIfNull(teacherAttention);
        var s = studentAttention; var t = teacherAttention.detach();
        bool ok = s.dim() == 4 && t.dim() == 4 && s.shape[0] == t.shape[0] && s.shape[2] == t.shape[2] && s.shape[3] == t.shape[3] && s.shape[2] == s.shape[3]
                  && (matching == AttentionHeadMatching.Averaged || s.shape[1] == t.shape[1]);
        if (!ok)
            throw new ArgumentException($"AttentionDistillation: student attention ({DistillationLoss.Shape(s)}) and teacher attention ({DistillationLoss.Shape(t)}) do not fit: expected (B, H, T, T) with equal B and T" +
                (matching == AttentionHeadMatching.Matched ? " and equal head counts (or use AttentionHeadMatching.Averaged)." : "."));
        if (!DistillationLoss.SameDevice(s, t))
            throw new ArgumentException($"AttentionDistillation: student attention on {s.device}, teacher attention on {t.device}.");
        if (matching == AttentionHeadMatching.Averaged)
        {
            s = s.mean([1]);                                                    // (B, T, T)
            t = t.mean([1]);                                                    // (B, T, T)
        }
        long tokens = s.shape[^1];
        var logS = s.clamp_min(MinProbability).log().reshape(-1, tokens);       // (R, T)
        var rows = t.contiguous().reshape(-1, tokens);                          // (R, T)
        return F.kl_div(logS, rows, log_target: false, reduction: nn.Reduction.Sum) * (1.0 / rows.shape[0]);   // batchmean
    }

    /// <summary>The average of <see cref="Kl"/> over layer pairs.</summary>
    public static Tensor KlLayers(IReadOnlyList<Tensor> studentAttentions, IReadOnlyList<Tensor> teacherAttentions, AttentionHeadMatching matching = AttentionHeadMatching.Averaged)
    {
        ArgumentNullException.ThrowIfNull(studentAttentions);
        ArgumentNullException.ThrowIfNull(teacherAttentions);
        if (studentAttentions.Count != teacherAttentions.Count || studentAttentions.Count == 0)
            throw new ArgumentException($"AttentionDistillation: {studentAttentions.Count} student layers but {teacherAttentions.Count} teacher layers (need equal, non-zero counts).");
        Tensor? sum = null;
        for (int i = 0; i < studentAttentions.Count; i++)
        {
            var l = Kl(studentAttentions[i], teacherAttentions[i], matching);
            sum = sum is null ? l : sum + l;
        }
        return studentAttentions.Count == 1 ? sum! : sum! * (1.0 / studentAttentions.Count);
    }
}
