using Shrink.Landscape;
using Shrink.Pruning;
using Shrink.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static Shrink.Tests.Pruning.PruningTestData;
using static TorchSharp.torch;

namespace Shrink.Tests.Landscape;

public class HessianProbeTests
{
    /// <summary>L(θ) = ½ θᵀAθ + bᵀθ with θ of shape (n, 1): Hessian A everywhere.</summary>
    private sealed class Quadratic : nn.Module
    {
        public readonly Parameter Theta;
        private readonly Tensor _a, _b;

        public Quadratic(double[,] a, ulong seed) : base(nameof(Quadratic))
        {
            int n = a.GetLength(0);
            var flat = new float[n * n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) flat[i * n + j] = (float)a[i, j];
            _a = tensor(flat, [n, n]);
            _b = Randn(seed + 1, n, 1);
            Theta = new Parameter(Randn(seed, n, 1));
            register_parameter("theta", Theta);
        }

        public Tensor Loss() => (Theta.mT.matmul(_a.matmul(Theta)) * 0.5f + _b.mT.matmul(Theta)).sum();
    }

    /// <summary>A = Q diag(λ) Qᵀ with the Householder reflection Q = I − 2uuᵀ/‖u‖², so the spectrum is exactly λ.</summary>
    private static double[,] Matrix(double[] lambda, ulong seed)
    {
        int n = lambda.Length;
        var u = Randn(seed, n).to(ScalarType.Float64).data<double>().ToArray();
        double uu = u.Sum(x => x * x);
        var q = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) q[i, j] = (i == j ? 1 : 0) - 2 * u[i] * u[j] / uu;
        var a = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) for (int k = 0; k < n; k++) a[i, j] += q[i, k] * lambda[k] * q[j, k];
        return a;
    }

    /// <summary>Largest eigenvalue of a symmetric PSD matrix by long power iteration in double precision.</summary>
    private static double ExactTop(double[,] a, IReadOnlyList<int> idx)
    {
        int n = idx.Count;
        var v = Enumerable.Repeat(1.0 / Math.Sqrt(n), n).ToArray();
        double lambda = 0;
        for (int it = 0; it < 5000; it++)
        {
            var w = new double[n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) w[i] += a[idx[i], idx[j]] * v[j];
            lambda = w.Zip(v, (x, y) => x * y).Sum();
            double norm = Math.Sqrt(w.Sum(x => x * x));
            v = w.Select(x => x / norm).ToArray();
        }
        return lambda;
    }

    private static readonly double[] Spectrum = [10, 6, 4, 3, 2.5, 2, 1.5, 1, 0.8, 0.5, 0.3, 0.1];

    [Fact]
    public void OnAQuadraticTheProductsEigenvalueAndTraceMatchTheKnownHessian()
    {
        var a = Matrix(Spectrum, 3);
        var q = new Quadratic(a, 5);
        var probe = new HessianProbe(q, q.Loss);
        int n = Spectrum.Length;

        var v = ParameterVector.FromTensors([("theta", Randn(9, n, 1))]);
        var vs = Values(v["theta"]);
        var hv = Values(probe.HessianVectorProduct(v)["theta"]);
        for (int i = 0; i < n; i++)
        {
            double exact = Enumerable.Range(0, n).Sum(j => a[i, j] * vs[j]);
            Assert.True(Math.Abs(hv[i] - exact) <= 1e-5 * (1 + Math.Abs(exact)), $"(Hv)[{i}] = {hv[i]}, exact {exact}");
        }
        var before = Values(q.Theta);
        probe.HessianVectorProduct(v);
        Assert.Equal(before, Values(q.Theta));   // parameters untouched
        Assert.Equal(vs, Values(v["theta"]));     // and the vector too

        var top = probe.TopEigenvalue(maxIterations: 200, tolerance: 1e-6);
        Assert.True(top.Converged);
        Assert.InRange(top.Value, 10 * 0.99, 10 * 1.01);

        var trace = probe.Trace(samples: 400, seed: 1);
        double exactTrace = Spectrum.Sum();
        Assert.True(Math.Abs(trace.Value - exactTrace) <= Math.Max(4 * trace.StandardError, 1e-3), $"trace {trace.Value} ± {trace.StandardError}, exact {exactTrace}");
        Assert.InRange(trace.Value, exactTrace * 0.9, exactTrace * 1.1);
    }

    [Fact]
    public void RestrictedToUnprunedCoordinatesTheEstimatesAreThoseOfTheSubmatrix()
    {
        var a = Matrix(Spectrum, 4);
        var q = new Quadratic(a, 6);
        int n = Spectrum.Length;
        var keep = new[] { 0, 2, 3, 5, 8, 11 };
        var mask = new float[n];
        foreach (var i in keep) mask[i] = 1f;
        PruningMask.Set(q, "theta", tensor(mask, [n, 1]));
        var probe = new HessianProbe(q, q.Loss);
        Assert.Equal(keep.Length, probe.Dimension);

        var top = probe.TopEigenvalue(maxIterations: 300, tolerance: 1e-7);
        double exactTop = ExactTop(a, keep);
        Assert.InRange(top.Value, exactTop * 0.99, exactTop * 1.01);
        var vec = Values(top.Vector["theta"]);
        Assert.All(Enumerable.Range(0, n).Where(i => mask[i] == 0f), i => Assert.Equal(0f, vec[i]));

        var trace = probe.Trace(samples: 400, seed: 2);
        double exactTrace = keep.Sum(i => a[i, i]);
        Assert.True(Math.Abs(trace.Value - exactTrace) <= Math.Max(4 * trace.StandardError, 1e-3), $"trace {trace.Value} ± {trace.StandardError}, exact {exactTrace}");
    }

    [Fact]
    public void ExactProductMatchesTheClosedFormHessianOfSoftmaxRegression()
    {
        // L(W) = mean_b CE(W x_b, y_b), W (K, d): H[(k,i),(l,j)] = (1/B) Σ_b (p_bk δ_kl − p_bk p_bl) x_bi x_bj.
        int k = 3, d = 5, batch = 8;
        var x = Randn(21, batch, d);
        var y = tensor(Enumerable.Range(0, batch).Select(i => (long)(i % k)).ToArray());
        var model = nn.Linear(d, k, hasBias: false);
        using (no_grad()) model.weight!.copy_(Randn(22, k, d));
        var probe = new HessianProbe(model, () => nn.functional.cross_entropy(model.forward(x), y));
        var v = ParameterVector.FromTensors([("weight", Randn(23, k, d))]);
        var vs = Values(v["weight"]);

        var w = Values(model.weight!); var xs = Values(x);
        var h = new double[k * d, k * d];
        for (int b = 0; b < batch; b++)
        {
            var z = Enumerable.Range(0, k).Select(c => Enumerable.Range(0, d).Sum(i => (double)w[c * d + i] * xs[b * d + i])).ToArray();
            double max = z.Max(); var e = z.Select(t => Math.Exp(t - max)).ToArray(); double s = e.Sum();
            var p = e.Select(t => t / s).ToArray();
            for (int c1 = 0; c1 < k; c1++) for (int i = 0; i < d; i++)
                for (int c2 = 0; c2 < k; c2++) for (int j = 0; j < d; j++)
                    h[c1 * d + i, c2 * d + j] += ((c1 == c2 ? p[c1] : 0) - p[c1] * p[c2]) * xs[b * d + i] * xs[b * d + j] / batch;
        }
        var hv = Values(probe.HessianVectorProduct(v)["weight"]);
        double scale = 0;
        var exact = new double[k * d];
        for (int r = 0; r < k * d; r++) { exact[r] = Enumerable.Range(0, k * d).Sum(c => h[r, c] * vs[c]); scale = Math.Max(scale, Math.Abs(exact[r])); }
        for (int r = 0; r < k * d; r++)
            Assert.True(Math.Abs(hv[r] - exact[r]) <= 1e-5 * scale, $"(Hv)[{r}] = {hv[r]}, exact {exact[r]}");
        double exactTrace = Enumerable.Range(0, k * d).Sum(i => h[i, i]);
        var trace = probe.Trace(samples: 300, seed: 3);
        Assert.True(Math.Abs(trace.Value - exactTrace) <= 4 * trace.StandardError + 1e-3 * exactTrace, $"trace {trace.Value} ± {trace.StandardError}, exact {exactTrace}");
    }

    /// <summary>A float64 MLP 4 → 3 (tanh) → 2 with seeded weights, and its loss on a fixed batch.</summary>
    private static (nn.Module<Tensor, Tensor> Model, Func<Tensor> Loss) TinyMlp()
    {
        var model = nn.Sequential(("fc1", nn.Linear(4, 3)), ("act", nn.Tanh()), ("fc2", nn.Linear(3, 2)));
        model.to(ScalarType.Float64);
        using (no_grad())
        {
            ulong i = 0;
            foreach (var p in model.parameters()) p.copy_(Randn(Seed.Mix(31, i++), p.shape));
        }
        var x = Randn(32, 6, 4).to(ScalarType.Float64);
        var y = tensor(new long[] { 0, 1, 1, 0, 1, 0 });
        return (model, () => nn.functional.cross_entropy(model.forward(x), y));
    }

    /// <summary>The full Hessian of <paramref name="loss"/> over every parameter of <paramref name="model"/>, row by row: H[i, :] = ∇(∂L/∂θ_i).</summary>
    private static double[,] FullHessian(nn.Module model, Func<Tensor> loss)
    {
        var ps = model.parameters().ToArray();
        var g = cat(autograd.grad([loss()], ps, create_graph: true, retain_graph: true).Select(t => t.flatten()).ToArray());   // (n,)
        int n = (int)g.numel();
        var h = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            var row = cat(autograd.grad([g[i]], ps, retain_graph: true).Select(t => t.flatten()).ToArray()).data<double>().ToArray();
            for (int j = 0; j < n; j++) h[i, j] = row[j];
        }
        return h;
    }

    [Fact]
    public void OnAnMlpTheProductEqualsTheExactHessianAndFiniteDifferences()
    {
        var (model, loss) = TinyMlp();
        var h = FullHessian(model, loss);
        int n = h.GetLength(0);
        var probe = new HessianProbe(model, loss);
        Assert.Equal(n, probe.Dimension);
        var v = ParameterVector.FromModel(model).ZerosLike();
        ulong s = 0;
        foreach (var (_, shape, data) in v.Entries) data.copy_(Randn(Seed.Mix(33, s++), [.. shape]));
        var flatV = v.Entries.SelectMany(e => e.Data.flatten().data<double>().ToArray()).ToArray();
        var hv = probe.HessianVectorProduct(v);
        var flatHv = hv.Entries.SelectMany(e => e.Data.flatten().data<double>().ToArray()).ToArray();

        // Exact: H·v with H from the rows of the Hessian.
        for (int i = 0; i < n; i++)
        {
            double exact = Enumerable.Range(0, n).Sum(j => h[i, j] * flatV[j]);
            Assert.True(Math.Abs(flatHv[i] - exact) <= 1e-10 * (1 + Math.Abs(exact)), $"(Hv)[{i}] = {flatHv[i]}, H·v = {exact}");
        }
        for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) Assert.Equal(h[i, j], h[j, i], 10);   // symmetric

        // Finite differences of exact gradients: [∇L(θ + εv) − ∇L(θ − εv)]/(2ε), O(ε²).
        const double eps = 1e-5;
        var theta = ParameterVector.FromModel(model);
        theta.Clone().AddInPlace(v, eps).CopyTo(model);
        var plus = probe.Gradient();
        theta.Clone().AddInPlace(v, -eps).CopyTo(model);
        var minus = probe.Gradient();
        theta.CopyTo(model);
        var fd = plus.AddInPlace(minus, -1).ScaleInPlace(1 / (2 * eps));
        var flatFd = fd.Entries.SelectMany(e => e.Data.flatten().data<double>().ToArray()).ToArray();
        double scale = flatHv.Max(Math.Abs);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(flatHv[i] - flatFd[i]) <= 1e-6 * scale, $"(Hv)[{i}] = {flatHv[i]}, finite difference {flatFd[i]}");

        // Frozen parameters are not coordinates of the product: zero rows, and the rest is the fc2 block H₂₂·v₂.
        model.Freeze(name => name.StartsWith("fc1", StringComparison.Ordinal));
        var frozen = probe.HessianVectorProduct(v);
        var flatFrozen = frozen.Entries.SelectMany(e => e.Data.flatten().data<double>().ToArray()).ToArray();
        int fc2 = 4 * 3 + 3;   // fc1.weight and fc1.bias come first
        for (int i = 0; i < n; i++)
        {
            double exact = i < fc2 ? 0 : Enumerable.Range(fc2, n - fc2).Sum(j => h[i, j] * flatV[j]);
            Assert.True(Math.Abs(flatFrozen[i] - exact) <= 1e-10 * (1 + Math.Abs(exact)), $"frozen (Hv)[{i}] = {flatFrozen[i]}, expected {exact}");
        }
    }

    [Fact]
    public void ThroughAVitAttentionTheProductMatchesFiniteDifferencesAndTheFusedSettingIsRestored()
    {
        var vit = SmallVit(7);
        vit.to(ScalarType.Float64);
        Assert.True(vit.FusedAttention);
        var x = Randn(8, 4, 1, 8, 8).to(ScalarType.Float64);
        var y = tensor(new long[] { 0, 1, 2, 3 });
        var probe = new HessianProbe(vit, () => nn.functional.cross_entropy(vit.forward(x), y));
        var v = RandomDirections.FilterNormalized(vit, Seed.Generator(9));
        var hv = probe.HessianVectorProduct(v);
        Assert.True(vit.FusedAttention);
        Assert.True(backends.cuda.flash_sdp_enabled());

        const double eps = 1e-5;
        var theta = ParameterVector.FromModel(vit);
        theta.Clone().AddInPlace(v, eps).CopyTo(vit);
        var plus = probe.Gradient();
        theta.Clone().AddInPlace(v, -eps).CopyTo(vit);
        var minus = probe.Gradient();
        theta.CopyTo(vit);
        var fd = plus.AddInPlace(minus, -1).ScaleInPlace(1 / (2 * eps));
        double err = ParameterDistance.L2(hv, fd), size = hv.Norm();
        Assert.True(size > 0 && err <= 1e-5 * size, $"‖Hv − FD‖ = {err}, ‖Hv‖ = {size}");
    }

    [Fact]
    public void PerLayerCurvatureCoversEachLayerAndCountsOnlyUnprunedCoordinates()
    {
        var model = SmallLeNet(2);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.5, Scope = PruningScope.Layerwise });
        var x = Randn(1, 16, 64);
        var y = tensor(Enumerable.Range(0, 16).Select(i => (long)(i % 4)).ToArray());
        var layers = HessianProbe.PerLayer(model, () => nn.functional.cross_entropy(model.forward(x), y), maxIterations: 20, traceSamples: 5);
        Assert.Equal(["fc1", "fc2", "fc3"], layers.Select(l => l.Layer));
        Assert.Equal(["fc1.weight", "fc1.bias"], layers[0].Parameters);
        Assert.Equal(64 * 32 / 2 + 32, layers[0].Dimension);
        Assert.All(layers, l => Assert.True(double.IsFinite(l.TopEigenvalue.Value) && double.IsFinite(l.Trace.Value)));
        var top = Values(layers[0].TopEigenvalue.Vector["fc1.weight"]);
        var mask = Values(PruningMask.Get(model, "fc1.weight")!);
        Assert.All(Enumerable.Range(0, mask.Length).Where(i => mask[i] == 0f), i => Assert.Equal(0f, top[i]));
    }

    [Fact]
    public void BadInputsAreRejectedBeforeAutogradRuns()
    {
        var model = SmallLeNet(3);
        var x = Randn(2, 4, 64);
        var y = tensor(new long[] { 0, 1, 2, 3 });
        var detached = new HessianProbe(model, () => nn.functional.cross_entropy(model.forward(x), y).detach());
        var v = ParameterVector.FromModel(model);
        Assert.Throws<InvalidOperationException>(() => detached.HessianVectorProduct(v));
        var perSample = new HessianProbe(model, () => nn.functional.cross_entropy(model.forward(x), y, reduction: nn.Reduction.None));
        Assert.Throws<InvalidOperationException>(() => perSample.HessianVectorProduct(v));
        var probe = new HessianProbe(model, () => nn.functional.cross_entropy(model.forward(x), y), n => n.StartsWith("fc1", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => probe.HessianVectorProduct(v));   // the vector spans other parameters
        Assert.Throws<ArgumentException>(() => new HessianProbe(model, () => x.sum(), n => n == "nothing"));
    }
}
