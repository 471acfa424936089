using Shrink.Pruning;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// A point or a direction in parameter space: an ordered list of named tensors shaped like a model's parameters, on the
/// model's device (PyTorch's list of per-parameter tensors in loss-landscape code). Products and norms accumulate in
/// float64; <see cref="AddInPlace"/> and <see cref="ScaleInPlace"/> compute in float64 and round once to the storage dtype.
/// <code>
/// var theta = ParameterVector.FromModel(model);
/// var d = RandomDirections.FilterNormalized(model, Seed.Generator(1));
/// (theta + 0.5 * d).CopyTo(model);        // θ + 0.5·δ
/// </code>
/// The tensors follow TorchSharp's dispose scopes like any tensor (a vector made inside a <c>NewDisposeScope()</c> dies
/// with it unless moved out with <see cref="MoveToOuterDisposeScope"/> or <see cref="DetachFromDisposeScope"/>);
/// <see cref="Dispose"/> frees them at once.
/// </summary>
public sealed class ParameterVector : IDisposable
{
    private readonly List<(string Name, Tensor Data)> _entries;

    private ParameterVector(List<(string, Tensor)> entries) { _entries = entries; }

    /// <summary>The parameter names, in order.</summary>
    public IReadOnlyList<string> Names => _entries.Select(e => e.Name).ToList();

    /// <summary>Number of coordinates Σ numel.</summary>
    public long Count => _entries.Sum(e => e.Data.numel());

    /// <summary>The tensor of parameter <paramref name="name"/> (by reference: in-place writes change this vector).</summary>
    /// <exception cref="KeyNotFoundException">No such parameter.</exception>
    public Tensor this[string name] => _entries.FirstOrDefault(e => e.Name == name).Data ?? throw new KeyNotFoundException($"ParameterVector: no parameter '{name}'; have {string.Join(", ", Names)}.");

    /// <summary>The shape of parameter <paramref name="name"/>.</summary>
    public IReadOnlyList<long> ShapeOf(string name) => this[name].shape;

    /// <summary>(name, shape, tensor) of every parameter, in order (tensors by reference).</summary>
    public IEnumerable<(string Name, IReadOnlyList<long> Shape, Tensor Data)> Entries => _entries.Select(e => (e.Name, (IReadOnlyList<long>)e.Data.shape, e.Data));

    /// <summary>
    /// A copy of the parameters of <paramref name="model"/> (all of them, or those whose name satisfies
    /// <paramref name="include"/>), in <c>named_parameters()</c> order, on their device.
    /// </summary>
    public static ParameterVector FromModel(nn.Module model, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var _ = no_grad();
        return new(model.named_parameters().Where(p => include is null || include(p.name))
            .Select(p => (p.name, p.parameter.detach().clone())).ToList());
    }

    /// <summary>A vector made of <paramref name="tensors"/> themselves (by reference, not copied), e.g. to build a direction by hand.</summary>
    /// <exception cref="ArgumentException">A repeated name.</exception>
    public static ParameterVector FromTensors(IEnumerable<(string Name, Tensor Data)> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var repeated = list.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
        if (repeated is not null) throw new ArgumentException($"ParameterVector.FromTensors: the name '{repeated.Key}' appears {repeated.Count()} times.");
        return new(list.Select(e => (e.Name, e.Data ?? throw new ArgumentException($"ParameterVector.FromTensors: '{e.Name}' has no tensor."))).ToList());
    }

