using Shrink.Tensors;
using F = Shrink.Tensors.Functional;

namespace Shrink.Distillation;

/// <summary>
/// Logit distillation losses, built from the engine's differentiable ops (softmax, log-softmax, KL, cross-entropy), so
/// the gradient reaches the student's logits through autograd. Teacher quantities are constants (no gradient).
/// <para>
/// <b>α convention (DESIGN.md): α always weights the distillation term.</b>
/// L = (1 − α)·CE(y, z_s) + α·τ²·KL(softmax(z_t/τ) ‖ softmax(z_s/τ)), the KL divided by the batch size
/// (<see cref="KdNormalization.BatchMean"/>, PyTorch <c>batchmean</c>) unless DeiT's B·C normalisation
/// (<see cref="KdNormalization.DeiTSumOverNumel"/>) is named. DeiT and HPM-KD use the same α; torchdistill and MiniViT put
/// α on the hard term — convert with α' = 1 − α before comparing their hyperparameters.
/// </para>
/// <para>
/// "Targets" below are the teacher's softened probabilities p = softmax(z_t/τ) (rows summing to 1), as
/// <see cref="Targets"/> computes them from logits, a <see cref="TeacherLogitCache"/> rebuilds them from stored values,
/// or <see cref="TeacherMixture"/> mixes them from several teachers.
/// </para>
/// </summary>
public static class DistillationLoss
{
    /// <summary>The teacher's softened distribution p = softmax(z_t/τ) of logits (B, C), computed without gradient.</summary>
    /// <exception cref="ArgumentOutOfRangeException">τ is not a positive finite number.</exception>
    public static Tensor Targets(Tensor teacherLogits, double tau)
    {
        ArgumentNullException.ThrowIfNull(teacherLogits);
        CheckTau(tau);
        using var _ = Tensor.NoGrad();
        return (tau == 1.0 ? teacherLogits : teacherLogits * (float)(1.0 / tau)).Softmax(-1);
    }

    /// <summary>
    /// The soft distillation term alone: τ²·Σ_b KL(p_b ‖ softmax(z_s,b/τ)) / n with p = <paramref name="targets"/>
    /// (the teacher's softmax(z_t/τ)), n = B for <see cref="KdNormalization.BatchMean"/> or B·C for
    /// <see cref="KdNormalization.DeiTSumOverNumel"/>. The τ² keeps the gradient's scale independent of τ (Hinton et al.).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ or are not (B, C).</exception>
    public static Tensor SoftKl(Tensor studentLogits, Tensor targets, double tau, KdNormalization normalization = KdNormalization.BatchMean)
    {
        CheckPair("SoftKl", studentLogits, targets);
        CheckTau(tau);
        var logQ = (tau == 1.0 ? studentLogits : studentLogits * (float)(1.0 / tau)).LogSoftmax(-1);   // (B, C)
        float t2 = (float)(tau * tau);
        return normalization switch
        {
            KdNormalization.BatchMean => F.KlDiv(logQ, targets, "batchmean") * t2,
            KdNormalization.DeiTSumOverNumel => F.KlDiv(logQ, targets, "sum") * (t2 / studentLogits.Numel),
            _ => throw new ArgumentOutOfRangeException(nameof(normalization), $"SoftKl: unknown normalisation {normalization}."),
        };
    }

    /// <summary>
    /// Hinton knowledge distillation from teacher logits:
    /// L = (1 − α)·CE(y, z_s) + α·τ²·KL(softmax(z_t/τ) ‖ softmax(z_s/τ)) (α weights the distillation term; KL per
    /// <paramref name="normalization"/>, batch mean by default). CE is the mean cross-entropy with optional label smoothing.
    /// </summary>
    public static Tensor Hinton(Tensor studentLogits, Tensor teacherLogits, int[] labels, double alpha, double tau,
        KdNormalization normalization = KdNormalization.BatchMean, float labelSmoothing = 0f) =>
        HintonFromTargets(studentLogits, Targets(teacherLogits, tau), labels, alpha, tau, normalization, labelSmoothing);

    /// <summary>
    /// Hinton knowledge distillation from teacher targets p = softmax(z_t/τ) (e.g. from a cache or a mixture of teachers):
    /// L = (1 − α)·CE(y, z_s) + α·τ²·KL(p ‖ softmax(z_s/τ)). α = 0 is plain cross-entropy, α = 1 pure distillation.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">α outside [0, 1] or τ not positive.</exception>
    public static Tensor HintonFromTargets(Tensor studentLogits, Tensor targets, int[] labels, double alpha, double tau,
        KdNormalization normalization = KdNormalization.BatchMean, float labelSmoothing = 0f)
    {
        CheckAlpha(alpha);
        var kd = SoftKl(studentLogits, targets, tau, normalization);
        if (alpha == 1.0) return kd;
        return F.CrossEntropy(studentLogits, labels, labelSmoothing) * (float)(1 - alpha) + kd * (float)alpha;
    }

    /// <summary>
    /// DeiT soft distillation through the distillation token (deit losses.py, <c>distillation_type='soft'</c>):
    /// L = (1 − α)·CE(Z_cls, y) + α·τ²·KL(ψ(Z_t/τ) ‖ ψ(Z_dist/τ)), ψ = softmax. The class head learns from the labels, the
    /// distillation head from the teacher. α weights the distillation term (DeiT's own convention); DeiT divides the KL by
    /// B·C — pass <see cref="KdNormalization.DeiTSumOverNumel"/> to reproduce it exactly (the default here is the batch mean).
    /// </summary>
    public static Tensor DeiTSoft(Tensor clsLogits, Tensor distLogits, Tensor teacherLogits, int[] labels, double alpha, double tau,
        KdNormalization normalization = KdNormalization.BatchMean) =>
        DeiTSoftFromTargets(clsLogits, distLogits, Targets(teacherLogits, tau), labels, alpha, tau, normalization);

