using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// Which parameters unstructured pruning may touch: the <c>weight</c> of every <see cref="Linear"/> and
/// <see cref="Conv2d"/> (open_lth's <c>prunable_layer_names</c>), minus an ignore list. Everything else — biases,
/// LayerNorm/BatchNorm γ and β, the class/distillation tokens and the position embedding — is never pruned.
/// </summary>
public static class Prunable
{
    /// <summary>(name, weight) of every prunable tensor of <paramref name="model"/> not matched by <paramref name="ignore"/>, in module order.</summary>
    /// <exception cref="ArgumentException">An ignore entry matches no prunable parameter (a typo would otherwise silently prune everything).</exception>
    public static IReadOnlyList<(string Name, Parameter Weight)> Parameters(nn.Module model, IEnumerable<string>? ignore = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var patterns = (ignore ?? []).ToArray();
        var all = new List<(string, Parameter)>();
        foreach (var (prefix, m) in ModuleTree.SelfAndDescendants(model))
        {
            Parameter? w = m switch { Linear l => l.weight, Conv2d c => c.weight, _ => null };
            if (w is not null) all.Add((prefix.Length == 0 ? "weight" : prefix + ".weight", w));
        }
        foreach (var pattern in patterns)
            if (!all.Any(p => Matches(p.Item1, pattern)))
                throw new ArgumentException($"Prunable: the ignore entry '{pattern}' matches no prunable parameter; prunable: {string.Join(", ", all.Select(p => p.Item1))}.");
        return all.Where(p => !patterns.Any(pattern => Matches(p.Item1, pattern))).ToList();
    }

    /// <summary>True when <paramref name="pattern"/> is the parameter name itself or a module path containing it (<c>head</c> matches <c>head.weight</c>).</summary>
    public static bool Matches(string name, string pattern) =>
        name == pattern || name.StartsWith(pattern + ".", StringComparison.Ordinal);
}
