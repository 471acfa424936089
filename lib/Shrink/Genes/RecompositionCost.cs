namespace Shrink.Genes;

/// <summary>
/// The size of one recomposed model, from the configuration alone (<see cref="Recomposition.Cost"/>).
/// </summary>
/// <param name="Depth">L', the number of blocks.</param>
/// <param name="Learngenes">k, the learngenes it is built from.</param>
/// <param name="Mode">"w/o const" (<see cref="RecompositionMode.Unrolled"/>) or "w/ const" (<see cref="RecompositionMode.Constrained"/>).</param>
/// <param name="Parameters">
/// Stored (= trainable) parameters: embeddings E + L'·P unrolled, E + k·P constrained (E = patch projection, tokens,
/// position embedding, final norm and head; P = one block's parameters).
/// </param>
/// <param name="Flops">Forward FLOPs for one image (2 × MACs, <see cref="Models.IModelCost"/>): those of an L'-layer ViT in both modes.</param>
/// <param name="GenerationFlops">FLOPs of generating the L' blocks from the k learngenes once (2·L'·k·P); 0 for an unrolled model.</param>
public sealed record RecompositionCost(int Depth, int Learngenes, RecompositionMode Mode, long Parameters, long Flops, long GenerationFlops)
{
    /// <summary>The paper's label of the mode: "w/o const" or "w/ const".</summary>
    public string ModeLabel => Mode == RecompositionMode.Unrolled ? "w/o const" : "w/ const";
}
