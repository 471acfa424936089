using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Torch;

/// <summary>Small conveniences over <see cref="nn.Module"/> that TorchSharp spells differently or lacks.</summary>
public static class ModuleExtensions
{
    /// <summary>Number of parameter elements (all, or only those with <c>requires_grad</c>).</summary>
    public static long ParameterCount(this nn.Module module, bool trainableOnly = false) =>
        module.parameters().Where(p => !trainableOnly || p.requires_grad).Sum(p => p.numel());

    /// <summary>Sets <c>requires_grad = false</c> on the parameters whose names satisfy <paramref name="where"/> (all when null).</summary>
    public static T Freeze<T>(this T module, Func<string, bool>? where = null) where T : nn.Module => SetRequiresGrad(module, false, where);

    /// <summary>Sets <c>requires_grad = true</c> on the parameters whose names satisfy <paramref name="where"/> (all when null).</summary>
    public static T Unfreeze<T>(this T module, Func<string, bool>? where = null) where T : nn.Module => SetRequiresGrad(module, true, where);

    /// <summary>
    /// Copies every tensor of <paramref name="state"/> into the module's parameter or persistent buffer of the same name
    /// (shapes must match), under no_grad. With <paramref name="strict"/>, a missing or unexpected key is an
    /// <see cref="ArgumentException"/> that lists them; returns them otherwise.
    /// </summary>
    public static (IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected) LoadStateDictChecked(
        this nn.Module module, IReadOnlyDictionary<string, Tensor> state, bool strict = true, string? source = null)
    {
        var own = module.state_dict();
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        string from = source is null ? "" : $" from {source}";
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
            throw new ArgumentException(
                $"load_state_dict{from}: missing keys [{string.Join(", ", missing)}], unexpected keys [{string.Join(", ", unexpected)}].");
        using (no_grad())
        {
            foreach (var (name, target) in own)
            {
                if (!state.TryGetValue(name, out var value)) continue;
                if (!target.shape.SequenceEqual(value.shape))
                    throw new ArgumentException(
                        $"load_state_dict{from}: {name} has shape ({string.Join(", ", value.shape)}), the model expects ({string.Join(", ", target.shape)}).");
                target.copy_(value);
            }
        }
        return (missing, unexpected);
    }

    private static T SetRequiresGrad<T>(T module, bool value, Func<string, bool>? where) where T : nn.Module
    {
        foreach (var (name, p) in module.named_parameters())
            if (where is null || where(name)) p.requires_grad = value;
        return module;
    }
}
