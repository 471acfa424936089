using Shrink.Pruning;
using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Landscape;

/// <summary>
/// A point or a direction in parameter space: an ordered list of named float arrays shaped like a model's parameters
/// (PyTorch's list of per-parameter tensors in loss-landscape code). Arithmetic accumulates in double precision.
/// <code>
/// var theta = ParameterVector.FromModel(model);
/// var d = RandomDirections.FilterNormalized(model, new Generator(1));
/// (theta + 0.5 * d).CopyTo(model);        // θ + 0.5·δ
/// </code>
/// </summary>
public sealed class ParameterVector
{
    private readonly List<(string Name, int[] Shape, float[] Data)> _entries;

    private ParameterVector(List<(string, int[], float[])> entries) { _entries = entries; }

    /// <summary>The parameter names, in order.</summary>
    public IReadOnlyList<string> Names => _entries.Select(e => e.Name).ToList();

    /// <summary>Number of coordinates Σ numel.</summary>
    public long Count => _entries.Sum(e => (long)e.Data.Length);

    /// <summary>The values of parameter <paramref name="name"/> (by reference: writes change this vector).</summary>
    /// <exception cref="KeyNotFoundException">No such parameter.</exception>
    public float[] this[string name] => _entries.FirstOrDefault(e => e.Name == name).Data ?? throw new KeyNotFoundException($"ParameterVector: no parameter '{name}'; have {string.Join(", ", Names)}.");

    /// <summary>The shape of parameter <paramref name="name"/>.</summary>
    public IReadOnlyList<int> ShapeOf(string name) => _entries.First(e => e.Name == name).Shape;

    /// <summary>(name, shape, values) of every parameter, in order (values by reference).</summary>
    public IEnumerable<(string Name, IReadOnlyList<int> Shape, float[] Data)> Entries => _entries.Select(e => (e.Name, (IReadOnlyList<int>)e.Shape, e.Data));

    /// <summary>
    /// A copy of the parameters of <paramref name="model"/> (all of them, or those whose name satisfies
    /// <paramref name="include"/>), in <see cref="Module.NamedParameters"/> order.
    /// </summary>
    public static ParameterVector FromModel(Module model, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new(model.NamedParameters().Where(p => include is null || include(p.Name))
            .Select(p => (p.Name, p.Parameter.Shape.ToArray(), p.Parameter.ToArray())).ToList());
    }

