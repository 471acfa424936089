using Shrink.Tensors;
using F = Shrink.Tensors.Functional;

namespace Shrink.Distillation;

/// <summary>
/// Q-K-V relation distillation in the style of MiniLMv2 (Wang et al. 2021) as MiniViT computes it
/// (Mini-Swin main.py <c>cal_relation_loss</c>). For a layer, split the packed qkv projection (B, T, 3D) into
/// M_Q, M_K, M_V (B, T, D), and each into A_r relation heads of width d_r = D/A_r: M_i → (B, A_r, T, d_r). For every
/// pair i, j ∈ {Q, K, V} the relation logits are R_ij = M_i·M_jᵀ/√d_r (B, A_r, T, T), and the loss is the soft
/// cross-entropy of the student's relations against the teacher's distributions:
/// L_ij = −(1/(B·A_r·T))·Σ softmax(R_ij^t)·log softmax(R_ij^s), and L = (1/9)·Σ_ij L_ij, averaged over layer pairs.
/// Student and teacher may differ in width (d_r differs) but not in token count; A_r must divide both widths.
/// </summary>
public static class RelationDistillation
{
    /// <summary>L = (1/9)·Σ_{i,j∈{Q,K,V}} L_ij for one layer pair (see the class remarks).</summary>
    /// <exception cref="ArgumentException">Shapes do not fit, or A_r does not divide a width.</exception>
    public static Tensor QkvRelation(Tensor studentQkv, Tensor teacherQkv, int relationHeads)
    {
        ArgumentNullException.ThrowIfNull(studentQkv);
        ArgumentNullException.ThrowIfNull(teacherQkv);
        var sq = studentQkv; var tq = FeatureDistillation.Detached(teacherQkv);
        if (sq.Rank != 3 || tq.Rank != 3 || sq.Shape[0] != tq.Shape[0] || sq.Shape[1] != tq.Shape[1] || sq.Shape[2] % 3 != 0 || tq.Shape[2] % 3 != 0)
            throw new ArgumentException($"RelationDistillation: packed qkv ({string.Join(", ", sq.Shape)}) and ({string.Join(", ", tq.Shape)}) do not fit: expected (B, T, 3D) with equal B and T.");
        int ds = sq.Shape[2] / 3, dt = tq.Shape[2] / 3;
        if (relationHeads < 1 || ds % relationHeads != 0 || dt % relationHeads != 0)
            throw new ArgumentException($"RelationDistillation: {relationHeads} relation heads must divide the student width {ds} and the teacher width {dt}.");
        int tokens = sq.Shape[1];
        var studentParts = Split(sq, relationHeads);
        Tensor[] teacherTargets = new Tensor[9];
        using (Tensor.NoGrad())
        {
            var tp = Split(tq, relationHeads);
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    teacherTargets[3 * i + j] = Relation(tp[i], tp[j], dt / relationHeads).Softmax(-1).Reshape(-1, tokens);
        }
        Tensor? sum = null;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                var logits = Relation(studentParts[i], studentParts[j], ds / relationHeads).Reshape(-1, tokens);   // (B·A_r·T, T)
                var l = F.CrossEntropy(logits, teacherTargets[3 * i + j]);
                sum = sum is null ? l : sum + l;
            }
        return sum! * (1f / 9f);
    }

    /// <summary>The average of <see cref="QkvRelation"/> over layer pairs.</summary>
    public static Tensor QkvRelationLayers(IReadOnlyList<Tensor> studentQkv, IReadOnlyList<Tensor> teacherQkv, int relationHeads)
    {
        ArgumentNullException.ThrowIfNull(studentQkv);
        ArgumentNullException.ThrowIfNull(teacherQkv);
        if (studentQkv.Count != teacherQkv.Count || studentQkv.Count == 0)
            throw new ArgumentException($"RelationDistillation: {studentQkv.Count} student layers but {teacherQkv.Count} teacher layers (need equal, non-zero counts).");
        Tensor? sum = null;
        for (int l = 0; l < studentQkv.Count; l++)
        {
            var x = QkvRelation(studentQkv[l], teacherQkv[l], relationHeads);
            sum = sum is null ? x : sum + x;
        }
        return studentQkv.Count == 1 ? sum! : sum! * (1f / studentQkv.Count);
    }

    /// <summary>(B, T, 3D) → [M_Q, M_K, M_V], each (B, A_r, T, D/A_r).</summary>
    private static Tensor[] Split(Tensor qkv, int heads)
    {
        int b = qkv.Shape[0], t = qkv.Shape[1], d = qkv.Shape[2] / 3;
        var parts = new Tensor[3];
        for (int i = 0; i < 3; i++)
            parts[i] = qkv.Narrow(2, i * d, d).Reshape(b, t, heads, d / heads).Transpose(1, 2);
        return parts;
    }

    /// <summary>M_i·M_jᵀ/√d_r: (B, A_r, T, T).</summary>
    private static Tensor Relation(Tensor mi, Tensor mj, int dr) => mi.MatMul(mj.MT) * (1f / MathF.Sqrt(dr));
}
