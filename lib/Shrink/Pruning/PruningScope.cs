namespace Shrink.Pruning;

/// <summary>How the weights to prune are ranked.</summary>
public enum PruningScope
{
    /// <summary>One threshold over all prunable weights together (open_lth's <c>sparse_global</c>; the LMC paper's ResNets and VGG).</summary>
    Global,

    /// <summary>Each prunable tensor loses the same fraction of its own remaining weights (Frankle &amp; Carbin's LeNet and Conv-x).</summary>
    Layerwise,
}
