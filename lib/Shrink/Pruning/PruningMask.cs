using Shrink.Torch;
using Shrink.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// Unstructured pruning masks kept as buffers next to the weights (PyTorch <c>torch.nn.utils.prune</c>'s naming):
/// the mask of parameter <c>fc1.weight</c> is the persistent buffer <c>weight_mask</c> registered on the module that owns
/// the parameter (<c>register_buffer(..., persistent: true)</c>; a buffer name cannot contain a dot), so it appears in
/// <c>state_dict()</c> and <c>named_buffers()</c> as <c>fc1.weight_mask</c> and travels with every checkpoint and
/// <c>model.safetensors</c>. A mask is a float32 tensor of the parameter's shape holding 1 (kept) or 0 (pruned).
/// <para>
/// The pruned network is f(x; m ⊙ θ). The masks are imposed on the stored weights (open_lth's
/// <c>PrunedModel</c>: <c>param.data *= mask</c>), so the forward pass computes with m ⊙ θ without any change to the
/// layers: <see cref="Set"/> zeroes the pruned weights at once; <see cref="Enforce"/> hooks a <see cref="Trainer"/> so that
/// after every backward pass g ← g ⊙ m (the gradient of L(m ⊙ θ) with respect to θ) and after every optimiser
/// step θ ← m ⊙ θ. The second projection is what keeps a pruned weight at exactly 0 when SGD momentum, Adam's first
/// moment or weight decay would otherwise move it (their state may hold values from before the weight was pruned).
/// Pruned coordinates are set to +0 (<c>masked_fill_</c>), never to the −0 a product could leave.
/// </para>
/// <para>
/// Devices: TorchSharp's <c>Linear</c> and <c>Conv2d</c> move only their own weight and bias in <c>.to(device)</c>,
/// not buffers registered on them later. Every method here therefore first moves a mask that is not on its
/// parameter's device there (re-registering the buffer under the same name), so masks follow the model to any device.
/// </para>
/// <code>
/// MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.2 });   // registers fc1.weight_mask, …
/// var trainer = new Trainer(hp);
/// PruningMask.Enforce(trainer);
/// trainer.Fit(model, train, test);
/// var copy = new LeNet300100();
/// PruningMask.LoadStateDict(copy, model.state_dict());                  // masks round-trip
/// </code>
/// </summary>
public static class PruningMask
{
    /// <summary>Suffix of a mask buffer: parameter <c>weight</c> → buffer <c>weight_mask</c>.</summary>
    public const string Suffix = "_mask";

    /// <summary>The state-dict name of the mask of parameter <paramref name="parameterName"/> (<c>fc1.weight</c> → <c>fc1.weight_mask</c>).</summary>
    public static string MaskName(string parameterName) => parameterName + Suffix;

    /// <summary>
    /// Sets the mask of parameter <paramref name="parameterName"/> to <paramref name="mask"/> (copied, from any device; any
    /// non-zero value counts as 1), registering the buffer on first use, and zeroes the pruned weights.
    /// </summary>
    /// <exception cref="ArgumentException">No such parameter, or the mask's shape differs from the parameter's.</exception>
    public static Tensor Set(nn.Module model, string parameterName, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(mask);
        var p = ModuleTree.Parameter(model, parameterName);
        if (!p.shape.SequenceEqual(mask.shape))
            throw new ArgumentException($"PruningMask.Set: the mask for '{parameterName}' has shape ({string.Join(", ", mask.shape)}), the parameter ({string.Join(", ", p.shape)}).");
        var buffer = GetOrCreate(model, parameterName, p);
        using (var scope = NewDisposeScope())
        using (no_grad())
            buffer.copy_(mask.detach().ne(0).to(buffer.dtype));   // (…) 0/1
        ApplyTo(p, buffer);
        return buffer;
    }

    /// <summary>Sets every mask in <paramref name="masks"/> (parameter name → mask), see <see cref="Set"/>.</summary>
    public static void SetAll(nn.Module model, IReadOnlyDictionary<string, Tensor> masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        foreach (var (name, mask) in masks) Set(model, name, mask);
    }

    /// <summary>The mask buffer of <paramref name="parameterName"/> (on the parameter's device), or null when the parameter has none.</summary>
    public static Tensor? Get(nn.Module model, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (owner, local) = ModuleTree.Owner(model, parameterName);
        var p = ModuleTree.Parameter(model, parameterName);
        return ModuleTree.OwnBuffer(owner, local + Suffix) is { } mask ? OnDeviceOf(owner, local, p, mask) : null;
    }

