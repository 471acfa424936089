using Shrink.Experiments;
using Shrink.Models;
using Shrink.Training;

namespace Shrink.Genes;

/// <summary>
/// Everything that decides what a <see cref="LearngeneDecomposition"/> computes, as an immutable record with defaults
/// (cached by name with <see cref="RunFolder.For"/>): the architecture, the decomposition (basis, indexing, number of
/// learngenes N, phase schedule, initialisation of new learngenes), the objective (CE + KL to a teacher) and the training
/// recipe of one phase.
/// <para>
/// <b>Incremental training</b> (the paper's "ICT", default): phases with k₁ &lt; k₂ &lt; … &lt; k_P = N learngenes
/// (<see cref="Phases"/>, default 1, 2, 4, … doubling, then N). Phase i adds A_{k_{i−1}+1} … A_{k_i}, trains only them
/// (A₁ … A_{k_{i−1}} frozen) for <see cref="Training"/>'s steps with its own optimiser and warm-up + cosine schedule (the
/// paper: 100 epochs per phase including 5 warm-up epochs), and ends with a usable k_i-learngene model.
/// <b>Simultaneous training</b> (<see cref="Simultaneous"/>, the paper's "SCT" control): one phase with all N learngenes
/// trainable from the start, for P × <see cref="Training"/>.Steps — the same total as the incremental schedule.
/// </para>
/// <para>
/// <b>Objective</b> (the paper's Eq. 8 "following MiniViT", L = CE + KL(z_t ‖ z_s), unweighted): here the DESIGN.md
/// convention L = (1 − α)·CE + α·τ²·KL(softmax(z_t/τ) ‖ softmax(z_s/τ)) with <b>α weighting the distillation term</b>;
/// α = ½, τ = 1 (defaults) is the paper's sum scaled by ½. Without a teacher (<see cref="Teacher"/> empty) the loss is CE alone.
/// </para>
/// </summary>
public sealed record LearngeneHparams : Hparams
{
    /// <summary>Input side length. Default 28.</summary>
    public int ImageSize { get; init; } = 28;
    /// <summary>Patch side length. Default 7 (16 patches of a 28×28 image).</summary>
    public int PatchSize { get; init; } = 7;
    /// <summary>Input channels. Default 1.</summary>
    public int InChannels { get; init; } = 1;
    /// <summary>Classes of the upstream task. Default 10.</summary>
    public int NumClasses { get; init; } = 10;
    /// <summary>Token width D (fixed: only the depth varies across recomposed models). Default 64.</summary>
    public int EmbedDim { get; init; } = 64;
    /// <summary>Depth L of the decomposed model. Default 6.</summary>
    public int Depth { get; init; } = 6;
    /// <summary>Attention heads. Default 4.</summary>
    public int NumHeads { get; init; } = 4;
    /// <summary>MLP hidden width as a multiple of D. Default 2.</summary>
    public double MlpRatio { get; init; } = 2;
    /// <summary>Classify from a class token (true, default) or from the mean of the patch tokens.</summary>
    public bool ClassToken { get; init; } = true;

