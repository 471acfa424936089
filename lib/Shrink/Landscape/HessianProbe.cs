using Shrink.Models;
using Shrink.Pruning;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// Hessian quantities of a loss L(θ) from exact Hessian-vector products, as PyHessian (Yao et al. 2020) computes them:
/// the top eigenvalue by power iteration and the trace by Hutchinson's estimator, restricted to a set of parameters and
/// to their unpruned coordinates.
/// <para>
/// <b>Hessian-vector product</b> by double backward (Pearlmutter 1994): g = ∇L(θ) with the graph kept
/// (<c>torch.autograd.grad(L, θ, create_graph: true, retain_graph: true)</c>), then Hv = ∇_θ (g·v), the gradient of the
/// scalar g·v. This is exact up to float rounding — no step size. Attention switches to its explicit softmax path while a
/// product runs (the fused kernels have no double backward, see <see cref="VisionTransformer"/>'s
/// <c>FusedAttention</c>). Inputs are validated before autograd runs (an error inside <c>autograd.grad</c> aborts the
/// process in TorchSharp): the loss must be a one-element tensor on the autograd tape, the vector must have the selected
/// parameters' names and shapes. Frozen parameters (<c>requires_grad</c> false) and parameters the loss does not use get
/// zero rows.
/// </para>
/// <para>
/// <b>Restriction.</b> Let S be the chosen parameters (all by default) and P the diagonal 0/1 projection onto their unpruned
/// coordinates (pruning masks, <see cref="PruningMask"/>). Every product is P·H·P·v: v is masked before and Hv
/// after, so the estimates describe the Hessian of the pruned network in its own subspace. Per-layer values
/// (<see cref="PerLayer"/>) restrict S to one layer: the diagonal blocks H_ll.
/// </para>
/// <para>
/// <b>Estimators.</b> Power iteration: v₀ ~ N(0, I) masked, normalised; v ← Hv/‖Hv‖; λ = vᵀHv; stop when
/// |λ_t − λ_{t−1}| &lt; tol·|λ_t| (PyHessian's <c>eigenvalues(maxIter=100, tol=1e−3)</c>). It converges to the eigenvalue of
/// largest magnitude (λ_max for the usual PSD-dominated Hessians near a minimum). Hutchinson: Tr(H) ≈ (1/m) Σ zᵢᵀHzᵢ with
/// Rademacher zᵢ (±1, masked), standard error from the samples' spread. Random vectors are drawn on the CPU from
/// <see cref="Torch.Seed.Generator(ulong, ReadOnlySpan{ulong})"/> and moved to the parameters' device. The loss function
/// should be deterministic (fixed batch); the model is put in evaluation mode during every product (PyHessian forces
/// <c>model.eval()</c>) and restored.
/// </para>
/// </summary>
public sealed class HessianProbe
{
    private readonly nn.Module _model;
    private readonly Func<Tensor> _loss;
    private readonly string[] _names;
    private readonly ParameterVector? _mask;

    /// <summary>
    /// Probes the Hessian of <paramref name="loss"/> (a closure returning a one-element loss tensor computed by
    /// <paramref name="model"/>, e.g. the cross-entropy on a fixed batch) with respect to the parameters whose name satisfies
    /// <paramref name="include"/> (all when null), restricted to their unpruned coordinates.
    /// </summary>
    public HessianProbe(nn.Module model, Func<Tensor> loss, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        _model = model;
        _loss = loss;
        _names = model.named_parameters().Select(p => p.name).Where(n => include is null || include(n)).ToArray();
        if (_names.Length == 0) throw new ArgumentException("HessianProbe: no parameter selected.");
        using var scope = NewDisposeScope();
        _mask = Zeros().MaskOf(model)?.DetachFromDisposeScope();
    }

    /// <summary>Number of coordinates probed (unpruned entries of the chosen parameters).</summary>
    public long Dimension
    {
        get
        {
            if (_mask is not null) return _mask.Entries.Sum(e => e.Data.count_nonzero().item<long>());
            var set = _names.ToHashSet(StringComparer.Ordinal);
            return _model.named_parameters().Where(p => set.Contains(p.name)).Sum(p => p.parameter.numel());
        }
    }

    /// <summary>The chosen parameters' names.</summary>
    public IReadOnlyList<string> Parameters => _names;

