namespace Shrink.Landscape;

/// <summary>A 1-D loss-landscape slice f(α) = L(θ* + α·δ): the loss and accuracy at each α.</summary>
public sealed record LossCurve(double[] Alphas, double[] Loss, double[] Accuracy)
{
    /// <summary>1 − accuracy at each α.</summary>
    public double[] Error => Accuracy.Select(a => 1 - a).ToArray();
}
