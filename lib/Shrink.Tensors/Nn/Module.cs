using System.Text;

namespace Shrink.Tensors.Nn;

/// <summary>
/// Base class of every layer and model (PyTorch <c>nn.Module</c>). A module owns named parameters, named buffers
/// and named child modules, registered explicitly in its constructor with <see cref="RegisterParameter(string, Tensor, bool)"/>,
/// <see cref="RegisterBuffer"/> and <see cref="RegisterModule{T}"/>. Names nest with dots exactly as in PyTorch
/// (<c>blocks.0.attn.qkv.weight</c>), so a <see cref="StateDict"/> moves to and from PyTorch/timm checkpoints
/// with no mapping table.
/// <code>
/// sealed class Mlp : Module&lt;Tensor, Tensor&gt;
/// {
///     public readonly Linear Fc1, Fc2;
///     public Mlp(int d, int h) { Fc1 = RegisterModule("fc1", new Linear(d, h)); Fc2 = RegisterModule("fc2", new Linear(h, d)); }
///     public override Tensor Forward(Tensor x) => Fc2.Forward(Fc1.Forward(x).Gelu());
/// }
/// </code>
/// Registration order is the order of <see cref="NamedParameters"/>, <see cref="NamedChildren"/> and
/// <see cref="StateDict"/>. A slot may hold null (a layer built with <c>bias: false</c> registers a null
/// <c>bias</c>): null slots are skipped everywhere, as in PyTorch.
/// </summary>
public abstract class Module
{
    private readonly OrderedDictionary<string, Parameter?> _parameters = new();
    private readonly OrderedDictionary<string, (Tensor Tensor, bool Persistent)> _buffers = new();
    private readonly OrderedDictionary<string, Module?> _modules = new();

    /// <summary>True in training mode (the default), false in evaluation mode; changed with <see cref="Train"/> / <see cref="Eval"/>.
    /// Layers such as Dropout and BatchNorm read it.</summary>
    public bool Training { get; private set; } = true;

    // ---------------------------------------------------------------- registration