    /// <summary>Every masked parameter of <paramref name="model"/>, in module order (the module itself first).</summary>
    public static IReadOnlyList<MaskedParameter> All(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<MaskedParameter>();
        foreach (var (prefix, m) in ModuleTree.SelfAndDescendants(model))
        {
            var buffers = m.named_buffers(recurse: false).ToDictionary(b => b.name, b => b.buffer);
            if (buffers.Count == 0) continue;
            foreach (var (local, p) in m.named_parameters(recurse: false))
                if (buffers.TryGetValue(local + Suffix, out var mask))
                    result.Add(new MaskedParameter(prefix.Length == 0 ? local : prefix + "." + local, p, OnDeviceOf(m, local, p, mask)));
        }
        return result;
    }

    /// <summary>Copies of every mask, keyed by parameter name (a snapshot outside any dispose scope, e.g. to compare the masks of two IMP levels).</summary>
    public static Dictionary<string, Tensor> Snapshot(nn.Module model)
    {
        var result = new Dictionary<string, Tensor>();
        using var _ = no_grad();
        foreach (var mp in All(model)) result[mp.Name] = mp.Mask.clone().DetachFromDisposeScope();
        return result;
    }

    /// <summary>Removes every mask buffer; the weights keep their zeros (PyTorch <c>prune.remove</c>: the pruning becomes permanent but is no longer enforced).</summary>
    public static void RemoveAll(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var mp in All(model))
        {
            var (owner, local) = ModuleTree.Owner(model, mp.Name);
            ModuleTree.ReplaceBuffer(owner, local + Suffix, null);
        }
    }

    /// <summary>θ ← m ⊙ θ for every masked parameter (the forward pass then computes f(x; m ⊙ θ)).</summary>
    public static void ApplyToWeights(nn.Module model)
    {
        foreach (var mp in All(model)) ApplyTo(mp.Parameter, mp.Mask);
    }

    /// <summary>g ← m ⊙ g for every masked parameter that has a gradient: ∂L(m ⊙ θ)/∂θ = m ⊙ ∂L/∂(m ⊙ θ).</summary>
    public static void ApplyToGradients(nn.Module model)
    {
        foreach (var mp in All(model))
            if (mp.Parameter.grad is { } g && !g.IsInvalid) ApplyTo(g, mp.Mask);
    }

    /// <summary>
    /// Makes <paramref name="trainer"/> keep the masks of whatever model it trains: gradients are masked after each
    /// backward pass (<see cref="Trainer.AfterBackward"/>) and the weights after every optimiser step
    /// (<see cref="Trainer.AfterStep"/>). Returns the trainer.
    /// </summary>
    public static Trainer Enforce(Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        trainer.AfterBackward += m => ApplyToGradients(m);
        trainer.AfterStep += (m, _) => ApplyToWeights(m);
        return trainer;
    }

    /// <summary>
    /// Loads a state dict that may hold masks into <paramref name="model"/>: for every key <c>{parameter}_mask</c> whose
    /// parameter exists and has no mask yet, the mask buffer is registered first, then
    /// <see cref="ModuleExtensions.LoadStateDictChecked"/> copies everything (strictly by default) and the masks are
    /// applied to the weights.
    /// </summary>
    public static (IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys) LoadStateDict(nn.Module model, IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        foreach (var key in state.Keys)
        {
            if (!key.EndsWith(Suffix, StringComparison.Ordinal)) continue;
            var name = key[..^Suffix.Length];
            if (parameters.TryGetValue(name, out var p)) GetOrCreate(model, name, p);
        }
        var result = model.LoadStateDictChecked(state, strict);
        ApplyToWeights(model);
        return result;
    }

    private static Tensor GetOrCreate(nn.Module model, string parameterName, Parameter p)
    {
        var (owner, local) = ModuleTree.Owner(model, parameterName);
        if (ModuleTree.OwnBuffer(owner, local + Suffix) is { } existing) return OnDeviceOf(owner, local, p, existing);
        var mask = ones(p.shape, ScalarType.Float32, p.device).DetachFromDisposeScope();   // (…) all kept
        owner.register_buffer(local + Suffix, mask, persistent: true);
        return mask;
    }

    /// <summary>The mask, moved to its parameter's device (and re-registered under its name) when a <c>.to(device)</c> left it behind.</summary>
    private static Tensor OnDeviceOf(nn.Module owner, string local, Parameter p, Tensor mask)
    {
        if (mask.device_type == p.device_type && mask.device_index == p.device_index) return mask;
        var moved = mask.to(p.device).DetachFromDisposeScope();
        ModuleTree.ReplaceBuffer(owner, local + Suffix, moved);
        return moved;
    }

    private static void ApplyTo(Tensor target, Tensor mask)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        target.masked_fill_(mask.eq(0), 0);
    }
}
