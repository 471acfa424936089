using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Landscape;

/// <summary>
/// Hessian quantities of a loss L(θ) from Hessian-vector products, as PyHessian (Yao et al. 2020) computes them:
/// the top eigenvalue by power iteration and the trace by Hutchinson's estimator, restricted to a set of parameters and
/// to their unpruned coordinates.
/// <para>
/// <b>Hessian-vector product.</b> Our engine has no double backward, so Hv comes from central differences of gradients:
/// Hv ≈ ‖v‖·[∇L(θ + h·v̂) − ∇L(θ − h·v̂)]/(2h), v̂ = v/‖v‖, h = <see cref="Step"/>. The error is O(h²·‖∇³L‖) plus float32
/// rounding O(u·‖∇L‖/h); on a quadratic the formula is exact up to rounding. Tests compare it with exact Hessians (a
/// quadratic with known spectrum, and softmax regression whose Hessian has a closed form).
/// </para>
/// <para>
/// <b>Restriction.</b> Let S be the chosen parameters (all by default) and P the diagonal 0/1 projection onto their unpruned
/// coordinates (pruning masks, <see cref="Pruning.PruningMask"/>). Every product is P·H·P·v: v is masked before and Hv
/// after, so the estimates describe the Hessian of the pruned network in its own subspace. Per-layer values
/// (<see cref="PerLayer"/>) restrict S to one layer: the diagonal blocks H_ll.
/// </para>
/// <para>
/// <b>Estimators.</b> Power iteration: v₀ ~ N(0, I) masked, normalised; v ← Hv/‖Hv‖; λ = vᵀHv; stop when
/// |λ_t − λ_{t−1}| &lt; tol·|λ_t| (PyHessian's <c>eigenvalues(maxIter=100, tol=1e−3)</c>). It converges to the eigenvalue of
/// largest magnitude (λ_max for the usual PSD-dominated Hessians near a minimum). Hutchinson: Tr(H) ≈ (1/m) Σ zᵢᵀHzᵢ with
/// Rademacher zᵢ (±1, masked), standard error from the samples' spread. The loss function should be deterministic (fixed
/// batch); the model is put in evaluation mode during every gradient (PyHessian forces <c>model.eval()</c>) and restored.
/// </para>
/// </summary>
public sealed class HessianProbe
{
    private readonly Module _model;
    private readonly Func<Tensor> _loss;
    private readonly Parameter[] _parameters;
    private readonly ParameterVector? _mask;
    private readonly ParameterVector _shape;

    /// <summary>
    /// Probes the Hessian of <paramref name="loss"/> (a closure returning a one-element loss tensor computed by
    /// <paramref name="model"/>, e.g. the cross-entropy on a fixed batch) with respect to the parameters whose name satisfies
    /// <paramref name="include"/> (all when null), restricted to their unpruned coordinates.
    /// </summary>
    public HessianProbe(Module model, Func<Tensor> loss, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        _model = model;
        _loss = loss;
        _shape = ParameterVector.FromModel(model, include);
        if (_shape.Count == 0) throw new ArgumentException("HessianProbe: no parameter selected.");
        _parameters = _shape.Names.Select(model.GetParameter).ToArray();
        _mask = _shape.MaskOf(model);
    }

    /// <summary>Finite-difference step h (parameter-space distance along the unit direction). Default 1e−3.</summary>
    public double Step { get; init; } = 1e-3;

    /// <summary>Number of coordinates probed (unpruned entries of the chosen parameters).</summary>
    public long Dimension => _mask is null ? _shape.Count : _mask.Entries.Sum(e => (long)e.Data.Count(v => v != 0f));

    /// <summary>The chosen parameters' names.</summary>
    public IReadOnlyList<string> Parameters => _shape.Names;

    /// <summary>∇L at the current parameters, restricted (masked) to the chosen coordinates.</summary>
    public ParameterVector Gradient()
    {
        bool wasTraining = _model.Training;
        _model.Eval();
        try
        {
            _model.ZeroGrad();
            using (TensorScope.Begin())
            {
                var l = _loss();
                if (l.Numel != 1) throw new InvalidOperationException($"HessianProbe: the loss must be a one-element tensor, got {l.Numel} elements.");
                l.Backward();
            }
            var g = _shape.ZerosLike();
            for (int i = 0; i < _parameters.Length; i++)
                if (_parameters[i].Grad is { } grad) grad.ToArray().AsSpan().CopyTo(g[_shape.Names[i]]);
            _model.ZeroGrad();
            if (_mask is not null) g.MultiplyInPlace(_mask);
            return g;
        }
        finally { _model.Train(wasTraining); }
    }

