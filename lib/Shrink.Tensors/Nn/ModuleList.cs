using System.Collections;
using System.Globalization;

namespace Shrink.Tensors.Nn;

/// <summary>
/// An indexable list of child modules named "0", "1", … (PyTorch <c>nn.ModuleList</c>), typed so that
/// <c>blocks[i].Forward(x)</c> needs no cast; a ViT keeps its blocks as <c>ModuleList&lt;Block&gt;</c>, giving
/// <c>blocks.0.attn.qkv.weight</c>. It has no forward pass of its own.
/// </summary>
public class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    private readonly List<T> _items = [];

    /// <summary>An empty list.</summary>
    public ModuleList() { }

    /// <summary>A list holding <paramref name="modules"/> in order.</summary>
    public ModuleList(IEnumerable<T> modules)
    {
        foreach (var m in modules) Add(m);
    }

    /// <summary>Appends <paramref name="module"/> under the name <c>Count</c>.</summary>
    public void Add(T module)
    {
        ArgumentNullException.ThrowIfNull(module);
        _items.Add(RegisterModule(_items.Count.ToString(CultureInfo.InvariantCulture), module));
    }

    /// <summary>The i-th module.</summary>
    public T this[int index] => _items[index];

    /// <summary>Number of modules.</summary>
    public int Count => _items.Count;

    /// <inheritdoc/>
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>As PyTorch's ModuleList repr: runs of children with identical reprs print once, as <c>(0-11): 12 x Block(...)</c>.</summary>
    private protected override IEnumerable<string> ChildReprLines()
    {
        int i = 0;
        while (i < _items.Count)
        {
            var repr = _items[i].ToString();
            int j = i + 1;
            while (j < _items.Count && _items[j].ToString() == repr) j++;
            yield return j - i == 1 ? $"({i}): {Indent(repr)}" : $"({i}-{j - 1}): {j - i} x {Indent(repr)}";
            i = j;
        }
    }
}

/// <summary>A list of modules of any type (PyTorch <c>nn.ModuleList</c>); see <see cref="ModuleList{T}"/>.</summary>
public sealed class ModuleList : ModuleList<Module>
{
    /// <summary>An empty list.</summary>
    public ModuleList() { }

    /// <summary>A list holding <paramref name="modules"/> in order.</summary>
    public ModuleList(IEnumerable<Module> modules) : base(modules) { }
}
