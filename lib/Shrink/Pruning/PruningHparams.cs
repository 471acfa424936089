using System.Globalization;
using Shrink.Experiments;

namespace Shrink.Pruning;

/// <summary>
/// One pruning step (open_lth's <c>PruningHparams</c>): remove <see cref="Fraction"/> of the <b>remaining</b> prunable
/// weights, chosen by <see cref="Method"/> and ranked over <see cref="Scope"/>. With fraction p per level, after L
/// levels a fraction (1 − p)^L of the weights remains (p = 0.2: 80%, 64%, 51.2%, …, 10.7% after 10 levels).
/// <para>
/// The number removed from a pool of n remaining weights is k = ⌈p·n⌉ (open_lth's <c>np.ceil</c>), exactly: ties in |w|
/// are broken by position, so no threshold ever removes more or fewer.
/// </para>
/// <para>
/// Prunable weights (<see cref="Prunable"/>): the <c>weight</c> of every <c>Linear</c> and <c>Conv2d</c>, as open_lth's
/// <c>prunable_layer_names</c>. Biases, LayerNorm/BatchNorm parameters, the class/distillation tokens and the position
/// embedding are never pruned. <see cref="Ignore"/> removes more (open_lth's <c>pruning_layers_to_ignore</c>, e.g. the
/// output layer <c>fc3.weight</c> or a ViT's <c>patch_embed</c>).
/// </para>
/// </summary>
public sealed record PruningHparams : Hparams
{
    /// <summary>Fraction p of the remaining prunable weights removed per pruning step, in [0, 1). Default 0.2.</summary>
    public double Fraction { get; init; } = 0.2;

    /// <summary>Global (one ranking over all prunable weights) or layerwise ranking. Default <see cref="PruningScope.Global"/>.</summary>
    public PruningScope Scope { get; init; } = PruningScope.Global;

    /// <summary>Smallest magnitudes, or random (a control). Default <see cref="PruningMethod.Magnitude"/>.</summary>
    public PruningMethod Method { get; init; } = PruningMethod.Magnitude;

    /// <summary>
    /// Prunable parameters to leave alone: an entry matches a parameter name exactly (<c>fc3.weight</c>) or any parameter
    /// under a module path (<c>head</c>, <c>patch_embed</c>, <c>blocks.0</c>). Default none.
    /// </summary>
    public string[] Ignore { get; init; } = [];

    /// <summary>
    /// Layerwise fractions that differ from <see cref="Fraction"/>, as <c>"name=fraction"</c> with the name matched like
    /// <see cref="Ignore"/>; e.g. Frankle &amp; Carbin's LeNet rates are <c>Fraction = 0.2</c>, <c>LayerFractions = ["fc3=0.1"]</c>.
    /// Only for <see cref="PruningScope.Layerwise"/>. Default none.
    /// </summary>
    public string[] LayerFractions { get; init; } = [];

    /// <summary>Seed of <see cref="PruningMethod.Random"/>. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Checks every value; throws <see cref="ArgumentException"/> naming the property otherwise.</summary>
    public void Validate()
    {
        if (!(Fraction >= 0 && Fraction < 1)) throw new ArgumentException($"PruningHparams: Fraction must be in [0, 1), got {Fraction}.");
        if (LayerFractions.Length > 0 && Scope != PruningScope.Layerwise)
            throw new ArgumentException("PruningHparams: LayerFractions needs Scope = Layerwise.");
        ParseLayerFractions();
    }

    /// <summary>The fraction pruned from parameter <paramref name="name"/> in a layerwise step.</summary>
    public double FractionFor(string name)
    {
        foreach (var (pattern, f) in ParseLayerFractions())
            if (Prunable.Matches(name, pattern)) return f;
        return Fraction;
    }

    private List<(string Pattern, double Fraction)> ParseLayerFractions()
    {
        var result = new List<(string, double)>();
        foreach (var entry in LayerFractions)
        {
            int eq = entry.IndexOf('=');
            if (eq <= 0 || !double.TryParse(entry[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var f) || !(f >= 0 && f < 1))
                throw new ArgumentException($"PruningHparams: LayerFractions entry \"{entry}\" is not \"name=fraction\" with a fraction in [0, 1).");
            result.Add((entry[..eq], f));
        }
        return result;
    }
}
