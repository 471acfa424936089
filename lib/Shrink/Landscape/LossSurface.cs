namespace Shrink.Landscape;

/// <summary>
/// A 2-D loss-landscape slice f(α, β) = L(θ* + α·δ + β·η). <see cref="Loss"/>[i][j] and <see cref="Accuracy"/>[i][j] are
/// at β = <see cref="Betas"/>[i], α = <see cref="Alphas"/>[j] (rows along β, as Plotly's contour and surface <c>z</c> with
/// <c>x</c> = α and <c>y</c> = β).
/// </summary>
public sealed record LossSurface(double[] Alphas, double[] Betas, double[][] Loss, double[][] Accuracy);
