namespace Shrink.Landscape;

/// <summary>
/// Hutchinson's estimate of Tr(H): the mean of the samples zᵀHz (Rademacher z), its standard error s/√m, and the samples
/// (PyHessian returns the samples; the mean is taken here).
/// </summary>
public sealed record TraceEstimate(double Value, double StandardError, double[] Samples);