    /// <summary>The parameters named like this vector's, read from a state dict (e.g. a rewind point).</summary>
    /// <exception cref="ArgumentException">A name is missing from <paramref name="state"/> or has another shape.</exception>
    public static ParameterVector FromState(IReadOnlyDictionary<string, Tensor> state, ParameterVector like)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(like);
        return new(like._entries.Select(e =>
        {
            if (!state.TryGetValue(e.Name, out var t)) throw new ArgumentException($"ParameterVector.FromState: the state has no '{e.Name}'.");
            if (!t.Shape.SequenceEqual(e.Shape)) throw new ArgumentException($"ParameterVector.FromState: '{e.Name}' has shape ({string.Join(", ", t.Shape)}), expected ({string.Join(", ", e.Shape)}).");
            return (e.Name, e.Shape, t.ToArray());
        }).ToList());
    }

    /// <summary>A vector of zeros shaped like this one.</summary>
    public ParameterVector ZerosLike() => new(_entries.Select(e => (e.Name, e.Shape, new float[e.Data.Length])).ToList());

    /// <summary>A copy.</summary>
    public ParameterVector Clone() => new(_entries.Select(e => (e.Name, e.Shape, (float[])e.Data.Clone())).ToList());

    /// <summary>
    /// The pruning masks of <paramref name="model"/> shaped like this vector: a parameter with a mask buffer gets it,
    /// others all ones. Null when the model has no masks.
    /// </summary>
    public ParameterVector? MaskOf(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var masks = PruningMask.All(model).ToDictionary(m => m.Name, m => m.Mask);
        if (masks.Count == 0) return null;
        return new(_entries.Select(e => (e.Name, e.Shape, masks.TryGetValue(e.Name, out var m) ? m.ToArray() : Enumerable.Repeat(1f, e.Data.Length).ToArray())).ToList());
    }

    /// <summary>Writes the values into the parameters of <paramref name="model"/> with the same names (others untouched).</summary>
    public void CopyTo(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var _ = Tensor.NoGrad();
        foreach (var (name, shape, data) in _entries)
        {
            var p = model.GetParameter(name);
            if (!p.Shape.SequenceEqual(shape)) throw new ArgumentException($"ParameterVector.CopyTo: '{name}' has shape ({string.Join(", ", p.Shape)}) in the model, ({string.Join(", ", shape)}) here.");
            data.AsSpan().CopyTo(p.AsSpan());
        }
    }

    /// <summary>Σ_i a_i·b_i.</summary>
    public double Dot(ParameterVector other)
    {
        CheckAligned(other);
        double s = 0;
        for (int e = 0; e < _entries.Count; e++)
        {
            var a = _entries[e].Data; var b = other._entries[e].Data;
            for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        }
        return s;
    }

    /// <summary>The Euclidean norm ‖·‖₂.</summary>
    public double Norm() => Math.Sqrt(Dot(this));

    /// <summary>this + <paramref name="scale"/>·other, in place; returns this.</summary>
    public ParameterVector AddInPlace(ParameterVector other, double scale = 1)
    {
        CheckAligned(other);
        for (int e = 0; e < _entries.Count; e++)
        {
            var a = _entries[e].Data; var b = other._entries[e].Data;
            for (int i = 0; i < a.Length; i++) a[i] = (float)(a[i] + scale * b[i]);
        }
        return this;
    }

    /// <summary>this·<paramref name="scale"/>, in place; returns this.</summary>
    public ParameterVector ScaleInPlace(double scale)
    {
        foreach (var e in _entries) for (int i = 0; i < e.Data.Length; i++) e.Data[i] = (float)(e.Data[i] * scale);
        return this;
    }

    /// <summary>this ⊙ <paramref name="mask"/>, in place (zeroes the coordinates where the mask is 0); returns this.</summary>
    public ParameterVector MultiplyInPlace(ParameterVector mask)
    {
        CheckAligned(mask);
        for (int e = 0; e < _entries.Count; e++)
        {
            var a = _entries[e].Data; var m = mask._entries[e].Data;
            for (int i = 0; i < a.Length; i++) if (m[i] == 0f) a[i] = 0f; else a[i] *= m[i];
        }
        return this;
    }

    /// <summary>a + b.</summary>
    public static ParameterVector operator +(ParameterVector a, ParameterVector b) => a.Clone().AddInPlace(b);

    /// <summary>a − b.</summary>
    public static ParameterVector operator -(ParameterVector a, ParameterVector b) => a.Clone().AddInPlace(b, -1);

    /// <summary>s·v.</summary>
    public static ParameterVector operator *(double s, ParameterVector v) => v.Clone().ScaleInPlace(s);

    /// <summary>The same names restricted to those satisfying <paramref name="include"/> (values shared, not copied).</summary>
    public ParameterVector Where(Func<string, bool> include) => new(_entries.Where(e => include(e.Name)).ToList());

    private void CheckAligned(ParameterVector other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other._entries.Count != _entries.Count)
            throw new ArgumentException($"ParameterVector: {_entries.Count} parameters here, {other._entries.Count} in the other vector.");
        for (int e = 0; e < _entries.Count; e++)
            if (_entries[e].Name != other._entries[e].Name || _entries[e].Data.Length != other._entries[e].Data.Length)
                throw new ArgumentException($"ParameterVector: parameter {e} is '{_entries[e].Name}' ({_entries[e].Data.Length}) here, '{other._entries[e].Name}' ({other._entries[e].Data.Length}) in the other vector.");
    }
}
