using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// Lookups by dotted name over a TorchSharp module tree, and the one buffer operation TorchSharp keeps protected
/// (replacing or removing a registered buffer), shared by the pruning and landscape code.
/// </summary>
internal static class ModuleTree
{
    private static readonly MethodInfo ReplaceBufferMethod =
        typeof(nn.Module).GetMethod("ConditionallyRegisterBuffer", BindingFlags.Instance | BindingFlags.NonPublic,
            [typeof(string), typeof(Tensor), typeof(bool)])
        ?? throw new InvalidOperationException(
            "TorchSharp's nn.Module has no ConditionallyRegisterBuffer(string, Tensor, bool): this library expects TorchSharp 0.107.0.");

    /// <summary>The module itself (path "") and every submodule, with their dotted paths, in <c>named_modules()</c> order.</summary>
    public static IEnumerable<(string Path, nn.Module Module)> SelfAndDescendants(nn.Module model)
    {
        yield return ("", model);
        foreach (var (name, m) in model.named_modules())
            if (!ReferenceEquals(m, model)) yield return (name, m);
    }

    /// <summary>The submodule at <paramref name="path"/> ("" = <paramref name="model"/>).</summary>
    /// <exception cref="ArgumentException">No such submodule.</exception>
    public static nn.Module Submodule(nn.Module model, string path)
    {
        if (path.Length == 0) return model;
        foreach (var (name, m) in model.named_modules())
            if (name == path) return m;
        throw new ArgumentException($"The model has no submodule '{path}'.");
    }

    /// <summary>The module owning parameter <paramref name="parameterName"/> and the parameter's local name (<c>fc1.weight</c> → (fc1, <c>weight</c>)).</summary>
    public static (nn.Module Owner, string Local) Owner(nn.Module model, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(parameterName);
        int dot = parameterName.LastIndexOf('.');
        var owner = dot < 0 ? model : Submodule(model, parameterName[..dot]);
        return (owner, dot < 0 ? parameterName : parameterName[(dot + 1)..]);
    }

    /// <summary>The parameter named <paramref name="parameterName"/>.</summary>
    /// <exception cref="ArgumentException">No such parameter; the message lists the model's parameters.</exception>
    public static TorchSharp.Modules.Parameter Parameter(nn.Module model, string parameterName)
    {
        foreach (var (name, p) in model.named_parameters())
            if (name == parameterName) return p;
        throw new ArgumentException(
            $"The model has no parameter '{parameterName}'; it has {string.Join(", ", model.named_parameters().Select(p => p.name))}.");
    }

    /// <summary>The buffer <paramref name="local"/> registered on <paramref name="owner"/> itself, or null.</summary>
    public static Tensor? OwnBuffer(nn.Module owner, string local)
    {
        foreach (var (name, b) in owner.named_buffers(recurse: false))
            if (name == local) return b;
        return null;
    }

    /// <summary>Replaces the buffer <paramref name="local"/> of <paramref name="owner"/> (persistent), or removes it when <paramref name="value"/> is null.</summary>
    public static void ReplaceBuffer(nn.Module owner, string local, Tensor? value) =>
        ReplaceBufferMethod.Invoke(owner, [local, value, true]);

    /// <summary>A detached copy of every entry of the module's state dict, outside any dispose scope (a snapshot that outlives the caller's scope).</summary>
    public static Dictionary<string, Tensor> CloneState(nn.Module model)
    {
        using var _ = no_grad();
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>The device of the module's first parameter (CPU for a module without parameters).</summary>
    public static Device DeviceOf(nn.Module model) => model.parameters().FirstOrDefault()?.device ?? CPU;
}