    /// <summary>The number of learngenes N at the end; 0 (default) = <see cref="Depth"/> (the paper: N = 12 for 12 layers).</summary>
    public int NumLearngenes { get; init; }
    /// <summary>Learngene counts after each phase, strictly increasing, ending at N; null (default) = 1, 2, 4, … (doubling below N), N.</summary>
    public int[]? Phases { get; init; }
    /// <summary>Train all N learngenes jointly in one phase (the SCT control) instead of incrementally. Default false.</summary>
    public bool Simultaneous { get; init; }
    /// <summary>The coefficient basis. Default Chebyshev (the paper's).</summary>
    public LearngeneBasis Basis { get; init; } = LearngeneBasis.Chebyshev;
    /// <summary>φ_n (paper, default) or φ_{n−1} (TLEG) for A_n.</summary>
    public LearngeneIndexing Indexing { get; init; } = LearngeneIndexing.Paper;
    /// <summary>How A_n, n ≥ 2, starts (A₁ starts like a fresh block). Default TLEG's small random weights with zero LayerNorms.</summary>
    public LearngeneInit Init { get; init; } = LearngeneInit.SmallRandom;
    /// <summary>
    /// Keep the patch embedding, tokens, final norm and head trainable after the first phase (default true). The paper
    /// does not say; false freezes them with the old learngenes, so a later phase trains only its new learngenes.
    /// </summary>
    public bool TrainEmbeddingsInLaterPhases { get; init; } = true;
    /// <summary>Seed of the model's initialisation (embeddings and each learngene). Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>The recipe of one phase (steps, batch, AdamW, lr, warm-up, cosine schedule, data seed).</summary>
    public TrainingHparams Training { get; init; } = new();
    /// <summary>The teacher's name (as in the <see cref="Distillation.DistillationTeacher"/> passed to Fit); empty (default) = no teacher, CE alone.</summary>
    public string Teacher { get; init; } = "";
    /// <summary>α, the weight of the distillation term: (1 − α)·CE + α·τ²·KL. Default 0.5 (the paper's unweighted CE + KL, halved).</summary>
    public double Alpha { get; init; } = 0.5;
    /// <summary>τ, the temperature of the KL term. Default 1.</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Take the teacher's logits from a <see cref="Distillation.TeacherLogitCache"/> filled once and shared by all phases. Default false.</summary>
    public bool UseCache { get; init; }

    /// <summary>N, resolved (<see cref="NumLearngenes"/> or <see cref="Depth"/>).</summary>
    public int LearngeneCount => NumLearngenes > 0 ? NumLearngenes : Depth;

    /// <summary>The incremental schedule k₁ &lt; … &lt; k_P = N, resolved (<see cref="Phases"/> or 1, 2, 4, …, N).</summary>
    public int[] IncrementalPhases()
    {
        if (Phases is not null) return (int[])Phases.Clone();
        int n = LearngeneCount;
        var list = new List<int>();
        for (int k = 1; k < n; k *= 2) list.Add(k);
        list.Add(n);
        return [.. list];
    }

    /// <summary>The phases actually run: <see cref="IncrementalPhases"/>, or [N] when <see cref="Simultaneous"/>.</summary>
    public int[] PhaseCounts() => Simultaneous ? [LearngeneCount] : IncrementalPhases();

    /// <summary>The steps of each phase run: <see cref="Training"/>.Steps, or P times it for the simultaneous control (P = incremental phases).</summary>
    public Step PhaseSteps()
    {
        if (!Simultaneous) return Training.Steps;
        int p = IncrementalPhases().Length;
        return Step.Create(checked(Training.Steps.Epochs * p), checked(Training.Steps.Iterations * p));
    }

    /// <summary>The model configuration these hyperparameters describe (no dropout, no distillation token).</summary>
    public VitConfig Config() => new()
    {
        ImageSize = ImageSize, PatchSize = PatchSize, InChannels = InChannels, NumClasses = NumClasses, EmbedDim = EmbedDim,
        Depth = Depth, NumHeads = NumHeads, MlpRatio = MlpRatio, ClassToken = ClassToken,
    };

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the property.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message) { if (!ok) throw new ArgumentException("LearngeneHparams: " + message); }
        Training.Validate();
        Check(Depth >= 1, $"Depth must be ≥ 1, got {Depth}.");
        Check(NumLearngenes >= 0, $"NumLearngenes must be ≥ 0 (0 = Depth), got {NumLearngenes}.");
        Check(Alpha >= 0 && Alpha <= 1, $"Alpha (the weight of the distillation term) must be in [0, 1], got {Alpha}.");
        Check(Temperature > 0 && double.IsFinite(Temperature), $"Temperature must be positive, got {Temperature}.");
        Check(Enum.IsDefined(Basis) && Enum.IsDefined(Indexing) && Enum.IsDefined(Init), "Basis, Indexing or Init is not a defined value.");
        var phases = IncrementalPhases();
        Check(phases.Length > 0, "Phases must not be empty.");
        Check(phases[0] >= 1 && phases.Zip(phases.Skip(1)).All(p => p.First < p.Second),
            $"Phases must be strictly increasing learngene counts ≥ 1, got [{string.Join(", ", phases)}].");
        Check(phases[^1] == LearngeneCount, $"Phases must end at N = {LearngeneCount} learngenes, got [{string.Join(", ", phases)}].");
        LearngeneVit.Check(Config());
    }
}
