using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Shrink.Distillation;

/// <summary>
/// Q-K-V relation distillation in the style of MiniLMv2 (Wang et al. 2021) as MiniViT computes it
/// (Mini-Swin main.py <c>cal_relation_loss</c>). For a layer, split the packed qkv projection (B, T, 3D) into
/// M_Q, M_K, M_V (B, T, D), and each into A_r relation heads of width d_r = D/A_r: M_i → (B, A_r, T, d_r). For every
/// pair i, j ∈ {Q, K, V} the relation logits are R_ij = M_i·M_jᵀ/√d_r (B, A_r, T, T), and the loss is the soft
/// cross-entropy of the student's relations against the teacher's distributions (<c>F.cross_entropy</c> with
/// probability targets): L_ij = −(1/(B·A_r·T))·Σ softmax(R_ij^t)·log softmax(R_ij^s), and L = (1/9)·Σ_ij L_ij,
/// averaged over layer pairs. Student and teacher may differ in width (d_r differs) but not in token count; A_r must
/// divide both widths. There is no α here: the <see cref="Distiller"/> adds w·L (<see cref="DistillationHparams.RelationWeight"/>).
/// </summary>
public static class RelationDistillation
{
    /// <summary>L = (1/9)·Σ_{i,j∈{Q,K,V}} L_ij for one layer pair (see the class remarks).</summary>
    /// <exception cref="ArgumentException">Shapes do not fit, or A_r does not divide a width.</exception>
    public static Tensor QkvRelation(Tensor studentQkv, Tensor teacherQkv, int relationHeads)
    {
        ArgumentNullException.ThrowIfNull(studentQkv);
        ArgumentNullException.ThrowIfNull(teacherQkv);
        var sq = studentQkv; var tq = teacherQkv.detach();
        if (sq.dim() != 3 || tq.dim() != 3 || sq.shape[0] != tq.shape[0] || sq.shape[1] != tq.shape[1] || sq.shape[2] % 3 != 0 || tq.shape[2] % 3 != 0)
            throw new ArgumentException($"RelationDistillation: packed qkv ({DistillationLoss.Shape(sq)}) and ({DistillationLoss.Shape(tq)}) do not fit: expected (B, T, 3D) with equal B and T.");
        long ds = sq.shape[2] / 3, dt = tq.shape[2] / 3;
        if (relationHeads < 1 || ds % relationHeads != 0 || dt % relationHeads != 0)
            throw new ArgumentException($"RelationDistillation: {relationHeads} relation heads must divide the student width {ds} and the teacher width {dt}.");
        if (!DistillationLoss.SameDevice(sq, tq))
            throw new ArgumentException($"RelationDistillation: student qkv on {sq.device}, teacher qkv on {tq.device}.");
        long tokens = sq.shape[1];
        var studentParts = Split(sq, relationHeads);
        var teacherTargets = new Tensor[9];
        using (no_grad())
        {
            var tp = Split(tq, relationHeads);
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    teacherTargets[3 * i + j] = Relation(tp[i], tp[j], dt / relationHeads).softmax(-1).reshape(-1, tokens);   // (B·A_r·T, T)
        }
        Tensor? sum = null;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                var logits = Relation(studentParts[i], studentParts[j], ds / relationHeads).reshape(-1, tokens);   // (B·A_r·T, T)
                var l = F.cross_entropy(logits, teacherTargets[3 * i + j]);                                       // ()
                sum = sum is null ? l : sum + l;
            }
        return sum! * (1.0 / 9.0);
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
        return studentQkv.Count == 1 ? sum! : sum! * (1.0 / studentQkv.Count);
    }

    /// <summary>(B, T, 3D) → [M_Q, M_K, M_V], each (B, A_r, T, D/A_r).</summary>
    private static Tensor[] Split(Tensor qkv, int heads)
    {
        long b = qkv.shape[0], t = qkv.shape[1], d = qkv.shape[2] / 3;
        var parts = new Tensor[3];
        for (int i = 0; i < 3; i++)
            parts[i] = qkv.narrow(2, i * d, d)                  // (B, T, D)
                .reshape(b, t, heads, d / heads)                // (B, T, A_r, d_r)
                .transpose(1, 2);                               // (B, A_r, T, d_r)
        return parts;
    }

    /// <summary>M_i·M_jᵀ/√d_r: (B, A_r, T, T).</summary>
    private static Tensor Relation(Tensor mi, Tensor mj, long dr) => mi.matmul(mj.transpose(-2, -1)) * (1.0 / Math.Sqrt(dr));
}
