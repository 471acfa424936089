namespace Shrink.Pruning;

/// <summary>How a network at one IMP level is initialised before training (open_lth's lottery line and branches).</summary>
public enum LotteryBranch
{
    /// <summary>The IMP mask m_L applied to the rewind point θ_k (k = 0: the original initialisation — the lottery ticket).</summary>
    Lottery,

    /// <summary>The same mask m_L on a fresh random initialisation (open_lth's <c>randomly_reinitialize</c>).</summary>
    RandomReinit,

    /// <summary>A random mask with the same per-tensor counts as m_L, on the rewind point θ_k (open_lth's <c>randomly_prune</c>).</summary>
    RandomMask,
}