    /// <summary>As <see cref="DeiTSoft"/> with the teacher's targets p = ψ(Z_t/τ) given: L = (1 − α)·CE(Z_cls, y) + α·τ²·KL(p ‖ ψ(Z_dist/τ)).</summary>
    public static Tensor DeiTSoftFromTargets(Tensor clsLogits, Tensor distLogits, Tensor targets, int[] labels, double alpha, double tau,
        KdNormalization normalization = KdNormalization.BatchMean)
    {
        CheckAlpha(alpha);
        CheckPair("DeiTSoft", clsLogits, distLogits);
        return F.CrossEntropy(clsLogits, labels) * (float)(1 - alpha) + SoftKl(distLogits, targets, tau, normalization) * (float)alpha;
    }

    /// <summary>
    /// DeiT hard distillation (deit losses.py, <c>distillation_type='hard'</c>):
    /// L = (1 − α)·CE(Z_cls, y) + α·CE(Z_dist, argmax Z_t); with DeiT's default α = ½ this is
    /// ½·CE(Z_cls, y) + ½·CE(Z_dist, y_t). α weights the distillation term; τ plays no role.
    /// <paramref name="teacherScores"/> may be logits or probabilities (only the arg-max of each row is used; ties go to
    /// the first maximum, as <c>torch.argmax</c>).
    /// </summary>
    public static Tensor DeiTHard(Tensor clsLogits, Tensor distLogits, Tensor teacherScores, int[] labels, double alpha = 0.5)
    {
        CheckAlpha(alpha);
        CheckPair("DeiTHard", clsLogits, distLogits);
        CheckPair("DeiTHard", distLogits, teacherScores);
        int[] teacherLabels;
        using (Tensor.NoGrad()) teacherLabels = teacherScores.ArgMax(-1);
        return F.CrossEntropy(clsLogits, labels) * (float)(1 - alpha) + F.CrossEntropy(distLogits, teacherLabels) * (float)alpha;
    }

    /// <summary>
    /// Co-advise multi-teacher distillation (Ren et al. 2022, co-advise main.py): one distillation head per teacher,
    /// L = CE(h_cls, y) + Σ_m w_m·τ²·KL(p_m ‖ softmax(h_m/τ)) with p_m = softmax(z_m/τ) teacher m's targets and h_m the
    /// student's m-th distillation head. Co-advise uses w_m = 1 (unweighted sum, τ = 1, batch-mean KL): that is the default
    /// when <paramref name="weights"/> is null. There is no α here (the CE term has weight 1), as in the reference code.
    /// </summary>
    /// <exception cref="ArgumentException">Head and teacher counts differ, or a weight is negative or not finite.</exception>
    public static Tensor CoAdvise(Tensor clsLogits, IReadOnlyList<Tensor> distHeads, IReadOnlyList<Tensor> teacherTargets, int[] labels, double tau,
        IReadOnlyList<double>? weights = null, KdNormalization normalization = KdNormalization.BatchMean)
    {
        ArgumentNullException.ThrowIfNull(distHeads);
        ArgumentNullException.ThrowIfNull(teacherTargets);
        if (distHeads.Count != teacherTargets.Count || distHeads.Count == 0)
            throw new ArgumentException($"CoAdvise: the student has {distHeads.Count} distillation heads but {teacherTargets.Count} teachers were given (one head per teacher, at least one).");
        if (weights is not null && weights.Count != distHeads.Count)
            throw new ArgumentException($"CoAdvise: {weights.Count} weights for {distHeads.Count} teachers.");
        var loss = F.CrossEntropy(clsLogits, labels);
        for (int m = 0; m < distHeads.Count; m++)
        {
            double w = weights?[m] ?? 1.0;
            if (!(w >= 0 && double.IsFinite(w))) throw new ArgumentException($"CoAdvise: weight {m} must be finite and ≥ 0, got {w}.");
            if (w == 0) continue;
            var kd = SoftKl(distHeads[m], teacherTargets[m], tau, normalization);
            loss = loss + (w == 1 ? kd : kd * (float)w);
        }
        return loss;
    }

    /// <summary>
    /// TinyViT's loss against stored teacher targets: the soft-target cross-entropy L = −(1/B)·Σ_b Σ_c t_bc·log softmax(z_s)_bc
    /// (timm <c>SoftTargetCrossEntropy</c>), no ground-truth term and τ = 1. It differs from the KL term only by the
    /// teacher's entropy, a constant, so the gradients are the same.
    /// </summary>
    public static Tensor SoftTargetCrossEntropy(Tensor studentLogits, Tensor targets)
    {
        CheckPair("SoftTargetCrossEntropy", studentLogits, targets);
        return F.CrossEntropy(studentLogits, targets);
    }

    internal static void CheckTau(double tau)
    {
        if (!(tau > 0 && double.IsFinite(tau))) throw new ArgumentOutOfRangeException(nameof(tau), $"Distillation: temperature τ must be a positive finite number, got {tau}.");
    }

    internal static void CheckAlpha(double alpha)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), $"Distillation: α (the weight of the distillation term) must be in [0, 1], got {alpha}.");
    }

    private static void CheckPair(string op, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Rank != 2 || b.Rank != 2 || a.Shape[0] != b.Shape[0] || a.Shape[1] != b.Shape[1])
            throw new ArgumentException($"{op}: expected two (B, C) tensors of the same shape, got ({string.Join(", ", a.Shape)}) and ({string.Join(", ", b.Shape)}).");
    }
}
