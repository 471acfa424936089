using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shrink.Training;

/// <summary>
/// The trainer's own state at a step boundary, stored as JSON in a checkpoint's metadata: where training stands, the
/// data position (step t reads batch t mod I of epoch ⌊t/I⌋) and the RNG state (the default generator is reseeded with
/// <c>Seed.Mix(seed, "STEP", t)</c> before step t, so the seed of the next step is all there is to it), the optimiser's
/// step counts, what it was configured with (to refuse a checkpoint of another configuration), the running sums of the
/// current evaluation window and the history so far. Every double is written round-trip, so a resumed run continues
/// with bit-identical numbers.
/// </summary>
internal sealed class TrainerState
{
    public const string CurrentFormat = "shrink-trainer-state-2";

    public string Format { get; set; } = CurrentFormat;

    /// <summary>RunName.Canonical of the TrainingHparams.</summary>
    public string Hparams { get; set; } = "";

    /// <summary>Steps completed (the next step to run).</summary>
    public int Step { get; set; }

    /// <summary>Data position of the next step: its epoch ⌊Step/I⌋ …</summary>
    public int DataEpoch { get; set; }

    /// <summary>… and its batch within the epoch, Step mod I.</summary>
    public int DataBatch { get; set; }

    /// <summary>The seed torch's default generator gets before the next step (<c>Seed.Mix(seed, "STEP", Step)</c>).</summary>
    public ulong NextStepSeed { get; set; }

    /// <summary>AdamW's step count of every parameter, in the optimiser's order (empty for SGD).</summary>
    public long[] OptimizerSteps { get; set; } = [];

    public int IterationsPerEpoch { get; set; }
    public int TotalSteps { get; set; }
    public int TrainCount { get; set; }

    public double WindowLossSum { get; set; }
    public int WindowSteps { get; set; }
    public long WindowCorrect { get; set; }
    public long WindowSamples { get; set; }
    public double LastLr { get; set; }

    /// <summary>Wall-clock seconds of training up to this state.</summary>
    public double Seconds { get; set; }

    public List<TrainingMetrics> History { get; set; } = [];
}

/// <summary>The <c>result.json</c> of a finished run: its configuration, history and input normalisation.</summary>
internal sealed class RunResultFile
{
    public const string CurrentFormat = "shrink-training-result-1";

    public string Format { get; set; } = CurrentFormat;
    public string Hparams { get; set; } = "";
    public int TotalSteps { get; set; }
    /// <summary>Data position of the next step: its epoch ⌊Step/I⌋ …</summary>
    public int DataEpoch { get; set; }

    /// <summary>… and its batch within the epoch, Step mod I.</summary>
    public int DataBatch { get; set; }

    /// <summary>The seed torch's default generator gets before the next step (<c>Seed.Mix(seed, "STEP", Step)</c>).</summary>
    public ulong NextStepSeed { get; set; }

    /// <summary>AdamW's step count of every parameter, in the optimiser's order (empty for SGD).</summary>
    public long[] OptimizerSteps { get; set; } = [];

    public int IterationsPerEpoch { get; set; }
    public double Seconds { get; set; }
    public float[]? NormalizationMean { get; set; }
    public float[]? NormalizationStd { get; set; }
    public List<TrainingMetrics> History { get; set; } = [];
}

/// <summary>JSON settings of the trainer's files: snake_case keys, NaN/∞ allowed as named literals.</summary>
internal static class TrainerJson
{
    public static readonly JsonSerializerOptions Compact = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static readonly JsonSerializerOptions Indented = new(Compact) { WriteIndented = true };
}
