using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Training;

/// <summary>
/// TorchSharp's AdamW or SGD over the model's trainable parameters in two groups (timm's <c>param_groups_weight_decay</c>):
/// parameters with ≥ 2 dimensions get <see cref="TrainingHparams.WeightDecay"/>, the others (biases, norm scales, 1-D
/// tokens) none when <see cref="TrainingHparams.NoDecayOn1D"/>. Its per-parameter state (AdamW: <c>step</c>,
/// <c>exp_avg</c>, <c>exp_avg_sq</c>; SGD: <c>momentum_buffer</c>) goes to and from checkpoint tensors named
/// <c>{parameter}.{slot}</c>, because TorchSharp's <c>state_dict()</c> holds live objects and its binary format is its own.
/// </summary>
internal sealed class TrainingOptimizer
{
    private TrainingOptimizer(optim.Optimizer optimizer, string[] names, Parameter[] parameters)
    {
        Optimizer = optimizer;
        Names = names;
        Parameters = parameters;
    }

    /// <summary>The TorchSharp optimiser.</summary>
    public optim.Optimizer Optimizer { get; }

    /// <summary>Parameter names in the optimiser's state order (decay group, then no-decay group).</summary>
    public string[] Names { get; }

    /// <summary>The parameters, in <see cref="Names"/> order.</summary>
    public Parameter[] Parameters { get; }

    /// <summary>Builds the optimiser of <paramref name="hp"/> over <paramref name="model"/>'s parameters that require gradients (the model is already on its device).</summary>
    public static TrainingOptimizer Create(nn.Module model, TrainingHparams hp)
    {
        var named = model.named_parameters().Where(p => p.parameter.requires_grad).ToArray();
        if (named.Length == 0) throw new ArgumentException("Trainer: the model has no trainable parameters.");
        var decay = named.Where(p => !hp.NoDecayOn1D || p.parameter.dim() > 1).ToArray();
        var noDecay = named.Where(p => hp.NoDecayOn1D && p.parameter.dim() <= 1).ToArray();
        var ordered = decay.Concat(noDecay).ToArray();
        optim.Optimizer optimizer;
        if (hp.Optimizer == "sgd")
        {
            var groups = new List<SGD.ParamGroup>();
            if (decay.Length > 0) groups.Add(new SGD.ParamGroup(decay.Select(p => p.parameter), hp.Lr, hp.Momentum, 0, hp.WeightDecay, hp.Nesterov));
            if (noDecay.Length > 0) groups.Add(new SGD.ParamGroup(noDecay.Select(p => p.parameter), hp.Lr, hp.Momentum, 0, 0, hp.Nesterov));
            optimizer = new SGD(groups, hp.Lr, hp.Momentum, 0, hp.WeightDecay, hp.Nesterov);
        }
        else
        {
            var groups = new List<AdamW.ParamGroup>();
            if (decay.Length > 0) groups.Add(new AdamW.ParamGroup(decay.Select(p => p.parameter), hp.Lr, hp.Beta1, hp.Beta2, hp.Eps, hp.WeightDecay));
            if (noDecay.Length > 0) groups.Add(new AdamW.ParamGroup(noDecay.Select(p => p.parameter), hp.Lr, hp.Beta1, hp.Beta2, hp.Eps, 0));
            optimizer = new AdamW(groups, hp.Lr, hp.Beta1, hp.Beta2, hp.Eps, hp.WeightDecay);
        }
        return new TrainingOptimizer(optimizer, ordered.Select(p => p.name).ToArray(), ordered.Select(p => p.parameter).ToArray());
    }

    /// <summary>
    /// The state as checkpoint tensors (<c>{name}.exp_avg</c>, <c>{name}.exp_avg_sq</c> / <c>{name}.momentum_buffer</c>;
    /// the live tensors, not copies) and the AdamW step count of every parameter in <see cref="Names"/> order (empty for SGD).
    /// </summary>
    public (Dictionary<string, Tensor> Tensors, long[] Steps) State()
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var states = ((OptimizerHelper)Optimizer).state_dict().State;
        var steps = new List<long>();
        for (int i = 0; i < Names.Length; i++)
        {
            switch (states[i])
            {
                case AdamW.State a:
                    tensors[Names[i] + ".exp_avg"] = a.exp_avg;
                    tensors[Names[i] + ".exp_avg_sq"] = a.exp_avg_sq;
                    steps.Add(a.step);
                    break;
                case SGD.State s:
                    if (s.momentum_buffer is not null) tensors[Names[i] + ".momentum_buffer"] = s.momentum_buffer;
                    break;
                default:
                    throw new InvalidOperationException($"Trainer: unexpected optimizer state {states[i].GetType().Name}.");
            }
        }
        return (tensors, steps.ToArray());
    }

    /// <summary>
    /// Restores the state written by <see cref="State"/>: copies into AdamW's moment tensors (on the parameters' device),
    /// sets the step counts, or installs SGD momentum buffers. Throws <see cref="ArgumentException"/> naming the tensor
    /// that is missing, unexpected or of the wrong shape.
    /// </summary>
    public void Load(IReadOnlyDictionary<string, Tensor> tensors, long[] steps)
    {
        var states = ((OptimizerHelper)Optimizer).state_dict().State;
        var used = new HashSet<string>(StringComparer.Ordinal);
        Tensor Get(string key, Parameter p, bool required)
        {
            if (!tensors.TryGetValue(key, out var t))
                return required ? throw new ArgumentException($"the optimizer tensor '{key}' is missing") : null!;
            if (!t.shape.SequenceEqual(p.shape))
                throw new ArgumentException($"the optimizer tensor '{key}' has shape ({string.Join(", ", t.shape)}), the parameter has ({string.Join(", ", p.shape)})");
            used.Add(key);
            return t;
        }
        bool adam = Optimizer is AdamW;
        if (adam && steps.Length != Names.Length)
            throw new ArgumentException($"the optimizer holds {steps.Length} step counts for {Names.Length} parameters");
        using (no_grad())
        {
            for (int i = 0; i < Names.Length; i++)
            {
                var p = Parameters[i];
                switch (states[i])
                {
                    case AdamW.State a:
                        if (steps[i] < 0) throw new ArgumentException($"the optimizer step count of '{Names[i]}' is {steps[i]}");
                        a.exp_avg.copy_(Get(Names[i] + ".exp_avg", p, true));
                        a.exp_avg_sq.copy_(Get(Names[i] + ".exp_avg_sq", p, true));
                        a.step = steps[i];
                        break;
                    case SGD.State s:
                        var m = Get(Names[i] + ".momentum_buffer", p, false);
                        s.momentum_buffer?.Dispose();
                        s.momentum_buffer = m is null ? null! : m.to(p.dtype, p.device, copy: true).detach().DetachFromDisposeScope();
                        break;
                }
            }
        }
        var extra = tensors.Keys.Where(k => !used.Contains(k)).ToArray();
        if (extra.Length > 0) throw new ArgumentException($"unexpected optimizer tensors [{string.Join(", ", extra.Take(5))}{(extra.Length > 5 ? ", …" : "")}]");
    }
}
