using Shrink.Tensors;
using F = Shrink.Tensors.Functional;

namespace Shrink.Distillation;

/// <summary>
/// Attention-map distillation: the KL divergence from the teacher's attention distributions to the student's, row by
/// row. With A_s, A_t (B, H, T, T) the attention probabilities of a chosen layer (each row a distribution over keys),
/// L = (1/R)·Σ_rows KL(A_t[row] ‖ A_s[row]) = (1/R)·Σ A_t·(log A_t − log A_s), R = B·H'·T rows, where H' = 1 after
/// averaging the heads (<see cref="AttentionHeadMatching.Averaged"/>) or H' = H (<see cref="AttentionHeadMatching.Matched"/>).
/// log A_s is taken of max(A_s, 1e−12) so an underflowed probability does not give −∞. Layers are averaged by
/// <see cref="KlLayers"/>. (MiniLM v1's self-attention distribution transfer; the token counts must agree.)
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
        var s = studentAttention; var t = FeatureDistillation.Detached(teacherAttention);
        bool ok = s.Rank == 4 && t.Rank == 4 && s.Shape[0] == t.Shape[0] && s.Shape[2] == t.Shape[2] && s.Shape[3] == t.Shape[3] && s.Shape[2] == s.Shape[3]
                  && (matching == AttentionHeadMatching.Averaged || s.Shape[1] == t.Shape[1]);
        if (!ok)
            throw new ArgumentException($"AttentionDistillation: student attention ({string.Join(", ", s.Shape)}) and teacher attention ({string.Join(", ", t.Shape)}) do not fit: expected (B, H, T, T) with equal B and T" +
                (matching == AttentionHeadMatching.Matched ? " and equal head counts (or use AttentionHeadMatching.Averaged)." : "."));
        if (matching == AttentionHeadMatching.Averaged)
        {
            s = s.Mean(1);                                          // (B, T, T)
            using (Tensor.NoGrad()) t = t.Mean(1);
        }
        int tokens = s.Shape[^1];
        var logS = s.Clamp(MinProbability).Log().Reshape(-1, tokens);   // (R, T)
        return F.KlDiv(logS, t.Contiguous().Reshape(-1, tokens), "batchmean");
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
        return studentAttentions.Count == 1 ? sum! : sum! * (1f / studentAttentions.Count);
    }
}