    /// <summary>The parameters named like this vector's, read from a state dict (e.g. a rewind point), copied to this vector's devices and dtypes.</summary>
    /// <exception cref="ArgumentException">A name is missing from <paramref name="state"/> or has another shape.</exception>
    public static ParameterVector FromState(IReadOnlyDictionary<string, Tensor> state, ParameterVector like)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(like);
        using var _ = no_grad();
        return new(like._entries.Select(e =>
        {
            if (!state.TryGetValue(e.Name, out var t)) throw new ArgumentException($"ParameterVector.FromState: the state has no '{e.Name}'.");
            if (!t.shape.SequenceEqual(e.Data.shape)) throw new ArgumentException($"ParameterVector.FromState: '{e.Name}' has shape ({string.Join(", ", t.shape)}), expected ({string.Join(", ", e.Data.shape)}).");
            return (e.Name, t.detach().to(e.Data.dtype, e.Data.device).clone());
        }).ToList());
    }

    /// <summary>A vector of zeros shaped like this one (same devices and dtypes).</summary>
    public ParameterVector ZerosLike() => new(_entries.Select(e => (e.Name, zeros_like(e.Data))).ToList());

    /// <summary>A copy.</summary>
    public ParameterVector Clone()
    {
        using var _ = no_grad();
        return new(_entries.Select(e => (e.Name, e.Data.clone())).ToList());
    }

    /// <summary>
    /// The pruning masks of <paramref name="model"/> shaped like this vector (copies, in this vector's dtypes and devices):
    /// a parameter with a mask buffer gets it, others all ones. Null when the model has no masks.
    /// </summary>
    public ParameterVector? MaskOf(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var masks = PruningMask.All(model).ToDictionary(m => m.Name, m => m.Mask);
        if (masks.Count == 0) return null;
        using var _ = no_grad();
        return new(_entries.Select(e => (e.Name, masks.TryGetValue(e.Name, out var m)
            ? m.to(e.Data.dtype, e.Data.device).clone()
            : ones_like(e.Data))).ToList());
    }

    /// <summary>Writes the values into the parameters of <paramref name="model"/> with the same names (others untouched), across devices if need be.</summary>
    /// <exception cref="ArgumentException">A name the model lacks, or a shape that differs.</exception>
    public void CopyTo(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        using var _ = no_grad();
        foreach (var (name, data) in _entries)
        {
            if (!parameters.TryGetValue(name, out var p)) throw new ArgumentException($"ParameterVector.CopyTo: the model has no parameter '{name}'.");
            if (!p.shape.SequenceEqual(data.shape)) throw new ArgumentException($"ParameterVector.CopyTo: '{name}' has shape ({string.Join(", ", p.shape)}) in the model, ({string.Join(", ", data.shape)}) here.");
            p.copy_(data);
        }
    }

    /// <summary>Σ_i a_i·b_i, accumulated in float64.</summary>
    public double Dot(ParameterVector other)
    {
        CheckAligned(other);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        double s = 0;
        for (int e = 0; e < _entries.Count; e++)
        {
            var a = _entries[e].Data.flatten().to(ScalarType.Float64);                                    // (n,)
            var b = other._entries[e].Data.flatten().to(ScalarType.Float64, _entries[e].Data.device);     // (n,)
            s += a.dot(b).item<double>();
        }
        return s;
    }

    /// <summary>The Euclidean norm ‖·‖₂.</summary>
    public double Norm() => Math.Sqrt(Dot(this));

    /// <summary>this + <paramref name="scale"/>·other, in place (computed in float64, rounded once); returns this.</summary>
    public ParameterVector AddInPlace(ParameterVector other, double scale = 1)
    {
        CheckAligned(other);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int e = 0; e < _entries.Count; e++)
        {
            var a = _entries[e].Data;
            var b = other._entries[e].Data.to(ScalarType.Float64, a.device);
            a.copy_(a.to(ScalarType.Float64).add_(b, alpha: scale));
        }
        return this;
    }

    /// <summary>this·<paramref name="scale"/>, in place (computed in float64, rounded once); returns this.</summary>
    public ParameterVector ScaleInPlace(double scale)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (_, a) in _entries) a.copy_(a.to(ScalarType.Float64).mul_(scale));
        return this;
    }

    /// <summary>this ⊙ <paramref name="mask"/>, in place (coordinates where the mask is 0 become +0); returns this.</summary>
    public ParameterVector MultiplyInPlace(ParameterVector mask)
    {
        CheckAligned(mask);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int e = 0; e < _entries.Count; e++)
        {
            var a = _entries[e].Data;
            var m = mask._entries[e].Data.to(a.dtype, a.device);
            a.masked_fill_(m.eq(0), 0).mul_(m);
        }
        return this;
    }

    /// <summary>a + b.</summary>
    public static ParameterVector operator +(ParameterVector a, ParameterVector b) => a.Clone().AddInPlace(b);

    /// <summary>a − b.</summary>
    public static ParameterVector operator -(ParameterVector a, ParameterVector b) => a.Clone().AddInPlace(b, -1);

    /// <summary>s·v.</summary>
    public static ParameterVector operator *(double s, ParameterVector v) => v.Clone().ScaleInPlace(s);

    /// <summary>The same names restricted to those satisfying <paramref name="include"/> (tensors shared, not copied).</summary>
    public ParameterVector Where(Func<string, bool> include) => new(_entries.Where(e => include(e.Name)).ToList());

    /// <summary>Moves every tensor to the dispose scope outside the current one (TorchSharp's <c>MoveToOuterDisposeScope</c>); returns this.</summary>
    public ParameterVector MoveToOuterDisposeScope()
    {
        foreach (var (_, t) in _entries) t.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Takes every tensor out of dispose scopes (freed by <see cref="Dispose"/> or the garbage collector); returns this.</summary>
    public ParameterVector DetachFromDisposeScope()
    {
        foreach (var (_, t) in _entries) t.DetachFromDisposeScope();
        return this;
    }

    /// <summary>Frees the tensors now.</summary>
    public void Dispose()
    {
        foreach (var (_, t) in _entries) t.Dispose();
    }

    private void CheckAligned(ParameterVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._entries.Count != _entries.Count)
            throw new ArgumentException($"ParameterVector: {_entries.Count} parameters here, {other._entries.Count} in the other vector.");
        for (int e = 0; e < _entries.Count; e++)
            if (_entries[e].Name != other._entries[e].Name || !_entries[e].Data.shape.SequenceEqual(other._entries[e].Data.shape))
                throw new ArgumentException($"ParameterVector: parameter {e} is '{_entries[e].Name}' ({string.Join(", ", _entries[e].Data.shape)}) here, '{other._entries[e].Name}' ({string.Join(", ", other._entries[e].Data.shape)}) in the other vector.");
    }
}
