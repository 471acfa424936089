namespace Shrink.Landscape;

/// <summary>
/// A star-convex estimate of the sublevel set {θ : L(θ) ≤ c} around a solution (Huang et al. 2020): the radii r(u) along
/// K random unit directions u of the n-dimensional (unpruned) subspace and the log-volume
/// log V = (n/2)·log π − log Γ(n/2 + 1) + log((1/K) Σ_k r_k^n).
/// </summary>
/// <param name="Radii">r(u_k): the distance along u_k at which the loss first exceeds the cutoff (or the search's cap).</param>
/// <param name="Dimension">n, the number of coordinates the directions span.</param>
/// <param name="Cutoff">The loss level c.</param>
/// <param name="CenterLoss">L at the solution itself.</param>
/// <param name="Capped">How many radii hit the maximum radius without the loss exceeding the cutoff (their r is a lower bound).</param>
public sealed record BasinEstimate(double[] Radii, long Dimension, double Cutoff, double CenterLoss, int Capped)
{
    /// <summary>Mean radius (1/K) Σ r_k.</summary>
    public double MeanRadius => Radii.Average();

    /// <summary>log((1/K) Σ r_k^n), computed stably (log-sum-exp of n·log r_k). Dominated by the largest radii when n is large.</summary>
    public double LogMeanRadiusPower
    {
        get
        {
            var logs = Radii.Select(r => Dimension * Math.Log(r)).ToArray();
            double max = logs.Max();
            return max + Math.Log(logs.Sum(x => Math.Exp(x - max))) - Math.Log(Radii.Length);
        }
    }

    /// <summary>log V of the star-convex set: log of the unit n-ball's volume plus <see cref="LogMeanRadiusPower"/>.</summary>
    public double LogVolume => Dimension / 2.0 * Math.Log(Math.PI) - BasinVolume.LogGamma(Dimension / 2.0 + 1) + LogMeanRadiusPower;
}
