using Shrink.Training;
using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>One trained network of an IMP experiment: level, branch, the network before and after training, and its sparsity measured from the weights.</summary>
public sealed record LotteryLevel
{
    /// <summary>The level L (0 = dense).</summary>
    public required int Level { get; init; }

    /// <summary>The lottery line or a control.</summary>
    public required LotteryBranch Branch { get; init; }

    /// <summary>The seed of the control (0 on the lottery line).</summary>
    public int BranchSeed { get; init; }

    /// <summary>The trained network θ_T^(L) with its masks as buffers (evaluation mode).</summary>
    public required nn.Module<Tensor, Tensor> Model { get; init; }

    /// <summary>The state the network was trained from (m_L ⊙ θ_k on the lottery line), masks included: the rewind point for distances (detached copies).</summary>
    public required IReadOnlyDictionary<string, Tensor> Start { get; init; }

    /// <summary>The masks m_L (parameter name → 0/1 tensor); empty at level 0.</summary>
    public required IReadOnlyDictionary<string, Tensor> Masks { get; init; }

    /// <summary>Sparsity of the prunable weights of the trained network, counted from its weights.</summary>
    public required Sparsity Sparsity { get; init; }

    /// <summary>The training run (history, run folder, whether it was reused, normalisation).</summary>
    public required TrainingResult Training { get; init; }

    /// <summary>Test accuracy after training, or null without a test set.</summary>
    public double? TestAccuracy => Training.TestAccuracy;

    /// <summary>The level's run folder.</summary>
    public string? RunFolder => Training.RunFolder;
}
