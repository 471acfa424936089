namespace Shrink.Landscape;

/// <summary>Curvature of one layer's diagonal Hessian block H_ll (the Hessian restricted to that layer's unpruned parameters).</summary>
/// <param name="Layer">Module path (e.g. <c>fc1</c>, <c>blocks.0.attn.qkv</c>).</param>
/// <param name="Parameters">The layer's parameter names (weight and bias).</param>
/// <param name="Dimension">Number of coordinates probed (unpruned entries).</param>
/// <param name="TopEigenvalue">λ_max(H_ll) by power iteration.</param>
/// <param name="Trace">Tr(H_ll) by Hutchinson.</param>
public sealed record LayerCurvature(string Layer, IReadOnlyList<string> Parameters, long Dimension, EigenEstimate TopEigenvalue, TraceEstimate Trace);
