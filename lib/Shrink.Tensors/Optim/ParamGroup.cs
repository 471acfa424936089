using Shrink.Tensors.Nn;

namespace Shrink.Tensors.Optim;

/// <summary>
/// A set of parameters that share a learning rate and weight decay inside an <see cref="Optimizer"/> (PyTorch's
/// <c>param_groups</c> entries), e.g. the timm convention of no weight decay on biases and norm weights, or layer-wise
/// learning-rate decay through <see cref="LrScale"/>.
/// </summary>
public sealed class ParamGroup
{
    internal readonly Parameter[] Items;
    internal readonly double? RequestedLr, RequestedWeightDecay;
    internal bool Attached;

    /// <summary>
    /// A group of <paramref name="parameters"/>. A null <paramref name="lr"/> or <paramref name="weightDecay"/> takes the
    /// optimiser's default (the default lr times <paramref name="lrScale"/>).
    /// </summary>
    public ParamGroup(IEnumerable<Parameter> parameters, double? lr = null, double? weightDecay = null, double lrScale = 1)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Items = parameters.ToArray();
        if (Items.Any(p => p is null)) throw new ArgumentException("ParamGroup: a parameter is null.");
        if (lr < 0) throw new ArgumentException($"ParamGroup: lr must be ≥ 0, got {lr}.");
        if (weightDecay < 0) throw new ArgumentException($"ParamGroup: weight decay must be ≥ 0, got {weightDecay}.");
        RequestedLr = lr; RequestedWeightDecay = weightDecay; LrScale = lrScale;
    }

    /// <summary>The group's parameters, in order (their global optimiser index continues from the previous group).</summary>
    public IReadOnlyList<Parameter> Params => Items;

    /// <summary>The learning rate used by the next step for this group. Setting <see cref="Optimizer.Lr"/> sets it to that value times <see cref="LrScale"/>.</summary>
    public double Lr { get; set; }

    /// <summary>Weight-decay coefficient λ for this group (its meaning, coupled L2 or decoupled, is the optimiser's).</summary>
    public double WeightDecay { get; set; }

    /// <summary>Multiplier applied when the optimiser-wide learning rate is set (by <see cref="Optimizer.Lr"/> or an <see cref="LrSchedule"/>); 1 by default.</summary>
    public double LrScale { get; set; }
}
