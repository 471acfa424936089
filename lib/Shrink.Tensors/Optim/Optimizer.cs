using System.Globalization;
using Shrink.Tensors.Nn;

namespace Shrink.Tensors.Optim;

/// <summary>
/// Base class of the optimisers (PyTorch <c>torch.optim.Optimizer</c>). Holds <see cref="ParamGroups"/> and per-parameter
/// state (step count and named state tensors such as <c>exp_avg</c>); <see cref="Step"/> updates every parameter that
/// requires grad and has a gradient, in place on its storage, allocating nothing after the first step.
/// Parameters are numbered globally in group order (0, 1, …) for <see cref="StateDict"/>.
/// </summary>
public abstract class Optimizer
{
    private readonly List<ParamGroup> _groups = [];
    private readonly List<ParamState?[]> _state = [];
    private readonly double _defaultWeightDecay;
    private double _lr;

    /// <summary>Per-parameter optimiser state: the number of steps taken and the state tensors named by <see cref="StateNames"/>.</summary>
    protected sealed class ParamState
    {
        internal ParamState(int slots) { Slots = new Tensor?[slots]; }

        /// <summary>Number of updates applied to this parameter (PyTorch <c>state['step']</c>).</summary>
        public int Step { get; set; }

        /// <summary>State tensors in <see cref="StateNames"/> order; null until the optimiser first creates them.</summary>
        public Tensor?[] Slots { get; }
    }

