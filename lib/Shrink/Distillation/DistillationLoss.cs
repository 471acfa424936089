using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Shrink.Distillation;

/// <summary>
/// Logit distillation losses, built from libtorch's differentiable ops (<c>log_softmax</c>, <c>kl_div</c>,
/// <c>cross_entropy</c>), so the gradient reaches the student's logits through autograd. Teacher quantities are
/// constants (no gradient). Every function is a pure function of its tensors; the result lives on the inputs' device.
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
/// or <see cref="TeacherMixture"/> mixes them from several teachers. The KL term is
/// <c>F.kl_div(log_softmax(z_s/τ), p, reduction='sum', log_target=False)</c> — Σ p·(log p − log q) with 0·log 0 = 0 —
/// divided by B (batchmean) or B·C (DeiT). Labels are int64 class indices (B) on the logits' device
/// (<see cref="Data.Batch.Targets"/>).
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
        using var _ = no_grad();
        return (tau == 1.0 ? teacherLogits : teacherLogits * (1.0 / tau)).softmax(-1);   // (B, C)
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
        double n = normalization switch
        {
            KdNormalization.BatchMean => studentLogits.shape[0],
            KdNormalization.DeiTSumOverNumel => studentLogits.numel(),
            _ => throw new ArgumentOutOfRangeException(nameof(normalization), $"SoftKl: unknown normalisation {normalization}."),
        };
        var logQ = (tau == 1.0 ? studentLogits : studentLogits * (1.0 / tau)).log_softmax(-1);              // (B, C)
        var kl = F.kl_div(logQ, targets.detach(), log_target: false, reduction: nn.Reduction.Sum);          // ()
        return kl * (tau * tau / n);
    }

    /// <summary>
    /// Hinton knowledge distillation from teacher logits:
    /// L = (1 − α)·CE(y, z_s) + α·τ²·KL(softmax(z_t/τ) ‖ softmax(z_s/τ)) (α weights the distillation term; KL per
    /// <paramref name="normalization"/>, batch mean by default). CE is the mean cross-entropy with optional label smoothing
    /// (<c>F.cross_entropy(z_s, y, label_smoothing=ε)</c>).
    /// </summary>
    public static Tensor Hinton(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double alpha, double tau,
        KdNormalization normalization = KdNormalization.BatchMean, double labelSmoothing = 0) =>
        HintonFromTargets(studentLogits, Targets(teacherLogits, tau), labels, alpha, tau, normalization, labelSmoothing);

    /// <summary>
    /// Hinton knowledge distillation from teacher targets p = softmax(z_t/τ) (e.g. from a cache or a mixture of teachers):
    /// L = (1 − α)·CE(y, z_s) + α·τ²·KL(p ‖ softmax(z_s/τ)). α = 0 is plain cross-entropy, α = 1 pure distillation.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">α outside [0, 1] or τ not positive.</exception>
    /// <exception cref="ArgumentException">Shapes do not fit (logits and targets (B, C), labels (B)).</exception>
    public static Tensor HintonFromTargets(Tensor studentLogits, Tensor targets, Tensor labels, double alpha, double tau,
        KdNormalization normalization = KdNormalization.BatchMean, double labelSmoothing = 0)
    {
        CheckAlpha(alpha);
        var kd = SoftKl(studentLogits, targets, tau, normalization);
        if (alpha == 1.0) return kd;
        return CrossEntropy("Hinton", studentLogits, labels, labelSmoothing) * (1 - alpha) + kd * alpha;
    }

    /// <summary>
    /// DeiT soft distillation through the distillation token (deit losses.py, <c>distillation_type='soft'</c>):
    /// L = (1 − α)·CE(Z_cls, y) + α·τ²·KL(ψ(Z_t/τ) ‖ ψ(Z_dist/τ)), ψ = softmax. The class head learns from the labels, the
    /// distillation head from the teacher. α weights the distillation term (DeiT's own convention); DeiT divides the KL by
    /// B·C — pass <see cref="KdNormalization.DeiTSumOverNumel"/> to reproduce it exactly (the default here is the batch mean).
    /// </summary>
    public static Tensor DeiTSoft(Tensor clsLogits, Tensor distLogits, Tensor teacherLogits, Tensor labels, double alpha, double tau,
        KdNormalization normalization = KdNormalization.BatchMean) =>
        DeiTSoftFromTargets(clsLogits, distLogits, Targets(teacherLogits, tau), labels, alpha, tau, normalization);

    /// <summary>As <see cref="DeiTSoft"/> with the teacher's targets p = ψ(Z_t/τ) given: L = (1 − α)·CE(Z_cls, y) + α·τ²·KL(p ‖ ψ(Z_dist/τ)).</summary>
    public static Tensor DeiTSoftFromTargets(Tensor clsLogits, Tensor distLogits, Tensor targets, Tensor labels, double alpha, double tau,
        KdNormalization normalization = KdNormalization.BatchMean)
    {
        CheckAlpha(alpha);
        CheckPair("DeiTSoft", clsLogits, distLogits);
        return CrossEntropy("DeiTSoft", clsLogits, labels) * (1 - alpha) + SoftKl(distLogits, targets, tau, normalization) * alpha;
    }

    /// <summary>
    /// DeiT hard distillation (deit losses.py, <c>distillation_type='hard'</c>):
    /// L = (1 − α)·CE(Z_cls, y) + α·CE(Z_dist, argmax Z_t); with DeiT's default α = ½ this is
    /// ½·CE(Z_cls, y) + ½·CE(Z_dist, y_t). α weights the distillation term; τ plays no role.
    /// <paramref name="teacherScores"/> may be logits or probabilities (only the arg-max of each row is used; ties go to
    /// the first maximum, as <c>torch.argmax</c>).
    /// </summary>
    public static Tensor DeiTHard(Tensor clsLogits, Tensor distLogits, Tensor teacherScores, Tensor labels, double alpha = 0.5)
    {
        CheckAlpha(alpha);
        CheckPair("DeiTHard", clsLogits, distLogits);
        CheckPair("DeiTHard", distLogits, teacherScores);
        Tensor teacherLabels;
        using (no_grad()) teacherLabels = teacherScores.argmax(-1);                                        // (B) int64
        return CrossEntropy("DeiTHard", clsLogits, labels) * (1 - alpha) + F.cross_entropy(distLogits, teacherLabels) * alpha;
    }

    /// <summary>
    /// Co-advise multi-teacher distillation (Ren et al. 2022, co-advise main.py): one distillation head per teacher,
    /// L = CE(h_cls, y) + Σ_m w_m·τ²·KL(p_m ‖ softmax(h_m/τ)) with p_m = softmax(z_m/τ) teacher m's targets and h_m the
    /// student's m-th distillation head. Co-advise uses w_m = 1 (unweighted sum, τ = 1, batch-mean KL): that is the default
    /// when <paramref name="weights"/> is null. There is no α here (the CE term has weight 1), as in the reference code.
    /// </summary>
    /// <exception cref="ArgumentException">Head and teacher counts differ, or a weight is negative or not finite.</exception>
    public static Tensor CoAdvise(Tensor clsLogits, IReadOnlyList<Tensor> distHeads, IReadOnlyList<Tensor> teacherTargets, Tensor labels, double tau,
        IReadOnlyList<double>? weights = null, KdNormalization normalization = KdNormalization.BatchMean)
    {
        ArgumentNullException.ThrowIfNull(distHeads);
        ArgumentNullException.ThrowIfNull(teacherTargets);
        if (distHeads.Count != teacherTargets.Count || distHeads.Count == 0)
            throw new ArgumentException($"CoAdvise: the student has {distHeads.Count} distillation heads but {teacherTargets.Count} teachers were given (one head per teacher, at least one).");
        if (weights is not null && weights.Count != distHeads.Count)
            throw new ArgumentException($"CoAdvise: {weights.Count} weights for {distHeads.Count} teachers.");
        for (int m = 0; m < distHeads.Count; m++)
        {
            double w = weights?[m] ?? 1.0;
            if (!(w >= 0 && double.IsFinite(w))) throw new ArgumentException($"CoAdvise: weight {m} must be finite and ≥ 0, got {w}.");
        }
        var loss = CrossEntropy("CoAdvise", clsLogits, labels);
        for (int m = 0; m < distHeads.Count; m++)
        {
            double w = weights?[m] ?? 1.0;
            if (w == 0) continue;
            var kd = SoftKl(distHeads[m], teacherTargets[m], tau, normalization);
            loss = loss + (w == 1 ? kd : kd * w);
        }
        return loss;
    }

    /// <summary>
    /// TinyViT's loss against stored teacher targets: the soft-target cross-entropy L = −(1/B)·Σ_b Σ_c t_bc·log softmax(z_s)_bc
    /// (timm <c>SoftTargetCrossEntropy</c>; <c>F.cross_entropy</c> with probability targets), no ground-truth term and
    /// τ = 1. It differs from the KL term only by the teacher's entropy, a constant, so the gradients are the same.
    /// </summary>
    public static Tensor SoftTargetCrossEntropy(Tensor studentLogits, Tensor targets)
    {
        CheckPair("SoftTargetCrossEntropy", studentLogits, targets);
        return F.cross_entropy(studentLogits, targets.detach());
    }

    /// <summary>Mean cross-entropy against int64 labels (B) with label smoothing ε, after checking the shapes.</summary>
    private static Tensor CrossEntropy(string op, Tensor logits, Tensor labels, double labelSmoothing = 0)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        if (logits.dim() != 2 || labels.dim() != 1 || labels.shape[0] != logits.shape[0])
            throw new ArgumentException($"{op}: expected logits (B, C) and labels (B), got ({Shape(logits)}) and ({Shape(labels)}).");
        if (labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"{op}: labels must be int64 class indices (Batch.Targets), got {labels.dtype}.");
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"{op}: label smoothing must be in [0, 1], got {labelSmoothing}.");
        return F.cross_entropy(logits, labels, label_smoothing: labelSmoothing);
    }

    internal static string Shape(Tensor t) => string.Join(", ", t.shape);

    internal static bool SameDevice(Tensor a, Tensor b) => a.device_type == b.device_type && a.device_index == b.device_index;

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
        if (a.dim() != 2 || b.dim() != 2 || a.shape[0] != b.shape[0] || a.shape[1] != b.shape[1])
            throw new ArgumentException($"{op}: expected two (B, C) tensors of the same shape, got ({Shape(a)}) and ({Shape(b)}).");
        if (!SameDevice(a, b))
            throw new ArgumentException($"{op}: the tensors live on different devices ({a.device} and {b.device}); move the teacher outputs to the student's device.");
    }
}
