using Shrink.Tensors;
using Shrink.Tensors.Nn;
using Shrink.Training;

namespace Shrink.Pruning;

/// <summary>
/// Unstructured pruning masks kept as buffers next to the weights (PyTorch <c>torch.nn.utils.prune</c>'s naming):
/// the mask of parameter <c>fc1.weight</c> is the persistent buffer <c>weight_mask</c> registered on the module that owns
/// the parameter, so it appears in the state dict as <c>fc1.weight_mask</c> and travels with every checkpoint,
/// <c>model.safetensors</c> and <see cref="Module.StateDict"/>. A mask is a float tensor of the parameter's shape
/// holding 1 (kept) or 0 (pruned).
/// <para>
/// The pruned network is f(x; m ⊙ θ). The masks are imposed on the stored weights (open_lth's
/// <c>PrunedModel</c>: <c>param.data *= mask</c>), so the forward pass computes with m ⊙ θ without any change to the
/// layers: <see cref="Set"/> zeroes the pruned weights at once; <see cref="Enforce"/> hooks a <see cref="Trainer"/> so that
/// after every backward pass g ← g ⊙ m (the gradient of L(m ⊙ θ) with respect to θ) and after every optimiser
/// step θ ← m ⊙ θ. The second projection is what keeps a pruned weight at exactly 0 when SGD momentum, Adam's first
/// moment or weight decay would otherwise move it (their state may hold values from before the weight was pruned).
/// </para>
/// <code>
/// MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.2 });   // registers fc1.weight_mask, …
/// var trainer = new Trainer(hp);
/// PruningMask.Enforce(trainer);
/// trainer.Fit(model, train, test);
/// var copy = new LeNet300100();
/// PruningMask.LoadStateDict(copy, model.StateDict());                 // masks round-trip
/// </code>
/// </summary>
public static class PruningMask
{
    /// <summary>Suffix of a mask buffer: parameter <c>weight</c> → buffer <c>weight_mask</c>.</summary>
    public const string Suffix = "_mask";

    /// <summary>The state-dict name of the mask of parameter <paramref name="parameterName"/> (<c>fc1.weight</c> → <c>fc1.weight_mask</c>).</summary>
    public static string MaskName(string parameterName) => parameterName + Suffix;

    /// <summary>
    /// Sets the mask of parameter <paramref name="parameterName"/> to <paramref name="mask"/> (copied; any non-zero value
    /// counts as 1), registering the buffer on first use, and zeroes the pruned weights.
    /// </summary>
    /// <exception cref="ArgumentException">No such parameter, or the mask's shape differs from the parameter's.</exception>
    public static Tensor Set(Module model, string parameterName, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(mask);
        var p = model.GetParameter(parameterName);
        if (!p.Shape.SequenceEqual(mask.Shape))
            throw new ArgumentException($"PruningMask.Set: the mask for '{parameterName}' has shape ({string.Join(", ", mask.Shape)}), the parameter ({string.Join(", ", p.Shape)}).");
        var buffer = GetOrCreate(model, parameterName);
        using (Tensor.NoGrad())
        {
            var src = mask.Contiguous().AsSpan();
            var dst = buffer.AsSpan();
            for (int i = 0; i < dst.Length; i++) dst[i] = src[i] != 0f ? 1f : 0f;
        }
        ApplyTo(p, buffer);
        return buffer;
    }

    /// <summary>Sets every mask in <paramref name="masks"/> (parameter name → mask), see <see cref="Set"/>.</summary>
    public static void SetAll(Module model, IReadOnlyDictionary<string, Tensor> masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        foreach (var (name, mask) in masks) Set(model, name, mask);
    }

    /// <summary>The mask buffer of <paramref name="parameterName"/>, or null when the parameter has none.</summary>
    public static Tensor? Get(Module model, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (owner, local) = Owner(model, parameterName);
        return owner.HasBuffer(local + Suffix) ? owner.GetBuffer(local + Suffix) : null;
    }

    /// <summary>Every masked parameter of <paramref name="model"/>, in <see cref="Module.NamedParameters"/> order.</summary>
    public static IReadOnlyList<MaskedParameter> All(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<MaskedParameter>();
        foreach (var (prefix, m) in model.NamedModules())
            foreach (var (local, p) in m.NamedParameters(recurse: false))
                if (m.HasBuffer(local + Suffix))
                    result.Add(new MaskedParameter(prefix.Length == 0 ? local : prefix + "." + local, p, m.GetBuffer(local + Suffix)));
        return result;
    }

