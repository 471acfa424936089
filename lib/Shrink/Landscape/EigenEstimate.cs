namespace Shrink.Landscape;

/// <summary>
/// The result of power iteration on the Hessian: <paramref name="Value"/> = vᵀHv at the last unit vector v (the eigenvalue of
/// largest magnitude), the iterations used, whether |Δλ|/|λ| fell below the tolerance, and v itself.
/// </summary>
public sealed record EigenEstimate(double Value, int Iterations, bool Converged, ParameterVector Vector);