    /// <summary>Creates the optimiser over <paramref name="groups"/>; unspecified group lr / weight decay take these defaults.</summary>
    /// <exception cref="ArgumentException">No parameters, a parameter in two groups, or a negative lr / weight decay.</exception>
    protected Optimizer(IEnumerable<ParamGroup> groups, double lr, double weightDecay)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (!(lr >= 0)) throw new ArgumentException($"{GetType().Name}: lr must be ≥ 0, got {lr}.");
        if (!(weightDecay >= 0)) throw new ArgumentException($"{GetType().Name}: weight decay must be ≥ 0, got {weightDecay}.");
        _lr = lr; _defaultWeightDecay = weightDecay;
        foreach (var g in groups) AddParamGroup(g);
        if (_groups.Sum(g => g.Items.Length) == 0) throw new ArgumentException($"{GetType().Name}: got an empty parameter list.");
    }

    /// <summary>One group holding <paramref name="parameters"/> (for constructors taking a flat parameter list).</summary>
    protected static IEnumerable<ParamGroup> SingleGroup(IEnumerable<Parameter> parameters) => [new ParamGroup(parameters)];

    /// <summary>The parameter groups, in order.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>
    /// The optimiser-wide learning rate (the constructor's lr or the last value set). Setting it sets every group's
    /// <see cref="ParamGroup.Lr"/> to value × <see cref="ParamGroup.LrScale"/>; <see cref="LrSchedule.Apply"/> uses this.
    /// </summary>
    public double Lr
    {
        get => _lr;
        set
        {
            if (!(value >= 0)) throw new ArgumentException($"{GetType().Name}: lr must be ≥ 0, got {value}.");
            _lr = value;
            foreach (var g in _groups) g.Lr = value * g.LrScale;
        }
    }

    /// <summary>Adds a group (PyTorch <c>add_param_group</c>); its parameters must not be in another group.</summary>
    public void AddParamGroup(ParamGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.Attached) throw new ArgumentException($"{GetType().Name}: this ParamGroup already belongs to an optimiser.");
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var g in _groups) foreach (var p in g.Items) seen.Add(p);
        foreach (var p in group.Items)
            if (!seen.Add(p)) throw new ArgumentException($"{GetType().Name}: a parameter of shape {ShapeUtil.Format([.. p.Shape])} appears more than once in the parameter groups.");
        group.Attached = true;
        group.Lr = group.RequestedLr ?? _lr * group.LrScale;
        group.WeightDecay = group.RequestedWeightDecay ?? _defaultWeightDecay;
        _groups.Add(group);
        _state.Add(new ParamState?[group.Items.Length]);
    }

    /// <summary>Zeroes every parameter's gradient in place (kept allocated), or drops them with <paramref name="setToNone"/>.</summary>
    public void ZeroGrad(bool setToNone = false)
    {
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var items = _groups[gi].Items;
            for (int i = 0; i < items.Length; i++)
            {
                var p = items[i];
                if (p.Grad is null) continue;
                if (setToNone) p.Grad = null; else Module.ClearGrad(p.Grad);
            }
        }
    }

    /// <summary>
    /// Applies one update to every parameter with RequiresGrad and a non-null Grad (frozen parameters and those without a
    /// gradient are skipped and their step count does not advance).
    /// </summary>
    public void Step()
    {
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var group = _groups[gi];
            var items = group.Items;
            var states = _state[gi];
            for (int i = 0; i < items.Length; i++)
            {
                var p = items[i];
                var grad = p.Grad;
                if (!p.RequiresGrad || grad is null) continue;
                if (grad.Numel != p.Numel)
                    throw new InvalidOperationException($"{GetType().Name}.Step: gradient shape {ShapeUtil.Format([.. grad.Shape])} does not match parameter shape {ShapeUtil.Format([.. p.Shape])}.");
                var state = states[i] ??= new ParamState(StateNames.Count);
                if (!grad.IsContiguous) using (TensorScope.Suspend()) grad = grad.Dense();
                Update(group, p.AsSpan(), grad.AsSpan(), state, p);
            }
        }
    }

    /// <summary>Names of the per-parameter state tensors, in <see cref="ParamState.Slots"/> order (e.g. <c>exp_avg</c>).</summary>
    protected abstract IReadOnlyList<string> StateNames { get; }

    /// <summary>Whether <see cref="ParamState.Step"/> is part of the state (Adam-type: yes; SGD: no, as in PyTorch).</summary>
    protected virtual bool CountsSteps => true;

    /// <summary>Updates one parameter in place: <paramref name="param"/> is its storage, <paramref name="grad"/> its gradient.</summary>
    protected abstract void Update(ParamGroup group, Span<float> param, ReadOnlySpan<float> grad, ParamState state, Parameter parameter);

    /// <summary>Zeros shaped like <paramref name="p"/>, outside any scope (for state tensors).</summary>
    protected static Tensor StateZeros(Parameter p)
    {
        using (TensorScope.Suspend()) return Tensor.Zeros([.. p.Shape]);
    }

    /// <summary>Names of the optimiser-wide hyperparameters saved in the state dict as <c>defaults.{name}</c> (besides <c>lr</c>).</summary>
    protected abstract IReadOnlyList<string> HyperparameterNames { get; }

    /// <summary>Reads a hyperparameter named in <see cref="HyperparameterNames"/> (booleans as 0/1).</summary>
    protected abstract double GetHyperparameter(string name);

    /// <summary>Sets a hyperparameter while loading a state dict (never called for <see cref="IsStructural"/> ones).</summary>
    protected abstract void SetHyperparameter(string name, double value);

    /// <summary>True for hyperparameters that shape the state (e.g. amsgrad, nesterov): loading a state dict that differs in one is an error.</summary>
    protected virtual bool IsStructural(string name) => false;

    // ---------------------------------------------------------------- state dict

    private static string Key(params object[] parts) => string.Join(".", parts.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture)));

    /// <summary>
    /// A snapshot (copies) of the optimiser state with stable keys:
    /// <c>state.{i}.step</c> (0-d, when the optimiser counts steps) and <c>state.{i}.{name}</c> for each state tensor of
    /// parameter i (global index in group order; only parameters that have state); <c>param_groups.{g}.params</c> (the
    /// global indices, 1-d), <c>param_groups.{g}.lr</c>, <c>.weight_decay</c>, <c>.lr_scale</c>; <c>defaults.lr</c> and
    /// <c>defaults.{hyperparameter}</c>. Scalars are 0-d float32 tensors (step counts are exact up to 2²⁴).
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        using var _ = TensorScope.Suspend();
        var d = new Dictionary<string, Tensor>();
        int index = 0;
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var g = _groups[gi];
            var ids = new float[g.Items.Length];
            for (int i = 0; i < ids.Length; i++) ids[i] = index + i;
            d[Key("param_groups", gi, "params")] = Tensor.FromArray(ids, ids.Length);
            d[Key("param_groups", gi, "lr")] = Tensor.Scalar((float)g.Lr);
            d[Key("param_groups", gi, "weight_decay")] = Tensor.Scalar((float)g.WeightDecay);
            d[Key("param_groups", gi, "lr_scale")] = Tensor.Scalar((float)g.LrScale);
            index += g.Items.Length;
        }
        d[Key("defaults", "lr")] = Tensor.Scalar((float)_lr);
        foreach (var name in HyperparameterNames) d[Key("defaults", name)] = Tensor.Scalar((float)GetHyperparameter(name));
        index = 0;
        for (int gi = 0; gi < _groups.Count; gi++)
        {
            var states = _state[gi];
            for (int i = 0; i < states.Length; i++, index++)
            {
                if (states[i] is not { } s) continue;
                if (CountsSteps) d[Key("state", index, "step")] = Tensor.Scalar(s.Step);
                for (int k = 0; k < s.Slots.Length; k++)
                    if (s.Slots[k] is { } t) d[Key("state", index, StateNames[k])] = Tensor.FromArray(t.AsSpan(), [.. t.Shape]);
            }
        }
        return d;
    }

    /// <summary>
    /// Replaces the optimiser state with <paramref name="state"/> (from <see cref="StateDict"/>), copying the tensors, so
    /// training resumes bit-identically. Parameters without entries start fresh. Scalar hyperparameters are float32 in the
    /// dict: a current value that rounds to the stored float is kept (so exact doubles survive a round trip); any other is
    /// replaced by the stored value.
    /// </summary>
    /// <exception cref="ArgumentException">The group layout differs, a key is unknown, or a tensor has the wrong shape; nothing is changed.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var errors = new List<string>();
        var paramsByIndex = _groups.SelectMany(g => g.Items).ToArray();
        var newState = _groups.Select(g => new ParamState?[g.Items.Length]).ToList();
        var locate = new List<(int Group, int Item)>();
        for (int gi = 0; gi < _groups.Count; gi++) for (int i = 0; i < _groups[gi].Items.Length; i++) locate.Add((gi, i));
        var scalarSetters = new List<Action>();

        void Scalar(string key, Tensor t, double current, Action<double> set)
        {
            if (t.Numel != 1) { errors.Add($"{key}: expected one value, got shape {ShapeUtil.Format([.. t.Shape])}"); return; }
            float stored = t.ToArray()[0];
            if ((float)current != stored) scalarSetters.Add(() => set(stored));
        }

        int seenGroups = 0;
        foreach (var (key, t) in state)
        {
            var parts = key.Split('.');
            if (parts.Length == 3 && parts[0] == "param_groups" && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int gi) && gi >= 0 && gi < _groups.Count)
            {
                var g = _groups[gi];
                switch (parts[2])
                {
                    case "params":
                        seenGroups++;
                        int start = _groups.Take(gi).Sum(x => x.Items.Length);
                        var ids = t.ToArray();
                        if (ids.Length != g.Items.Length || ids.Select((v, i) => v != start + i).Any(b => b))
                            errors.Add($"{key}: the saved group holds {ids.Length} parameters, this optimiser's group {gi} holds {g.Items.Length} (indices {start}…{start + g.Items.Length - 1})");
                        break;
                    case "lr": Scalar(key, t, g.Lr, v => g.Lr = v); break;
                    case "weight_decay": Scalar(key, t, g.WeightDecay, v => g.WeightDecay = v); break;
                    case "lr_scale": Scalar(key, t, g.LrScale, v => g.LrScale = v); break;
                    default: errors.Add($"unexpected key {key}"); break;
                }
            }
            else if (parts.Length == 2 && parts[0] == "defaults")
            {
                if (parts[1] == "lr") Scalar(key, t, _lr, v => _lr = v);
                else if (HyperparameterNames.Contains(parts[1]))
                {
                    var n = parts[1];
                    double current = GetHyperparameter(n);
                    if (IsStructural(n) && t.Numel == 1 && (float)current != t.ToArray()[0])
                        errors.Add($"{key}: the state dict was saved with {n} = {t.ToArray()[0]}, this optimiser has {current}");
                    else Scalar(key, t, current, v => SetHyperparameter(n, v));
                }
                else errors.Add($"unexpected key {key}");
            }
            else if (parts.Length == 3 && parts[0] == "state" && int.TryParse(parts[1], CultureInfo.InvariantCulture, out int pi) && pi >= 0 && pi < paramsByIndex.Length)
            {
                var (g, i) = locate[pi];
                var p = paramsByIndex[pi];
                var s = newState[g][i] ??= new ParamState(StateNames.Count);
                int slot = -1;
                for (int k = 0; k < StateNames.Count; k++) if (StateNames[k] == parts[2]) slot = k;
                if (parts[2] == "step" && CountsSteps)
                {
                    if (t.Numel != 1) errors.Add($"{key}: expected one value, got shape {ShapeUtil.Format([.. t.Shape])}");
                    else s.Step = checked((int)t.ToArray()[0]);
                }
                else if (slot < 0) errors.Add($"unexpected key {key}");
                else if (!t.Shape.SequenceEqual(p.Shape))
                    errors.Add($"size mismatch for {key}: the state dict holds shape {ShapeUtil.Format([.. t.Shape])}, parameter {pi} has shape {ShapeUtil.Format([.. p.Shape])}");
                else
                {
                    var copy = StateZeros(p);
                    copy.CopyFrom(t);
                    s.Slots[slot] = copy;
                }
            }
            else errors.Add($"unexpected key {key}");
        }
        if (seenGroups != 0 && seenGroups != _groups.Count)
            errors.Add($"the state dict describes {seenGroups} parameter groups, this optimiser has {_groups.Count}");
        if (errors.Count > 0)
            throw new ArgumentException($"Error(s) in loading the state dict of {GetType().Name}:\n\t" + string.Join("\n\t", errors));
        foreach (var set in scalarSetters) set();
        for (int gi = 0; gi < _groups.Count; gi++) _state[gi] = newState[gi];
    }
}
