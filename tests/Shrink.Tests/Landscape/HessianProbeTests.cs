using Shrink.Landscape;
using Shrink.Pruning;
using Shrink.Tensors;
using Shrink.Tensors.Nn;
using Shrink.Tests.Pruning;
using F = Shrink.Tensors.Functional;

namespace Shrink.Tests.Landscape;

public class HessianProbeTests
{
    /// <summary>L(θ) = ½ θᵀAθ + bᵀθ with θ of shape (n, 1): Hessian A everywhere.</summary>
    private sealed class Quadratic : Module
    {
        public readonly Parameter Theta;
        private readonly Tensor _a, _b;
        public Quadratic(double[,] a, ulong seed)
        {
            int n = a.GetLength(0);
            var flat = new float[n * n];
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) flat[i * n + j] = (float)a[i, j];
            _a = Tensor.FromArray(flat, n, n);
            _b = Tensor.Randn([n, 1], new Generator(seed + 1));
            Theta = RegisterParameter("theta", Tensor.Randn([n, 1], new Generator(seed)));
        }
        public Tensor Loss() => (Theta.MT.MatMul(_a.MatMul(Theta)) * 0.5f + _b.MT.MatMul(Theta)).Sum();
    }

    /// <summary>A = Q diag(λ) Qᵀ with the Householder reflection Q = I − 2uuᵀ/‖u‖², so the spectrum is exactly λ.</summary>
    private static double[,] Matrix(double[] lambda, ulong seed)
    {
        int n = lambda.Length;
        var g = new Generator(seed);
        var u = Enumerable.Range(0, n).Select(_ => g.NextNormal()).ToArray();
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

        var v = ParameterVector.FromModel(q).ZerosLike();
        var g = new Generator(9);
        for (int i = 0; i < n; i++) v["theta"][i] = (float)g.NextNormal();
        var hv = probe.HessianVectorProduct(v);
        for (int i = 0; i < n; i++)
        {
            double exact = Enumerable.Range(0, n).Sum(j => a[i, j] * v["theta"][j]);
            Assert.True(Math.Abs(hv["theta"][i] - exact) <= 2e-3 * (1 + Math.Abs(exact)), $"(Hv)[{i}] = {hv["theta"][i]}, exact {exact}");
        }
        var before = q.Theta.ToArray();
        probe.HessianVectorProduct(v);
        Assert.Equal(before, q.Theta.ToArray());   // parameters restored exactly

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
        PruningMask.Set(q, "theta", Tensor.FromArray(mask, n, 1));
        var probe = new HessianProbe(q, q.Loss);
        Assert.Equal(keep.Length, probe.Dimension);

        var top = probe.TopEigenvalue(maxIterations: 300, tolerance: 1e-7);
        double exactTop = ExactTop(a, keep);
        Assert.InRange(top.Value, exactTop * 0.99, exactTop * 1.01);
        Assert.All(Enumerable.Range(0, n).Where(i => mask[i] == 0f), i => Assert.Equal(0f, top.Vector["theta"][i]));

        var trace = probe.Trace(samples: 400, seed: 2);
        double exactTrace = keep.Sum(i => a[i, i]);
        Assert.True(Math.Abs(trace.Value - exactTrace) <= Math.Max(4 * trace.StandardError, 1e-3), $"trace {trace.Value} ± {trace.StandardError}, exact {exactTrace}");
    }

    [Fact]
    public void FiniteDifferenceProductMatchesTheClosedFormHessianOfSoftmaxRegression()
    {
        // L(W) = mean_b CE(W x_b, y_b), W (K, d): H[(k,i),(l,j)] = (1/B) Σ_b (p_bk δ_kl − p_bk p_bl) x_bi x_bj.
        int k = 3, d = 5, batch = 8;
        var g = new Generator(21);
        var x = Tensor.Randn([batch, d], g);
        var y = Enumerable.Range(0, batch).Select(i => i % k).ToArray();
        var model = new Linear(d, k, bias: false, generator: g);
        var probe = new HessianProbe(model, () => F.CrossEntropy(model.Forward(x), y));
        var v = ParameterVector.FromModel(model).ZerosLike();
        for (int i = 0; i < k * d; i++) v["weight"][i] = (float)g.NextNormal();

        var w = model.Weight.ToArray(); var xs = x.ToArray();
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
        var hv = probe.HessianVectorProduct(v);
        double scale = 0;
        var exact = new double[k * d];
        for (int r = 0; r < k * d; r++) { exact[r] = Enumerable.Range(0, k * d).Sum(c => h[r, c] * v["weight"][c]); scale = Math.Max(scale, Math.Abs(exact[r])); }
        for (int r = 0; r < k * d; r++)
            Assert.True(Math.Abs(hv["weight"][r] - exact[r]) <= 5e-3 * scale, $"(Hv)[{r}] = {hv["weight"][r]}, exact {exact[r]}");
        double exactTrace = Enumerable.Range(0, k * d).Sum(i => h[i, i]);
        var trace = probe.Trace(samples: 300, seed: 3);
        Assert.True(Math.Abs(trace.Value - exactTrace) <= 4 * trace.StandardError + 1e-3 * exactTrace, $"trace {trace.Value} ± {trace.StandardError}, exact {exactTrace}");
    }

    [Fact]
    public void PerLayerCurvatureCoversEachLayerAndCountsOnlyUnprunedCoordinates()
    {
        var model = PruningTestData.SmallLeNet(2);
        MagnitudePruner.Prune(model, new PruningHparams { Fraction = 0.5, Scope = PruningScope.Layerwise });
        var x = Tensor.Randn([16, 64], new Generator(1));
        var y = Enumerable.Range(0, 16).Select(i => i % 4).ToArray();
        var layers = HessianProbe.PerLayer(model, () => F.CrossEntropy(model.Forward(x), y), maxIterations: 20, traceSamples: 5);
        Assert.Equal(["fc1", "fc2", "fc3"], layers.Select(l => l.Layer));
        Assert.Equal(["fc1.weight", "fc1.bias"], layers[0].Parameters);
        Assert.Equal(64 * 32 / 2 + 32, layers[0].Dimension);
        Assert.All(layers, l => Assert.True(double.IsFinite(l.TopEigenvalue.Value) && double.IsFinite(l.Trace.Value)));
    }
}
