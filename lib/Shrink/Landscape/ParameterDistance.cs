using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// Distances between solutions in parameter space (over parameters only; buffers such as BatchNorm statistics and pruning
/// masks are not coordinates): ‖θ_a − θ_b‖₂, the relative distance ‖θ_a − θ_b‖₂/‖θ_b‖₂ and the cosine similarity
/// θ_a·θ_b/(‖θ_a‖‖θ_b‖), accumulated in float64. Used for ‖θ_T^(L+1) − θ_T^(L)‖ between consecutive IMP levels and for the
/// distance of a trained network from its rewind point (Paul et al. 2023).
/// </summary>
public static class ParameterDistance
{
    /// <summary>‖θ_a − θ_b‖₂ between two models of the same architecture (on any devices).</summary>
    public static double L2(nn.Module a, nn.Module b)
    {
        using var scope = NewDisposeScope();
        return L2(ParameterVector.FromModel(a), ParameterVector.FromModel(b));
    }

    /// <summary>‖θ_a − θ‖₂ between a model and a state dict (e.g. <see cref="Pruning.LotteryLevel.Start"/>, the rewind point).</summary>
    public static double L2(nn.Module a, IReadOnlyDictionary<string, Tensor> state)
    {
        using var scope = NewDisposeScope();
        var pa = ParameterVector.FromModel(a);
        return L2(pa, ParameterVector.FromState(state, pa));
    }

    /// <summary>‖a − b‖₂.</summary>
    public static double L2(ParameterVector a, ParameterVector b)
    {
        ArgumentNullException.ThrowIfNull(a);
        using var scope = NewDisposeScope();
        return (a - b).Norm();
    }

    /// <summary>‖a − b‖₂ / ‖b‖₂.</summary>
    public static double Relative(ParameterVector a, ParameterVector b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return L2(a, b) / b.Norm();
    }

    /// <summary>a·b / (‖a‖‖b‖).</summary>
    public static double Cosine(ParameterVector a, ParameterVector b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Dot(b) / (a.Norm() * b.Norm());
    }
}