    /// <summary>∇L at the current parameters, restricted (masked) to the chosen coordinates.</summary>
    public ParameterVector Gradient()
    {
        using var scope = NewDisposeScope();
        using var mode = new EvalMode(_model);
        using var grad = enable_grad();
        var parameters = Selected();
        var loss = CheckedLoss();
        var inputs = parameters.Where(p => p.requires_grad).ToArray();
        if (inputs.Length == 0) return Zeros().MoveToOuterDisposeScope();
        var grads = autograd.grad([loss], inputs, retain_graph: false, create_graph: false, allow_unused: true);
        var g = Assemble(parameters, inputs, grads);
        if (_mask is not null) g.MultiplyInPlace(_mask);
        return g.MoveToOuterDisposeScope();
    }

    /// <summary>P·H·P·v by double backward (see the class remarks); the parameters are not changed.</summary>
    /// <exception cref="ArgumentException"><paramref name="v"/> does not have the chosen parameters' names and shapes.</exception>
    public ParameterVector HessianVectorProduct(ParameterVector v)
    {
        ArgumentNullException.ThrowIfNull(v);
        using var scope = NewDisposeScope();
        var parameters = Selected();
        if (!v.Names.SequenceEqual(_names))
            throw new ArgumentException($"HessianProbe: the vector has parameters [{string.Join(", ", v.Names)}], the probe [{string.Join(", ", _names)}].");
        for (int i = 0; i < parameters.Length; i++)
            if (!v[_names[i]].shape.SequenceEqual(parameters[i].shape))
                throw new ArgumentException($"HessianProbe: '{_names[i]}' has shape ({string.Join(", ", v[_names[i]].shape)}) in the vector, ({string.Join(", ", parameters[i].shape)}) in the model.");
        var u = v.Clone();
        if (_mask is not null) u.MultiplyInPlace(_mask);
        var inputs = parameters.Where(p => p.requires_grad).ToArray();
        if (inputs.Length == 0 || u.Norm() == 0) return Zeros().MoveToOuterDisposeScope();

        using var mode = new EvalMode(_model);
        using var attention = new DoubleBackward(_model);
        using var grad = enable_grad();
        var loss = CheckedLoss();
        var g = autograd.grad([loss], inputs, retain_graph: true, create_graph: true, allow_unused: true);   // ∇L with its graph
        Tensor? gv = null;                                                                                      // g·v, a scalar on the tape
        for (int i = 0, j = 0; i < parameters.Length; i++)
        {
            if (!parameters[i].requires_grad) continue;
            var gi = g[j++];
            if (gi is null || gi.IsInvalid || !gi.requires_grad) continue;   // unused, or ∇ constant in θ: no curvature through it
            var term = (gi * u[_names[i]].to(gi.dtype, gi.device)).sum();
            gv = gv is null ? term : gv + term;
        }
        if (gv is null) return Zeros().MoveToOuterDisposeScope();   // L is at most linear in the chosen parameters: H = 0
        var hv = autograd.grad([gv], inputs, retain_graph: false, create_graph: false, allow_unused: true);
        var result = Assemble(parameters, inputs, hv);
        if (_mask is not null) result.MultiplyInPlace(_mask);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The eigenvalue of largest magnitude by power iteration (PyHessian's defaults: 100 iterations, tolerance 1e−3).</summary>
    public EigenEstimate TopEigenvalue(int maxIterations = 100, double tolerance = 1e-3, ulong seed = 0)
    {
        if (maxIterations < 1) throw new ArgumentException($"HessianProbe: maxIterations must be ≥ 1, got {maxIterations}.");
        var g = Torch.Seed.Generator(seed);
        using var scope = NewDisposeScope();
        var v = RandomDirections.Gaussian(Zeros(), g);
        if (_mask is not null) v.MultiplyInPlace(_mask);
        v.ScaleInPlace(1 / v.Norm());
        double lambda = double.NaN;
        for (int it = 1; it <= maxIterations; it++)
        {
            var hv = HessianVectorProduct(v);
            double next = v.Dot(hv);
            double hn = hv.Norm();
            bool converged = !double.IsNaN(lambda) && Math.Abs(next - lambda) < tolerance * Math.Abs(next);
            lambda = next;
            if (hn == 0) return new EigenEstimate(0, it, true, v.MoveToOuterDisposeScope());
            if (converged) return new EigenEstimate(lambda, it, true, v.MoveToOuterDisposeScope());
            v.Dispose();
            v = hv.ScaleInPlace(1 / hn);
        }
        return new EigenEstimate(lambda, maxIterations, false, v.MoveToOuterDisposeScope());
    }

    /// <summary>Hutchinson's trace estimate from <paramref name="samples"/> Rademacher vectors (masked).</summary>
    public TraceEstimate Trace(int samples = 100, ulong seed = 0)
    {
        if (samples < 1) throw new ArgumentException($"HessianProbe: samples must be ≥ 1, got {samples}.");
        var g = Torch.Seed.Generator(seed);
        var values = new double[samples];
        var template = Zeros();
        for (int s = 0; s < samples; s++)
        {
            using var scope = NewDisposeScope();
            var z = ParameterVector.FromTensors(template.Entries.Select(e =>
                (e.Name, rand(e.Shape.ToArray(), ScalarType.Float32, generator: g).lt(0.5).to(e.Data.dtype, e.Data.device) * 2 - 1)));   // ±1
            if (_mask is not null) z.MultiplyInPlace(_mask);
            values[s] = z.Dot(HessianVectorProduct(z));
        }
        template.Dispose();
        double mean = values.Average();
        double se = samples > 1 ? Math.Sqrt(values.Sum(x => (x - mean) * (x - mean)) / (samples - 1) / samples) : double.NaN;
        return new TraceEstimate(mean, se, values);
    }

    /// <summary>
    /// Layers for per-layer curvature: every module that owns a Linear or Conv2d weight, with its weight and bias
    /// (e.g. <c>fc1</c> → <c>fc1.weight</c>, <c>fc1.bias</c>), in module order.
    /// </summary>
    public static IReadOnlyList<(string Layer, string[] Parameters)> Layers(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<(string, string[])>();
        foreach (var (prefix, m) in ModuleTree.SelfAndDescendants(model))
            if (m is Linear or Conv2d)
                result.Add((prefix, m.named_parameters(recurse: false).Select(p => prefix.Length == 0 ? p.name : prefix + "." + p.name).ToArray()));
        return result;
    }

    /// <summary>λ_max and Tr of each layer's diagonal Hessian block (<see cref="Layers"/>), restricted to unpruned coordinates.</summary>
    public static IReadOnlyList<LayerCurvature> PerLayer(nn.Module model, Func<Tensor> loss, int maxIterations = 100, double tolerance = 1e-3, int traceSamples = 100, ulong seed = 0)
    {
        var result = new List<LayerCurvature>();
        foreach (var (layer, names) in Layers(model))
        {
            var set = names.ToHashSet(StringComparer.Ordinal);
            var probe = new HessianProbe(model, loss, set.Contains);
            result.Add(new LayerCurvature(layer, names, probe.Dimension, probe.TopEigenvalue(maxIterations, tolerance, seed), probe.Trace(traceSamples, seed)));
        }
        return result;
    }

    /// <summary>The chosen parameters as the model holds them now (looked up by name, so a moved model is followed).</summary>
    private Parameter[] Selected()
    {
        var all = _model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        return _names.Select(n => all.TryGetValue(n, out var p) ? p : throw new InvalidOperationException($"HessianProbe: the model no longer has the parameter '{n}'.")).ToArray();
    }

    /// <summary>A zero vector over the chosen parameters (their shapes, dtypes and devices).</summary>
    private ParameterVector Zeros()
    {
        var parameters = Selected();
        return ParameterVector.FromTensors(_names.Select((n, i) => (n, zeros_like(parameters[i]).detach())));
    }

    /// <summary>Calls the loss closure and checks what autograd needs (it would abort the process otherwise).</summary>
    private Tensor CheckedLoss()
    {
        var l = _loss() ?? throw new InvalidOperationException("HessianProbe: the loss closure returned null.");
        if (l.numel() != 1) throw new InvalidOperationException($"HessianProbe: the loss must be a one-element tensor, got shape ({string.Join(", ", l.shape)}).");
        if (!l.requires_grad) throw new InvalidOperationException("HessianProbe: the loss does not require grad — compute it from the model's parameters, outside no_grad(), inside the closure.");
        return l.reshape(Array.Empty<long>());
    }

    /// <summary>A vector over the chosen parameters from autograd's results for <paramref name="inputs"/>; unused and frozen parameters get zeros.</summary>
    private ParameterVector Assemble(Parameter[] parameters, Parameter[] inputs, IList<Tensor> grads)
    {
        var byInput = new Dictionary<Parameter, Tensor>(ReferenceEqualityComparer.Instance);
        for (int j = 0; j < inputs.Length; j++)
            if (grads[j] is { } t && !t.IsInvalid) byInput[inputs[j]] = t.detach();
        return ParameterVector.FromTensors(_names.Select((n, i) => (n, byInput.TryGetValue(parameters[i], out var t) ? t : zeros_like(parameters[i]).detach())));
    }

    /// <summary>Puts a module in evaluation mode and restores its mode on dispose.</summary>
    private readonly struct EvalMode : IDisposable
    {
        private readonly nn.Module _module;
        private readonly bool _wasTraining;

        public EvalMode(nn.Module module)
        {
            _module = module;
            _wasTraining = module.training;
            module.eval();
        }

        public void Dispose() => _module.train(_wasTraining);
    }
}