    /// <summary>P·H·P·v by central differences of gradients (see the class remarks); the parameters are restored exactly.</summary>
    public ParameterVector HessianVectorProduct(ParameterVector v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var u = v.Clone();
        if (_mask is not null) u.MultiplyInPlace(_mask);
        double norm = u.Norm();
        if (norm == 0) return _shape.ZerosLike();
        u.ScaleInPlace(1 / norm);
        var theta = ParameterVector.FromModel(_model, n => _shape.Names.Contains(n));
        try
        {
            theta.Clone().AddInPlace(u, Step).CopyTo(_model);
            var gPlus = Gradient();
            theta.Clone().AddInPlace(u, -Step).CopyTo(_model);
            var gMinus = Gradient();
            return gPlus.AddInPlace(gMinus, -1).ScaleInPlace(norm / (2 * Step));
        }
        finally { theta.CopyTo(_model); }
    }

    /// <summary>The eigenvalue of largest magnitude by power iteration (PyHessian's defaults: 100 iterations, tolerance 1e−3).</summary>
    public EigenEstimate TopEigenvalue(int maxIterations = 100, double tolerance = 1e-3, ulong seed = 0)
    {
        if (maxIterations < 1) throw new ArgumentException($"HessianProbe: maxIterations must be ≥ 1, got {maxIterations}.");
        var g = new Generator(seed);
        var v = _shape.ZerosLike();
        foreach (var (_, _, data) in v.Entries) for (int i = 0; i < data.Length; i++) data[i] = (float)g.NextNormal();
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
            if (hn == 0) return new EigenEstimate(0, it, true, v);
            if (converged) return new EigenEstimate(lambda, it, true, v);
            v = hv.ScaleInPlace(1 / hn);
        }
        return new EigenEstimate(lambda, maxIterations, false, v);
    }

    /// <summary>Hutchinson's trace estimate from <paramref name="samples"/> Rademacher vectors (masked).</summary>
    public TraceEstimate Trace(int samples = 100, ulong seed = 0)
    {
        if (samples < 1) throw new ArgumentException($"HessianProbe: samples must be ≥ 1, got {samples}.");
        var g = new Generator(seed);
        var values = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            var z = _shape.ZerosLike();
            foreach (var (_, _, data) in z.Entries) for (int i = 0; i < data.Length; i++) data[i] = (g.NextUInt64() & 1) == 0 ? -1f : 1f;
            if (_mask is not null) z.MultiplyInPlace(_mask);
            values[s] = z.Dot(HessianVectorProduct(z));
        }
        double mean = values.Average();
        double se = samples > 1 ? Math.Sqrt(values.Sum(x => (x - mean) * (x - mean)) / (samples - 1) / samples) : double.NaN;
        return new TraceEstimate(mean, se, values);
    }

    /// <summary>
    /// Layers for per-layer curvature: every module that owns a Linear or Conv2d weight, with its weight and bias
    /// (e.g. <c>fc1</c> → <c>fc1.weight</c>, <c>fc1.bias</c>), in module order.
    /// </summary>
    public static IReadOnlyList<(string Layer, string[] Parameters)> Layers(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var result = new List<(string, string[])>();
        foreach (var (prefix, m) in model.NamedModules())
            if (m is Linear or Conv2d)
                result.Add((prefix, m.NamedParameters(recurse: false).Select(p => prefix.Length == 0 ? p.Name : prefix + "." + p.Name).ToArray()));
        return result;
    }

    /// <summary>λ_max and Tr of each layer's diagonal Hessian block (<see cref="Layers"/>), restricted to unpruned coordinates.</summary>
    public static IReadOnlyList<LayerCurvature> PerLayer(Module model, Func<Tensor> loss, int maxIterations = 100, double tolerance = 1e-3, int traceSamples = 100, ulong seed = 0, double step = 1e-3)
    {
        var result = new List<LayerCurvature>();
        foreach (var (layer, names) in Layers(model))
        {
            var set = names.ToHashSet(StringComparer.Ordinal);
            var probe = new HessianProbe(model, loss, set.Contains) { Step = step };
            result.Add(new LayerCurvature(layer, names, probe.Dimension, probe.TopEigenvalue(maxIterations, tolerance, seed), probe.Trace(traceSamples, seed)));
        }
        return result;
    }
}
