using Shrink.Experiments;
using Shrink.Training;

namespace Shrink.Distillation;

/// <summary>
/// Everything that decides what a <see cref="Distiller"/> computes, as an immutable record with defaults, so a run is
/// cached by name (<see cref="RunFolder.For"/>): the training recipe, the objective and its α/τ, the teachers' names and
/// weights, whether teacher outputs come from a <see cref="TeacherLogitCache"/>, and the weights of the feature-level
/// terms.
/// <para>
/// Total loss: L = L_logit(<see cref="Method"/>) + <see cref="HintWeight"/>·L_hint + <see cref="AttentionWeight"/>·L_attn
/// + <see cref="RelationWeight"/>·L_qkv + <see cref="ManifoldWeight"/>·(w_patch·L_patch + w_sample·L_sample + w_rand·L_rand).
/// <b>α always weights the distillation term</b> (DESIGN.md): Hinton L_logit = (1 − α)·CE + α·τ²·KL with the KL
/// reduced per <see cref="Normalization"/> (batch mean by default; DeiT's sum/numel on request).
/// Feature-level terms read the first teacher, which must then be a <see cref="Models.VisionTransformer"/> like the student.
/// </para>
/// </summary>
public sealed record DistillationHparams : Hparams
{
    /// <summary>How the student is trained (steps, batch, optimiser, augmentation, seed).</summary>
    public TrainingHparams Training { get; init; } = new();

    /// <summary>A name for the student's architecture and initialisation (e.g. <c>"deit_nano_distilled_patch7_28 seed 0"</c>); it only names the run. Default empty.</summary>
    public string Student { get; init; } = "";

    /// <summary>The logit objective. Default <see cref="DistillationMethod.Hinton"/>.</summary>
    public DistillationMethod Method { get; init; } = DistillationMethod.Hinton;

    /// <summary>The weight α of the distillation term (Hinton, DeiT soft/hard): (1 − α)·CE + α·KD. Default 0.5.</summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>The temperature τ of the softened distributions. Default 1 (DeiT, Co-advise, TinyViT).</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>How the KL term is normalised: per sample (batch mean, default) or DeiT's B·C.</summary>
    public KdNormalization Normalization { get; init; } = KdNormalization.BatchMean;

    /// <summary>The teachers' names, in the order the teachers are given to <see cref="Distiller.Fit"/> (their run names, say); they identify the run and the caches. Default none.</summary>
    public string[] Teachers { get; init; } = [];

    /// <summary>Per-teacher weights w_m: of the target mixture (normalised to sum 1) for Hinton/DeiT/SoftTarget, of the KL terms (as given) for Co-advise. Null (default) = uniform mixture / Co-advise's unweighted sum.</summary>
    public double[]? TeacherWeights { get; init; }

    /// <summary>Take the teachers' outputs from <see cref="TeacherLogitCache"/> files, filled once, instead of running the teachers during training. Default false.</summary>
    public bool UseCache { get; init; }

    /// <summary>Classes kept per cache record k (0 = all: exact up to fp16). Default 0.</summary>
    public int CacheTopK { get; init; }

    /// <summary>What cache records store. Default TinyViT's fp16 top-k probabilities.</summary>
    public TeacherCacheValues CacheValues { get; init; } = TeacherCacheValues.Float16Probabilities;

    /// <summary>Student block indices the feature-level terms read (negative counts from the end). Default: the last block.</summary>
    public int[] StudentLayers { get; init; } = [-1];

    /// <summary>Teacher block indices paired with <see cref="StudentLayers"/>. Default: the last block.</summary>
    public int[] TeacherLayers { get; init; } = [-1];

    /// <summary>Weight of the FitNets hint term (MSE between regressed student patch tokens and teacher patch tokens). Default 0.</summary>
    public double HintWeight { get; init; }