    /// <summary>
    /// Registers <paramref name="data"/> as the parameter <paramref name="name"/> and returns it as a
    /// <see cref="Parameter"/> that shares <paramref name="data"/>'s storage (PyTorch <c>nn.Parameter(data)</c>).
    /// When called inside a <see cref="TensorScope"/>, or with a non-contiguous view, the data is first copied into
    /// garbage-collected storage so the parameter lives as long as the module.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty, contains '.', or is already used by a parameter, buffer or child.</exception>
    protected Parameter RegisterParameter(string name, Tensor data, bool requiresGrad = true)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckName(name);
        Parameter p;
        bool scoped = TensorScope.Current is not null;
        using (TensorScope.Suspend())
            p = data is Parameter existing ? existing : new Parameter(OwnedCopyIfNeeded(data, scoped), requiresGrad);
        if (data is Parameter) p.RequiresGrad = requiresGrad;
        _parameters.Add(name, p);
        return p;
    }

    /// <summary>
    /// Registers an existing <see cref="Parameter"/> (shared, not copied), or a null slot (e.g. <c>bias</c> of a layer built
    /// with <c>bias: false</c>), under <paramref name="name"/> (PyTorch <c>register_parameter(name, param)</c>).
    /// </summary>
    protected Parameter? RegisterParameter(string name, Parameter? parameter)
    {
        CheckName(name);
        _parameters.Add(name, parameter);
        return parameter;
    }

    /// <summary>
    /// Registers a buffer: a tensor that belongs to the module's state but is not trained (BatchNorm running
    /// statistics, pruning masks). Persistent buffers go into <see cref="StateDict"/>; non-persistent ones do not.
    /// Returns the stored tensor, which is <paramref name="data"/> itself unless it had to be copied out of a
    /// <see cref="TensorScope"/> (or made contiguous). Public as PyTorch's <c>register_buffer</c>, so that code outside
    /// a layer can attach state to it (a pruning mask <c>weight_mask</c> next to <c>weight</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty, contains '.', or is already used by a parameter, buffer or child.</exception>
    public Tensor RegisterBuffer(string name, Tensor data, bool persistent = true)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckName(name);
        Tensor t;
        bool scoped = TensorScope.Current is not null;
        using (TensorScope.Suspend()) t = OwnedCopyIfNeeded(data, scoped);
        _buffers.Add(name, (t, persistent));
        return t;
    }

    /// <summary>True when this module (not a descendant) has a buffer named <paramref name="name"/>.</summary>
    public bool HasBuffer(string name) => _buffers.ContainsKey(name);

    /// <summary>
    /// Removes this module's own buffer <paramref name="name"/> (PyTorch <c>del module.name</c>); returns false when there is none.
    /// </summary>
    public bool RemoveBuffer(string name) => _buffers.Remove(name);

    /// <summary>Registers <paramref name="module"/> as the child <paramref name="name"/> and returns it (PyTorch <c>add_module</c>).</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module?
    {
        CheckName(name);
        if (ReferenceEquals(module, this)) throw new ArgumentException($"RegisterModule: a module cannot be its own child ('{name}').");
        _modules.Add(name, module);
        return module;
    }

    private void CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0) throw new ArgumentException($"{GetType().Name}: a parameter, buffer or module name must not be empty.");
        if (name.Contains('.')) throw new ArgumentException($"{GetType().Name}: name '{name}' must not contain '.' (dots separate nested names).");
        if (_parameters.ContainsKey(name) || _buffers.ContainsKey(name) || _modules.ContainsKey(name))
            throw new ArgumentException($"{GetType().Name}: name '{name}' is already registered.");
    }

    /// <summary>The tensor itself when it is contiguous and no scope was active; else a garbage-collected copy. Call under Suspend.</summary>
    private static Tensor OwnedCopyIfNeeded(Tensor data, bool scoped)
    {
        if (!scoped && data.IsContiguous && data is not Parameter) return data;
        var copy = Tensor.Empty([.. data.Shape]);
        copy.CopyFrom(data);
        return copy;
    }

    // ---------------------------------------------------------------- traversal

    /// <summary>This module's own parameters (non-null), in registration order, without the children's.</summary>
    private IEnumerable<KeyValuePair<string, Parameter>> OwnParameters()
    {
        foreach (var kv in _parameters) if (kv.Value is not null) yield return new(kv.Key, kv.Value);
    }

    /// <summary>
    /// (dotted name, parameter) for this module and, when <paramref name="recurse"/>, every descendant: each module's own
    /// parameters in registration order, then its children's, depth first (PyTorch <c>named_parameters()</c>).
    /// A parameter shared by two modules is listed once, under its first name.
    /// </summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(bool recurse = true)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in recurse ? NamedModules() : Self())
            foreach (var kv in m.OwnParameters())
                if (seen.Add(kv.Value)) yield return (Join(prefix, kv.Key), kv.Value);
    }

    /// <summary>Every parameter of this module and its descendants, in <see cref="NamedParameters"/> order (PyTorch <c>parameters()</c>).</summary>
    public IEnumerable<Parameter> Parameters(bool recurse = true)
    {
        foreach (var (_, p) in NamedParameters(recurse)) yield return p;
    }

    /// <summary>(dotted name, buffer) for every non-null buffer, persistent or not, in the order of <see cref="NamedParameters"/> (PyTorch <c>named_buffers()</c>).</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(bool recurse = true)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (prefix, m) in recurse ? NamedModules() : Self())
            foreach (var kv in m._buffers)
                if (kv.Value.Tensor is { } t && seen.Add(t)) yield return (Join(prefix, kv.Key), t);
    }

    /// <summary>Every buffer of this module and its descendants (PyTorch <c>buffers()</c>).</summary>
    public IEnumerable<Tensor> Buffers(bool recurse = true)
    {
        foreach (var (_, b) in NamedBuffers(recurse)) yield return b;
    }

    /// <summary>(name, module) for the direct children, in registration order (PyTorch <c>named_children()</c>).</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren()
    {
        foreach (var kv in _modules) if (kv.Value is not null) yield return (kv.Key, kv.Value);
    }

    /// <summary>The direct children (PyTorch <c>children()</c>).</summary>
    public IEnumerable<Module> Children()
    {
        foreach (var (_, m) in NamedChildren()) yield return m;
    }

    /// <summary>
    /// (dotted name, module) for this module (name "") and all descendants, depth first in registration order
    /// (PyTorch <c>named_modules()</c>); a module reachable twice is listed once.
    /// </summary>
    public IEnumerable<(string Name, Module Module)> NamedModules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(string, Module)>();
        stack.Push(("", this));
        while (stack.Count > 0)
        {
            var (name, m) = stack.Pop();
            if (!seen.Add(m)) continue;
            yield return (name, m);
            for (int i = m._modules.Count - 1; i >= 0; i--)
            {
                var (childName, child) = m._modules.GetAt(i);
                if (child is not null) stack.Push((Join(name, childName), child));
            }
        }
    }

    /// <summary>This module and all descendants (PyTorch <c>modules()</c>).</summary>
    public IEnumerable<Module> Modules()
    {
        foreach (var (_, m) in NamedModules()) yield return m;
    }

    /// <summary>The descendant at a dotted path such as <c>blocks.0.attn</c>; "" is this module (PyTorch <c>get_submodule</c>).</summary>
    /// <exception cref="ArgumentException">No module at that path; the message names the missing part.</exception>
    public Module GetSubmodule(string target)
    {
        var m = this;
        if (target.Length == 0) return m;
        foreach (var part in target.Split('.'))
        {
            if (!m._modules.TryGetValue(part, out var child) || child is null)
                throw new ArgumentException($"GetSubmodule: {m.GetType().Name} has no child '{part}' (path '{target}').");
            m = child;
        }
        return m;
    }

    /// <summary>The parameter at a dotted path such as <c>blocks.0.attn.qkv.weight</c> (PyTorch <c>get_parameter</c>).</summary>
    /// <exception cref="ArgumentException">No parameter at that path.</exception>
    public Parameter GetParameter(string target)
    {
        int dot = target.LastIndexOf('.');
        var owner = dot < 0 ? this : GetSubmodule(target[..dot]);
        var name = dot < 0 ? target : target[(dot + 1)..];
        if (!owner._parameters.TryGetValue(name, out var p) || p is null)
            throw new ArgumentException($"GetParameter: {owner.GetType().Name} has no parameter '{name}' (path '{target}').");
        return p;
    }

    /// <summary>The buffer at a dotted path such as <c>bn.running_mean</c> (PyTorch <c>get_buffer</c>).</summary>
    /// <exception cref="ArgumentException">No buffer at that path.</exception>
    public Tensor GetBuffer(string target)
    {
        int dot = target.LastIndexOf('.');
        var owner = dot < 0 ? this : GetSubmodule(target[..dot]);
        var name = dot < 0 ? target : target[(dot + 1)..];
        if (!owner._buffers.TryGetValue(name, out var b))
            throw new ArgumentException($"GetBuffer: {owner.GetType().Name} has no buffer '{name}' (path '{target}').");
        return b.Tensor;
    }

    private IEnumerable<(string Name, Module Module)> Self() { yield return ("", this); }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    // ---------------------------------------------------------------- modes, gradients, freezing

    /// <summary>Sets training mode (<paramref name="mode"/> = true) or evaluation mode on this module and every descendant (PyTorch <c>train(mode)</c>).</summary>
    public Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var kv in _modules) kv.Value?.Train(mode);
        return this;
    }

    /// <summary>Evaluation mode on this module and every descendant: <c>Train(false)</c> (PyTorch <c>eval()</c>).</summary>
    public Module Eval() => Train(false);

    /// <summary>
    /// Zeroes the gradient of every parameter in place (the Grad tensors are kept, so a steady training loop does not
    /// allocate). With <paramref name="setToNone"/> the gradients are dropped instead (PyTorch's default since 2.0).
    /// </summary>
    public void ZeroGrad(bool setToNone = false)
    {
        for (int i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters.GetAt(i).Value;
            if (p?.Grad is null) continue;
            if (setToNone) p.Grad = null; else ClearGrad(p.Grad);
        }
        for (int i = 0; i < _modules.Count; i++) _modules.GetAt(i).Value?.ZeroGrad(setToNone);
    }

    /// <summary>Zeroes a gradient in place without allocating (Tensor.Zero_ allocates a closure on every call).</summary>
    internal static void ClearGrad(Tensor grad)
    {
        if (grad.IsContiguous) grad.AsSpan().Clear();
        else grad.Zero_();
    }

    /// <summary>Stops gradients to every parameter (RequiresGrad = false), so optimisers skip them (PyTorch <c>requires_grad_(False)</c>).</summary>
    public Module Freeze() => SetRequiresGrad(false, _ => true);

    /// <summary>Freezes the parameters whose dotted name satisfies <paramref name="where"/>, e.g. <c>n => n.StartsWith("patch_embed.")</c>.</summary>
    public Module Freeze(Func<string, bool> where) => SetRequiresGrad(false, where);

    /// <summary>Makes every parameter trainable again (RequiresGrad = true).</summary>
    public Module Unfreeze() => SetRequiresGrad(true, _ => true);

    /// <summary>Makes trainable the parameters whose dotted name satisfies <paramref name="where"/>.</summary>
    public Module Unfreeze(Func<string, bool> where) => SetRequiresGrad(true, where);

    private Module SetRequiresGrad(bool value, Func<string, bool> where)
    {
        foreach (var (name, p) in NamedParameters()) if (where(name)) p.RequiresGrad = value;
        return this;
    }

    /// <summary>Calls <paramref name="fn"/> on every descendant (children first, depth first) and then on this module (PyTorch <c>apply</c>); e.g. custom initialisation.</summary>
    public Module Apply(Action<Module> fn)
    {
        foreach (var kv in _modules) kv.Value?.Apply(fn);
        fn(this);
        return this;
    }

    /// <summary>Number of parameter elements Σ numel(p) (each shared parameter once); with <paramref name="trainableOnly"/>, only those with RequiresGrad.</summary>
    public long ParameterCount(bool trainableOnly = false)
    {
        long n = 0;
        foreach (var p in Parameters()) if (!trainableOnly || p.RequiresGrad) n += p.Numel;
        return n;
    }

    // ---------------------------------------------------------------- state dict

    /// <summary>
    /// The module's state as an ordered name → tensor map with PyTorch's names and order: for each module depth first,
    /// its parameters, then its persistent buffers, then its children's entries (<c>0.weight</c>, <c>0.bias</c>,
    /// <c>blocks.1.norm1.weight</c>, …). Shared parameters appear under every name, as in PyTorch.
    /// The tensors share storage with the module (detached, as PyTorch's <c>state_dict()</c>) unless
    /// <paramref name="clone"/> is true, which returns independent copies (a snapshot, e.g. a lottery-ticket rewind point).
    /// </summary>
    public Dictionary<string, Tensor> StateDict(bool clone = false)
    {
        var result = new Dictionary<string, Tensor>();
        using var _ = TensorScope.Suspend();
        CollectState(result, "", clone, new HashSet<Module>(ReferenceEqualityComparer.Instance));
        return result;
    }

    private void CollectState(Dictionary<string, Tensor> into, string prefix, bool clone, HashSet<Module> visiting)
    {
        if (!visiting.Add(this)) throw new InvalidOperationException($"StateDict: module cycle at '{prefix}'.");
        foreach (var kv in _parameters)
            if (kv.Value is { } p) into[Join(prefix, kv.Key)] = Snapshot(p, clone);
        foreach (var kv in _buffers)
            if (kv.Value.Persistent && kv.Value.Tensor is { } b) into[Join(prefix, kv.Key)] = Snapshot(b, clone);
        foreach (var kv in _modules)
            kv.Value?.CollectState(into, Join(prefix, kv.Key), clone, visiting);
        visiting.Remove(this);
    }

    private static Tensor Snapshot(Tensor t, bool clone)
    {
        if (!clone) return t.Detach();
        var c = Tensor.Empty([.. t.Shape]);
        c.CopyFrom(t);
        return c;
    }

    /// <summary>The tensors (by reference) a state dict is loaded into: parameters and persistent buffers, keyed like <see cref="StateDict"/>.</summary>
    private Dictionary<string, Tensor> StateTargets()
    {
        var targets = new Dictionary<string, Tensor>();
        foreach (var (prefix, m) in NamedModulesAll())
        {
            foreach (var kv in m._parameters) if (kv.Value is { } p) targets[Join(prefix, kv.Key)] = p;
            foreach (var kv in m._buffers) if (kv.Value.Persistent && kv.Value.Tensor is { } b) targets[Join(prefix, kv.Key)] = b;
        }
        return targets;
    }

    /// <summary>Every (prefix, module) pair, including a module reachable under two names (state dicts list shared modules twice).</summary>
    private IEnumerable<(string, Module)> NamedModulesAll()
    {
        var stack = new Stack<(string, Module, int)>();
        stack.Push(("", this, 0));
        while (stack.Count > 0)
        {
            var (name, m, depth) = stack.Pop();
            if (depth > 1000) throw new InvalidOperationException($"LoadStateDict: module cycle at '{name}'.");
            yield return (name, m);
            for (int i = m._modules.Count - 1; i >= 0; i--)
            {
                var (childName, child) = m._modules.GetAt(i);
                if (child is not null) stack.Push((Join(name, childName), child, depth + 1));
            }
        }
    }

    /// <summary>
    /// Copies <paramref name="state"/> into this module's parameters and persistent buffers in place (PyTorch
    /// <c>load_state_dict</c>): the tensors keep their identity, so optimisers holding them stay valid.
    /// Returns the keys the module has but <paramref name="state"/> lacks (missing) and the keys <paramref name="state"/>
    /// has but the module does not (unexpected). Everything is checked before anything is copied.
    /// </summary>
    /// <exception cref="ArgumentException">A value's shape differs from the module's (the message names the key and both
    /// shapes), or <paramref name="strict"/> is true and some keys are missing or unexpected (the message lists them).</exception>
    public (IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys) LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var targets = StateTargets();
        var missing = targets.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        var errors = new List<string>();
        foreach (var (key, target) in targets)
        {
            if (!state.TryGetValue(key, out var source)) continue;
            if (!target.Shape.SequenceEqual(source.Shape))
                errors.Add($"size mismatch for {key}: copying a tensor of shape {ShapeUtil.Format([.. source.Shape])} from the state dict, the shape in the current model is {ShapeUtil.Format([.. target.Shape])}");
        }
        if (strict)
        {
            if (missing.Count > 0) errors.Insert(0, "Missing key(s) in state_dict: " + string.Join(", ", missing.Select(k => $"\"{k}\"")) + ".");
            if (unexpected.Count > 0) errors.Insert(missing.Count > 0 ? 1 : 0, "Unexpected key(s) in state_dict: " + string.Join(", ", unexpected.Select(k => $"\"{k}\"")) + ".");
        }
        if (errors.Count > 0)
            throw new ArgumentException($"Error(s) in loading state_dict for {DisplayName}:\n\t" + string.Join("\n\t", errors));
        foreach (var (key, target) in targets)
            if (state.TryGetValue(key, out var source) && !ReferenceEquals(source, target)) target.CopyFrom(source);
        return (missing, unexpected);
    }

    // ---------------------------------------------------------------- printing

    /// <summary>The type name without generic arity, used by <see cref="ToString"/> (e.g. <c>ModuleList</c>).</summary>
    protected string DisplayName
    {
        get { var n = GetType().Name; int i = n.IndexOf('`'); return i < 0 ? n : n[..i]; }
    }

    /// <summary>The module's own settings for <see cref="ToString"/>, e.g. <c>in_features=4, out_features=2, bias=True</c> (PyTorch <c>extra_repr</c>).</summary>
    public virtual string ExtraRepr() => "";

    /// <summary>The lines of the children part of the tree; <see cref="ModuleList{T}"/> merges runs of identical children as PyTorch does.</summary>
    private protected virtual IEnumerable<string> ChildReprLines()
    {
        foreach (var (name, child) in NamedChildren()) yield return $"({name}): {Indent(child.ToString())}";
    }

    private protected static string Indent(string s) => s.Replace("\n", "\n  ");

    /// <summary>
    /// A tree like PyTorch's module repr:
    /// <code>
    /// Sequential(
    ///   (0): Linear(in_features=2, out_features=8, bias=True)
    ///   (1): Gelu(approximate='none')
    /// )
    /// </code>
    /// </summary>
    public override string ToString()
    {
        var extra = ExtraRepr();
        var extraLines = extra.Length > 0 ? extra.Split('\n') : [];
        var childLines = ChildReprLines().ToList();
        if (extraLines.Length == 0 && childLines.Count == 0) return DisplayName + "()";
        if (extraLines.Length == 1 && childLines.Count == 0) return $"{DisplayName}({extra})";
        var sb = new StringBuilder(DisplayName).Append('(');
        foreach (var line in extraLines.Concat(childLines)) sb.Append("\n  ").Append(line);
        return sb.Append("\n)").ToString();
    }
}

/// <summary>
/// A module with a typed forward pass: <c>TOut Forward(TIn input)</c> (PyTorch <c>forward</c>). Layers that take one
/// tensor are <c>Module&lt;Tensor, Tensor&gt;</c> and compose in <see cref="Sequential"/>.
/// </summary>
public abstract class Module<TIn, TOut> : Module
{
    /// <summary>Computes the module's output from <paramref name="input"/>.</summary>
    public abstract TOut Forward(TIn input);

    /// <summary>Same as <see cref="Forward"/> (PyTorch's <c>module(x)</c>).</summary>
    public TOut Call(TIn input) => Forward(input);
}
