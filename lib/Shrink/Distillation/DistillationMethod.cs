namespace Shrink.Distillation;

/// <summary>The logit-level objective a <see cref="Distiller"/> trains the student with (feature-level terms are added on top, see <see cref="DistillationHparams"/>).</summary>
public enum DistillationMethod
{
    /// <summary>No distillation: the trainer's cross-entropy (with its label smoothing) — the student's baseline.</summary>
    None,

    /// <summary>
    /// Hinton KD on the student's prediction: (1 − α)·CE(y, z_s) + α·τ²·KL(p ‖ softmax(z_s/τ)), p the teacher's
    /// softmax(z_t/τ), or the weighted mixture Σ w_m·softmax(z_m/τ) of several teachers (<see cref="TeacherMixture"/>).
    /// </summary>
    Hinton,

    /// <summary>DeiT soft distillation through the distillation token: (1 − α)·CE(Z_cls, y) + α·τ²·KL(p ‖ ψ(Z_dist/τ)); p as for <see cref="Hinton"/>.</summary>
    DeiTSoft,

    /// <summary>DeiT hard distillation: (1 − α)·CE(Z_cls, y) + α·CE(Z_dist, argmax p) (α = ½ is DeiT's ½/½).</summary>
    DeiTHard,

    /// <summary>Co-advise: one distillation token and head per teacher, CE(h_cls, y) + Σ_m w_m·τ²·KL(p_m ‖ softmax(h_m/τ)) (Co-advise: w_m = 1).</summary>
    CoAdvise,

    /// <summary>TinyViT: soft-target cross-entropy against the teacher target (mixture), no label term, τ as set (TinyViT: 1).</summary>
    SoftTarget,
}
