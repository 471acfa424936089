using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// Basin radius and volume at a loss cutoff along random directions (Huang, Emam, Goldblum, Fowl, Terry, Huang, Goldstein,
/// "Understanding generalization through visualizations", 2020): treat the sublevel set {θ : L(θ) ≤ c} as star-convex
/// around the solution θ*; along each of K directions u drawn uniformly from the unit sphere of the unpruned subspace
/// (<see cref="RandomDirections.UnitSphere"/>) find r(u) = min{r : L(θ* + r·u) &gt; c}, by doubling from
/// <see cref="InitialRadius"/> until the cutoff is crossed (or <see cref="MaxRadius"/> is reached) and then bisecting. In
/// polar coordinates V = ∫ r(u)^n/n dS(u) = Vol(Bⁿ)·E_u[r(u)^n]; <see cref="BasinEstimate.LogVolume"/> reports log V. With
/// n in the hundreds of thousands E[r^n] is dominated by the largest radius, so also compare
/// <see cref="BasinEstimate.MeanRadius"/>.
/// </summary>
public sealed class BasinVolume
{
    /// <summary>Number of random directions K. Default 20.</summary>
    public int Directions { get; init; } = 20;

    /// <summary>First radius tried. Default 0.1.</summary>
    public double InitialRadius { get; init; } = 0.1;

    /// <summary>Largest radius searched; a direction that never crosses the cutoff is recorded as this (counted in <see cref="BasinEstimate.Capped"/>). Default 1000.</summary>
    public double MaxRadius { get; init; } = 1000;

    /// <summary>Bisection steps after the crossing is bracketed (relative precision 2^−steps of the bracket). Default 12.</summary>
    public int Bisections { get; init; } = 12;

    /// <summary>Seed of the directions (<see cref="Torch.Seed.Generator(ulong, ReadOnlySpan{ulong})"/>, drawn on the CPU). Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>The parameters the directions span (all when null), e.g. <c>n =&gt; !n.EndsWith("bias")</c>.</summary>
    public Func<string, bool>? Include { get; init; }

    /// <summary>Estimates the basin of <paramref name="model"/> at its current parameters for the loss of <paramref name="evaluator"/> at <paramref name="cutoff"/>; the parameters are restored.</summary>
    /// <exception cref="ArgumentException">The loss at the solution already exceeds the cutoff, or a setting is out of range.</exception>
    public BasinEstimate Estimate(nn.Module<Tensor, Tensor> model, LandscapeEvaluator evaluator, double cutoff)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(evaluator);
        if (Directions < 1) throw new ArgumentException($"BasinVolume: Directions must be ≥ 1, got {Directions}.");
        if (!(InitialRadius > 0 && MaxRadius >= InitialRadius)) throw new ArgumentException($"BasinVolume: need 0 < InitialRadius ≤ MaxRadius, got {InitialRadius} and {MaxRadius}.");
        var theta = ParameterVector.FromModel(model, Include);
        double center = evaluator.Evaluate(model).Loss;
        if (!(center <= cutoff)) throw new ArgumentException($"BasinVolume: the loss at the solution ({center:G6}) is above the cutoff {cutoff:G6}; choose a cutoff above it.");
        var g = Torch.Seed.Generator(Seed);
        var radii = new double[Directions];
        int capped = 0;
        long dimension = 0;
        try
        {
            for (int k = 0; k < Directions; k++)
            {
                using var direction = NewDisposeScope();
                var u = RandomDirections.UnitSphere(model, g, Include);
                if (k == 0) dimension = u.Entries.Sum(e => e.Data.count_nonzero().item<long>());
                double Loss(double r)
                {
                    using (var point = NewDisposeScope()) theta.Clone().AddInPlace(u, r).CopyTo(model);
                    return evaluator.Evaluate(model).Loss;
                }
                double lo = 0, hi = InitialRadius;
                while (Loss(hi) <= cutoff)
                {
                    lo = hi;
                    if (hi >= MaxRadius) break;
                    hi = Math.Min(2 * hi, MaxRadius);
                }
                if (lo >= MaxRadius) { radii[k] = MaxRadius; capped++; continue; }
                for (int b = 0; b < Bisections; b++)
                {
                    double mid = 0.5 * (lo + hi);
                    if (Loss(mid) <= cutoff) lo = mid; else hi = mid;
                }
                radii[k] = 0.5 * (lo + hi);
            }
        }
        finally { theta.CopyTo(model); theta.Dispose(); }
        return new BasinEstimate(radii, dimension, cutoff, center, capped);
    }

    /// <summary>log Γ(x) for x &gt; 0 (Lanczos approximation, g = 7, 9 terms; relative error ~1e−15).</summary>
    public static double LogGamma(double x)
    {
        if (!(x > 0)) throw new ArgumentOutOfRangeException(nameof(x), x, "LogGamma needs x > 0.");
        if (x < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        double a = c[0];
        double t = x + 7.5;
        for (int i = 1; i < 9; i++) a += c[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(a);
    }
}
