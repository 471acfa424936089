using Shrink.Experiments;

namespace Shrink.Training;

/// <summary>
/// How a <see cref="Trainer"/> trains a classifier: duration, batch size, optimiser, learning-rate schedule,
/// regularisation, data pipeline and seed. Immutable, with defaults: change a knob with an object initialiser or
/// <c>with</c>, e.g. <c>new TrainingHparams { Steps = "20ep", Lr = 5e-4 }</c>. Only the values that differ from these
/// defaults enter the run name (<see cref="RunName.For"/>), so the defaults below are pinned by a test and must never
/// change (add a new property with a default instead).
/// <para>
/// One training step t = 0, 1, …, T−1 (T = <see cref="Steps"/> in iterations) takes batch b = t mod I of epoch
/// e = ⌊t / I⌋, where I = ⌊N / <see cref="BatchSize"/>⌋ batches per epoch (the last incomplete batch is dropped, so
/// every step has the same shape).
/// </para>
/// </summary>
public sealed record TrainingHparams : Hparams
{
    /// <summary>Training duration T (e.g. <c>"10ep"</c>, <c>"3000it"</c>, <c>"2ep100it"</c>). Default 10 epochs.</summary>
    public Step Steps { get; init; } = Step.FromEpochs(10);

    /// <summary>Images per training batch B. Default 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>
    /// <c>"adamw"</c> (PyTorch AdamW: decoupled weight decay, β = (<see cref="Beta1"/>, <see cref="Beta2"/>), ε = <see cref="Eps"/>)
    /// or <c>"sgd"</c> (SGD with <see cref="Momentum"/>, optional <see cref="Nesterov"/>, L2 weight decay added to the gradient).
    /// Default <c>"adamw"</c>.
    /// </summary>
    public string Optimizer { get; init; } = "adamw";

    /// <summary>Peak learning rate (reached after <see cref="Warmup"/>). Default 1e-3.</summary>
    public double Lr { get; init; } = 1e-3;

    /// <summary>Weight-decay coefficient λ (decoupled for AdamW, L2 for SGD). Default 0.05 (DeiT).</summary>
    public double WeightDecay { get; init; } = 0.05;

    /// <summary>
    /// When true (default, timm's convention), parameters with at most one dimension (biases, LayerNorm/BatchNorm
    /// weights, class tokens' 1-D parts) get no weight decay; all others get <see cref="WeightDecay"/>.
    /// </summary>
    public bool NoDecayOn1D { get; init; } = true;

    /// <summary>SGD momentum μ. Default 0.9 (ignored by AdamW).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>SGD Nesterov momentum. Default false (ignored by AdamW).</summary>
    public bool Nesterov { get; init; }

    /// <summary>AdamW β₁. Default 0.9.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>AdamW β₂. Default 0.999.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>AdamW ε. Default 1e-8.</summary>
    public double Eps { get; init; } = 1e-8;

    /// <summary>
    /// Learning-rate schedule over the T steps: <c>"cosine"</c> (linear warm-up from 0 to <see cref="Lr"/> over
    /// <see cref="Warmup"/>, then half-cosine to <see cref="MinLr"/> at T; see <see cref="LearningRateSchedule"/>)
    /// or <c>"constant"</c> (linear warm-up, then <see cref="Lr"/>). Default <c>"cosine"</c>.
    /// </summary>
    public string Schedule { get; init; } = "cosine";

    /// <summary>Warm-up length W (e.g. <c>"1ep"</c>, <c>"200it"</c>); must not exceed <see cref="Steps"/>. Default none.</summary>
    public Step Warmup { get; init; } = Step.Zero;

    /// <summary>Learning rate at the end of the cosine schedule. Default 0.</summary>
    public double MinLr { get; init; }

    /// <summary>
    /// Label smoothing ε of the default cross-entropy loss: the target is (1 − ε)·onehot(y) + ε/K (PyTorch's
    /// <c>label_smoothing</c>). Default 0. Evaluation loss is always plain cross-entropy.
    /// </summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Clips the global L2 norm of the gradients to this value before each step (PyTorch <c>clip_grad_norm_</c>); 0 = no clipping. Default 0.</summary>
    public double GradClip { get; init; }

