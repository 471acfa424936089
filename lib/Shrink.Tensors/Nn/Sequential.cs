using System.Collections;

namespace Shrink.Tensors.Nn;

/// <summary>
/// A chain of tensor → tensor modules applied in order, y = fₙ(…f₂(f₁(x))) (PyTorch <c>nn.Sequential</c>).
/// Children are named "0", "1", … unless given names, so parameters read <c>0.weight</c>, <c>2.bias</c> as in PyTorch.
/// </summary>
public sealed class Sequential : Module<Tensor, Tensor>, IReadOnlyList<Module<Tensor, Tensor>>
{
    private readonly List<Module<Tensor, Tensor>> _layers = [];

    /// <summary>An empty chain (the identity); add layers with <see cref="Append(Module{Tensor, Tensor})"/>.</summary>
    public Sequential() { }

    /// <summary>A chain of <paramref name="modules"/> named "0", "1", ….</summary>
    public Sequential(params Module<Tensor, Tensor>[] modules)
    {
        foreach (var m in modules) Append(m);
    }

    /// <summary>A chain of named modules (PyTorch <c>nn.Sequential(OrderedDict(...))</c>).</summary>
    public Sequential(params (string Name, Module<Tensor, Tensor> Module)[] modules)
    {
        foreach (var (name, m) in modules) Append(name, m);
    }

    /// <summary>Adds <paramref name="module"/> at the end under the name <c>Count</c> ("0", "1", …); returns this chain.</summary>
    public Sequential Append(Module<Tensor, Tensor> module) => Append(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module);

    /// <summary>Adds <paramref name="module"/> at the end under <paramref name="name"/>; returns this chain.</summary>
    public Sequential Append(string name, Module<Tensor, Tensor> module)
    {
        ArgumentNullException.ThrowIfNull(module);
        _layers.Add(RegisterModule(name, module));
        return this;
    }

    /// <summary>The i-th layer.</summary>
    public Module<Tensor, Tensor> this[int index] => _layers[index];

    /// <summary>Number of layers.</summary>
    public int Count => _layers.Count;

    /// <summary>Applies the layers in order.</summary>
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        for (int i = 0; i < _layers.Count; i++) x = _layers[i].Forward(x);
        return x;
    }

    /// <inheritdoc/>
    public IEnumerator<Module<Tensor, Tensor>> GetEnumerator() => _layers.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
