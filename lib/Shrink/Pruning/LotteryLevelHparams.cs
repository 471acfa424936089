using Shrink.Experiments;

namespace Shrink.Pruning;

/// <summary>
/// The identity of one trained network of an IMP experiment, which names its <see cref="RunFolder"/>: the lottery
/// hyperparameters (with <see cref="LotteryHparams.Levels"/> reset to its default, since level L does not depend on how
/// many levels follow, and, at level 0, <see cref="LotteryHparams.Pruning"/> too, since the dense network is not pruned),
/// the level, the branch and the branch's seed.
/// </summary>
public sealed record LotteryLevelHparams : Hparams
{
    /// <summary>The experiment (normalised as described above).</summary>
    public LotteryHparams Lottery { get; init; } = new();

    /// <summary>The level L (0 = dense).</summary>
    public int Level { get; init; }

    /// <summary>Lottery line or one of its controls.</summary>
    public LotteryBranch Branch { get; init; } = LotteryBranch.Lottery;

    /// <summary>Seed of the control (the re-initialisation or the random mask); 0 for the lottery line.</summary>
    public int BranchSeed { get; init; }

    /// <summary>The identity of level <paramref name="level"/> of <paramref name="lottery"/> on <paramref name="branch"/>.</summary>
    public static LotteryLevelHparams For(LotteryHparams lottery, int level, LotteryBranch branch = LotteryBranch.Lottery, int branchSeed = 0)
    {
        ArgumentNullException.ThrowIfNull(lottery);
        var normalised = lottery with { Levels = new LotteryHparams().Levels };
        if (level == 0) normalised = normalised with { Pruning = new PruningHparams() };
        return new LotteryLevelHparams { Lottery = normalised, Level = level, Branch = branch, BranchSeed = branch == LotteryBranch.Lottery ? 0 : branchSeed };
    }
}