    /// <summary>Weight of the attention-map KL term. When the student has more prefix tokens than the teacher (a DeiT student, a ViT teacher), its extra distillation tokens are left out and its rows renormalised over the common tokens. Default 0.</summary>
    public double AttentionWeight { get; init; }

    /// <summary>How attention heads are paired. Default averaged.</summary>
    public AttentionHeadMatching AttentionHeads { get; init; } = AttentionHeadMatching.Averaged;

    /// <summary>Weight of the MiniLMv2 Q-K-V relation term (over the tokens both models have, as for <see cref="AttentionWeight"/>). Default 0.</summary>
    public double RelationWeight { get; init; }

    /// <summary>Relation heads A_r of the Q-K-V relation term (must divide both widths). Default 1.</summary>
    public int RelationHeads { get; init; } = 1;

    /// <summary>Weight β of the manifold term. Default 0.</summary>
    public double ManifoldWeight { get; init; }

    /// <summary>w_patch of the manifold term. Default 4 (ManifoldKD README).</summary>
    public double ManifoldPatchWeight { get; init; } = 4;

    /// <summary>w_sample of the manifold term. Default 0.1.</summary>
    public double ManifoldSampleWeight { get; init; } = 0.1;

    /// <summary>w_rand of the manifold term. Default 0.2.</summary>
    public double ManifoldRandomWeight { get; init; } = 0.2;

    /// <summary>K, the patches sampled for L_rand. Default 192.</summary>
    public int ManifoldSamples { get; init; } = 192;

    /// <summary>True when a feature-level term is on (the first teacher then runs live).</summary>
    public bool UsesFeatures => HintWeight > 0 || AttentionWeight > 0 || RelationWeight > 0 || ManifoldWeight > 0;

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the property.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message) { if (!ok) throw new ArgumentException("DistillationHparams: " + message); }
        Training.Validate();
        Check(Alpha >= 0 && Alpha <= 1, $"Alpha (the weight of the distillation term) must be in [0, 1], got {Alpha}.");
        Check(Temperature > 0 && double.IsFinite(Temperature), $"Temperature must be positive, got {Temperature}.");
        Check(Method == DistillationMethod.None || Teachers.Length > 0, $"Method {Method} needs at least one teacher name in Teachers.");
        Check(TeacherWeights is null || TeacherWeights.Length == Teachers.Length, $"TeacherWeights has {TeacherWeights?.Length} values for {Teachers.Length} teachers.");
        Check(TeacherWeights is null || TeacherWeights.All(w => w >= 0 && double.IsFinite(w)), "TeacherWeights must be finite and ≥ 0.");
        Check(CacheTopK >= 0, $"CacheTopK must be ≥ 0 (0 = all classes), got {CacheTopK}.");
        Check(!(UseCache && UsesFeatures), "feature-level terms (hint, attention, relation, manifold) need the live teacher's activations; a cache stores only outputs. Set UseCache = false.");
        Check(StudentLayers.Length == TeacherLayers.Length && StudentLayers.Length > 0, $"StudentLayers ({StudentLayers.Length}) and TeacherLayers ({TeacherLayers.Length}) must pair up, at least one each.");
        foreach (var (w, name) in new[] { (HintWeight, "HintWeight"), (AttentionWeight, "AttentionWeight"), (RelationWeight, "RelationWeight"), (ManifoldWeight, "ManifoldWeight"),
                     (ManifoldPatchWeight, "ManifoldPatchWeight"), (ManifoldSampleWeight, "ManifoldSampleWeight"), (ManifoldRandomWeight, "ManifoldRandomWeight") })
            Check(w >= 0 && double.IsFinite(w), $"{name} must be finite and ≥ 0, got {w}.");
        Check(RelationHeads >= 1, $"RelationHeads must be ≥ 1, got {RelationHeads}.");
        Check(ManifoldSamples >= 1, $"ManifoldSamples must be ≥ 1, got {ManifoldSamples}.");
    }
}