    /// <summary>Copies of every mask, keyed by parameter name (a snapshot, e.g. to compare the masks of two IMP levels).</summary>
    public static Dictionary<string, Tensor> Snapshot(Module model)
    {
        var result = new Dictionary<string, Tensor>();
        using var _ = TensorScope.Suspend();
        foreach (var mp in All(model))
        {
            var c = Tensor.Empty([.. mp.Mask.Shape]);
            c.CopyFrom(mp.Mask);
            result[mp.Name] = c;
        }
        return result;
    }

    /// <summary>Removes every mask buffer; the weights keep their zeros (PyTorch <c>prune.remove</c>: the pruning becomes permanent but is no longer enforced).</summary>
    public static void RemoveAll(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var mp in All(model))
        {
            var (owner, local) = Owner(model, mp.Name);
            owner.RemoveBuffer(local + Suffix);
        }
    }

    /// <summary>θ ← m ⊙ θ for every masked parameter (the forward pass then computes f(x; m ⊙ θ)).</summary>
    public static void ApplyToWeights(Module model)
    {
        foreach (var mp in All(model)) ApplyTo(mp.Parameter, mp.Mask);
    }

    /// <summary>g ← m ⊙ g for every masked parameter that has a gradient: ∂L(m ⊙ θ)/∂θ = m ⊙ ∂L/∂(m ⊙ θ).</summary>
    public static void ApplyToGradients(Module model)
    {
        foreach (var mp in All(model))
            if (mp.Parameter.Grad is { } g) ApplyTo(g, mp.Mask);
    }

    /// <summary>
    /// Makes <paramref name="trainer"/> keep the masks of whatever model it trains: gradients are masked after each
    /// backward pass (<see cref="Trainer.AfterBackward"/>) and the weights before the first step and after every
    /// optimiser step (<see cref="Trainer.AfterStep"/>). Returns the trainer.
    /// </summary>
    public static Trainer Enforce(Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        trainer.AfterBackward += ApplyToGradients;
        trainer.AfterStep += (m, _) => ApplyToWeights(m);
        return trainer;
    }

    /// <summary>
    /// Loads a state dict that may hold masks into <paramref name="model"/>: for every key <c>{parameter}_mask</c> whose
    /// parameter exists and has no mask yet, the mask buffer is registered first, then
    /// <see cref="Module.LoadStateDict"/> copies everything (strictly by default) and the masks are applied to the weights.
    /// </summary>
    public static (IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys) LoadStateDict(Module model, IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        var parameters = model.NamedParameters().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var key in state.Keys)
        {
            if (!key.EndsWith(Suffix, StringComparison.Ordinal)) continue;
            var name = key[..^Suffix.Length];
            if (parameters.Contains(name)) GetOrCreate(model, name);
        }
        var result = model.LoadStateDict(state, strict);
        ApplyToWeights(model);
        return result;
    }

    private static Tensor GetOrCreate(Module model, string parameterName)
    {
        var (owner, local) = Owner(model, parameterName);
        if (owner.HasBuffer(local + Suffix)) return owner.GetBuffer(local + Suffix);
        var p = owner.GetParameter(local);
        using var _ = TensorScope.Suspend();
        return owner.RegisterBuffer(local + Suffix, Tensor.Ones([.. p.Shape]));
    }

    private static (Module Owner, string Local) Owner(Module model, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        int dot = parameterName.LastIndexOf('.');
        var owner = dot < 0 ? model : model.GetSubmodule(parameterName[..dot]);
        return (owner, dot < 0 ? parameterName : parameterName[(dot + 1)..]);
    }

    private static void ApplyTo(Tensor target, Tensor mask)
    {
        using var _ = Tensor.NoGrad();
        var m = mask.AsSpan();
        if (target.IsContiguous)
        {
            var t = target.AsSpan();
            for (int i = 0; i < t.Length; i++) if (m[i] == 0f) t[i] = 0f;
        }
        else
        {
            var values = target.ToArray();
            for (int i = 0; i < values.Length; i++) if (m[i] == 0f) values[i] = 0f;
            target.CopyFrom(Tensor.FromArray(values, [.. target.Shape]));
        }
    }
}