    /// <summary>
    /// Seed of the data order and augmentation (the <see cref="Data.DataLoader"/> seed) and of the per-step reseeding of
    /// torch's default generator (<see cref="Torch.Seed.ManualSeed"/>, which dropout and drop-path draw from). The model's
    /// initialisation is seeded by whoever builds the model. Default 0.
    /// </summary>
    public int Seed { get; init; }

    /// <summary>Random-crop padding in pixels for training batches (0 = no crop). Default 0.</summary>
    public int CropPadding { get; init; }

    /// <summary>Random horizontal flips of training batches. Default false.</summary>
    public bool HorizontalFlip { get; init; }

    /// <summary>
    /// Input normalisation x = (v/255 − mean_c)/std_c applied to training and test images: <c>"auto"</c> (the standard
    /// statistics for Fashion-MNIST and CIFAR-10, recognised by their class names, else those of the training set),
    /// <c>"train"</c> (the training set's own statistics), <c>"fashion-mnist"</c>, <c>"cifar10"</c>, or <c>"none"</c>
    /// (v/255). Default <c>"auto"</c>.
    /// </summary>
    public string Normalization { get; init; } = "auto";

    /// <summary>
    /// Evaluate on the test set (and append a line to <c>log.jsonl</c>) every this many steps, and always after the last
    /// step; <c>"0it"</c> = only at the end. Default every epoch.
    /// </summary>
    public Step EvalEvery { get; init; } = Step.FromEpochs(1);

    /// <summary>
    /// Write <c>checkpoint.safetensors</c> every this many steps (and always at the end); <c>"0it"</c> = only at the end.
    /// Not part of the run name (it cannot change the result). Default every epoch.
    /// </summary>
    [NotInRunName]
    public Step CheckpointEvery { get; init; } = Step.FromEpochs(1);

    /// <summary>
    /// The device the run lives on: the model, its optimiser state and every batch (<c>"cpu"</c>, <c>"cuda"</c>,
    /// <c>"cuda:N"</c>, or <c>"auto"</c> = CUDA when available; parsed by <see cref="Torch.Devices.Parse"/>). Part of the
    /// run name when not the default, because float summation order (and so the bits) differ between devices. Default <c>"cpu"</c>.
    /// </summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Checks that every value is usable; throws <see cref="ArgumentException"/> naming the property otherwise.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message) { if (!ok) throw new ArgumentException("TrainingHparams: " + message); }
        Check(BatchSize >= 1, $"BatchSize must be ≥ 1, got {BatchSize}.");
        Check(Optimizer is "adamw" or "sgd", $"Optimizer must be \"adamw\" or \"sgd\", got \"{Optimizer}\".");
        Check(Schedule is "cosine" or "constant", $"Schedule must be \"cosine\" or \"constant\", got \"{Schedule}\".");
        Check(Normalization is "auto" or "train" or "fashion-mnist" or "cifar10" or "none",
            $"Normalization must be \"auto\", \"train\", \"fashion-mnist\", \"cifar10\" or \"none\", got \"{Normalization}\".");
        Check(Lr >= 0 && double.IsFinite(Lr), $"Lr must be a finite value ≥ 0, got {Lr}.");
        Check(MinLr >= 0 && double.IsFinite(MinLr), $"MinLr must be a finite value ≥ 0, got {MinLr}.");
        Check(WeightDecay >= 0 && double.IsFinite(WeightDecay), $"WeightDecay must be a finite value ≥ 0, got {WeightDecay}.");
        Check(Momentum >= 0 && double.IsFinite(Momentum), $"Momentum must be a finite value ≥ 0, got {Momentum}.");
        Check(LabelSmoothing >= 0 && LabelSmoothing <= 1, $"LabelSmoothing must be in [0, 1], got {LabelSmoothing}.");
        Check(GradClip >= 0 && !double.IsNaN(GradClip), $"GradClip must be ≥ 0 (0 = off), got {GradClip}.");
        Check(CropPadding >= 0, $"CropPadding must be ≥ 0, got {CropPadding}.");
        Check(!Steps.IsZero, "Steps must be positive (e.g. \"10ep\" or \"500it\").");
        Check(Device is not null && (Device.Trim().ToLowerInvariant() is "cpu" or "cuda" or "auto" || Device.Trim().ToLowerInvariant().StartsWith("cuda:", StringComparison.Ordinal)),
            $"Device must be \"cpu\", \"cuda\", \"cuda:N\" or \"auto\", got \"{Device}\".");
    }
}
