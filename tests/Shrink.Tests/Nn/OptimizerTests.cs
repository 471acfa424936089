using Shrink.Tensors;
using Shrink.Tensors.Nn;
using Shrink.Tensors.Optim;

namespace Shrink.Tests.Nn;

public class OptimizerTests
{
    private const int N = 37;   // two 16-wide vectors and a scalar tail

    private static double[] Values(int seed, double scale = 1)
    {
        var g = new Generator((ulong)seed);
        return Enumerable.Range(0, N).Select(_ => scale * g.NextNormal()).ToArray();
    }

    private static Parameter MakeParam(double[] values)
    {
        return new Parameter(Tensor.FromArray(values.Select(v => (float)v).ToArray(), values.Length));
    }

    private static void SetGrad(Parameter p, double[] g) => p.Grad = Tensor.FromArray(g.Select(v => (float)v).ToArray(), g.Length);

    private static void AssertClose(double[] expected, Tensor actual, double tol = 2e-5)
    {
        var a = actual.ToArray();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - a[i]) <= tol * (1 + Math.Abs(expected[i])), $"element {i}: expected {expected[i]}, got {a[i]}");
    }

    [Theory]
    [InlineData(0.9, 0.0, 0.05, true)]
    [InlineData(0.9, 0.3, 0.1, false)]
    [InlineData(0.0, 0.0, 0.1, false)]
    public void SgdMatchesPyTorchFormulas(double mu, double damp, double wd, bool nesterov)
    {
        double lr = 0.1;
        var p0 = Values(1);
        var grads = new[] { Values(2), Values(3, 0.5), Values(4, 2) };
        var p = MakeParam(p0);
        var opt = new Sgd([p], lr, momentum: mu, dampening: damp, weightDecay: wd, nesterov: nesterov);

        var x = (double[])p0.Clone();
        double[]? buf = null;
        for (int t = 0; t < 3; t++)
        {
            SetGrad(p, grads[t]);
            opt.Step();
            var d = x.Select((v, i) => grads[t][i] + wd * v).ToArray();
            if (mu != 0)
            {
                buf = buf is null ? (double[])d.Clone() : buf.Select((b, i) => mu * b + (1 - damp) * d[i]).ToArray();
                d = nesterov ? d.Select((v, i) => v + mu * buf[i]).ToArray() : buf;
            }
            x = x.Select((v, i) => v - lr * d[i]).ToArray();
            AssertClose(x, p);
        }
        Assert.Throws<ArgumentException>(() => new Sgd([MakeParam(p0)], 0.1, momentum: 0, nesterov: true));
    }

    [Theory]
    [InlineData(false, 0.9, 0.999)]
    [InlineData(true, 0.9, 0.999)]
    [InlineData(true, 0.6, 0.5)]   // β₁ > ½ takes the other branch of PyTorch's lerp; small β₂ makes v fall so amsgrad bites
    public void AdamWMatchesPyTorchFormulas(bool amsgrad, double b1, double b2)
    {
        double lr = 0.01, wd = 0.1, eps = 1e-8;
        var p0 = Values(5);
        var grads = new[] { Values(6), Values(7, 2), Values(8, 0.1) };
        var p = MakeParam(p0);
        var opt = new AdamW([p], lr, b1, b2, eps, wd, amsgrad);

        var x = (double[])p0.Clone();
        var m = new double[N]; var v = new double[N]; var vmax = new double[N];
        for (int t = 1; t <= 3; t++)
        {
            SetGrad(p, grads[t - 1]);
            opt.Step();
            var g = grads[t - 1];
            for (int i = 0; i < N; i++)
            {
                x[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                vmax[i] = Math.Max(vmax[i], v[i]);
                double vhat = (amsgrad ? vmax[i] : v[i]) / (1 - Math.Pow(b2, t));
                x[i] -= lr / (1 - Math.Pow(b1, t)) * m[i] / (Math.Sqrt(vhat) + eps);
            }
            AssertClose(x, p);
        }
        if (amsgrad && b2 == 0.5)
        {
            // The running maximum must have mattered at step 3 for this case to test anything.
            var plain = MakeParam(p0);
            var o2 = new AdamW([plain], lr, b1, b2, eps, wd, amsgrad: false);
            for (int t = 0; t < 3; t++) { SetGrad(plain, grads[t]); o2.Step(); }
            Assert.NotEqual(plain.ToArray(), p.ToArray());
        }
    }

    [Fact]
    public void FrozenAndGradlessParametersAreSkipped()
    {
        var frozen = MakeParam(Values(1));
        var noGrad = MakeParam(Values(2));
        var live = MakeParam(Values(3));
        var before = (frozen.ToArray(), noGrad.ToArray(), live.ToArray());
        SetGrad(frozen, Values(4));
        SetGrad(live, Values(5));
        frozen.RequiresGrad = false;
        var opt = new AdamW([frozen, noGrad, live], weightDecay: 0.5);
        opt.Step();
        Assert.Equal(before.Item1, frozen.ToArray());
        Assert.Equal(before.Item2, noGrad.ToArray());
        Assert.NotEqual(before.Item3, live.ToArray());
        var keys = opt.StateDict().Keys.Where(k => k.StartsWith("state.", StringComparison.Ordinal)).ToList();
        Assert.Equal(["state.2.step", "state.2.exp_avg", "state.2.exp_avg_sq"], keys);

        // Module.Freeze takes a layer out of training.
        var model = new Sequential(new Linear(3, 4, generator: new Generator(1)), new Gelu(), new Linear(4, 2, generator: new Generator(2)));
        model.Freeze(n => n.StartsWith("0.", StringComparison.Ordinal));
        var w0 = ((Linear)model[0]).Weight.ToArray();
        var w2 = ((Linear)model[2]).Weight.ToArray();
        var sgd = new Sgd(model.Parameters(), lr: 0.1);
        model.Forward(Tensor.Randn([5, 3], new Generator(3))).Square().Sum().Backward();
        sgd.Step();
        Assert.Equal(w0, ((Linear)model[0]).Weight.ToArray());
        Assert.NotEqual(w2, ((Linear)model[2]).Weight.ToArray());
    }

    [Fact]
    public void ParamGroupsLrScaleAndZeroGrad()
    {
        var a = MakeParam(Values(1));
        var b = MakeParam(Values(2));
        var opt = new Sgd([new ParamGroup([a]), new ParamGroup([b], weightDecay: 0.5, lrScale: 0.1)], lr: 1.0, weightDecay: 0.01);
        Assert.Equal(1.0, opt.ParamGroups[0].Lr);
        Assert.Equal(0.1, opt.ParamGroups[1].Lr, 1e-15);
        Assert.Equal(0.01, opt.ParamGroups[0].WeightDecay);
        Assert.Equal(0.5, opt.ParamGroups[1].WeightDecay);
        opt.Lr = 0.2;
        Assert.Equal(0.2, opt.Lr);
        Assert.Equal(0.2, opt.ParamGroups[0].Lr);
        Assert.Equal(0.02, opt.ParamGroups[1].Lr, 1e-15);

        SetGrad(a, Values(3)); SetGrad(b, Values(4));
        var ga = a.Grad;
        opt.ZeroGrad();
        Assert.Same(ga, a.Grad);
        Assert.All(a.Grad!.ToArray(), v => Assert.Equal(0f, v));
        opt.ZeroGrad(setToNone: true);
        Assert.Null(b.Grad);

        Assert.Contains("more than once", Assert.Throws<ArgumentException>(() => new Sgd([a, a], 0.1)).Message);
        Assert.Contains("empty parameter list", Assert.Throws<ArgumentException>(() => new AdamW(Array.Empty<Parameter>())).Message);
    }

    [Fact]
    public void SteadyStateStepsDoNotAllocate()
    {
        var ps = Enumerable.Range(0, 4).Select(i => MakeParam(Values(i))).ToArray();
        foreach (var p in ps) SetGrad(p, Values(10));
        var adam = new AdamW(ps, amsgrad: true);
        var sgd = new Sgd(ps, 0.01, momentum: 0.9, weightDecay: 1e-4, nesterov: true);
        for (int i = 0; i < 3; i++) { adam.Step(); sgd.Step(); adam.ZeroGrad(); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) { adam.Step(); sgd.Step(); adam.ZeroGrad(); }
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private static Sequential Mlp(ulong seed) =>
        new(new Linear(3, 8, generator: new Generator(seed)), new Gelu(), new Linear(8, 2, generator: new Generator(seed + 1)));

    private static void TrainSteps(Sequential model, Optimizer opt, LrSchedule schedule, int from, int count)
    {
        var x = Tensor.Randn([6, 3], new Generator(42));
        for (int t = from; t < from + count; t++)
        {
            using var scope = TensorScope.Begin();
            schedule.Apply(opt, t);
            opt.ZeroGrad();
            var y = model.Forward(x);
            (y * y).Sum().Backward();
            opt.Step();
        }
    }

    public static TheoryData<string> OptimizerKinds => new() { "adamw", "adamw-amsgrad", "sgd" };

    private static Optimizer Make(string kind, Sequential model) => kind switch
    {
        "adamw" => new AdamW(model.Parameters(), lr: 3e-3, weightDecay: 0.05),
        "adamw-amsgrad" => new AdamW(model.Parameters(), lr: 3e-3, weightDecay: 0.05, amsgrad: true),
        _ => new Sgd(model.Parameters(), lr: 0.013, momentum: 0.9, weightDecay: 1e-3, nesterov: true),
    };

    [Theory]
    [MemberData(nameof(OptimizerKinds))]
    public void StateDictRoundTripResumesBitIdentically(string kind)
    {
        var schedule = new CosineWithWarmup(kind == "sgd" ? 0.013 : 3e-3, 2, 6);
        var a = Mlp(1);
        var optA = Make(kind, a);
        TrainSteps(a, optA, schedule, 0, 2);
        var modelState = a.StateDict(clone: true);
        var optState = optA.StateDict();
        TrainSteps(a, optA, schedule, 2, 3);

        var b = Mlp(100);
        b.LoadStateDict(modelState);
        var optB = Make(kind, b);
        optB.LoadStateDict(optState);
        TrainSteps(b, optB, schedule, 2, 3);

        var sa = a.StateDict(); var sb = b.StateDict();
        foreach (var k in sa.Keys) Assert.Equal(sa[k].ToArray(), sb[k].ToArray());
        var oa = optA.StateDict(); var ob = optB.StateDict();
        Assert.Equal(oa.Keys, ob.Keys);
        foreach (var k in oa.Keys) Assert.Equal(oa[k].ToArray(), ob[k].ToArray());
    }

    [Fact]
    public void StateDictKeysAndErrors()
    {
        var model = Mlp(1);
        var opt = new AdamW(model.Parameters(), lr: 1e-3, amsgrad: true);
        TrainSteps(model, opt, new ConstantLr(1e-3), 0, 2);
        var s = opt.StateDict();
        Assert.Equal(2f, s["state.0.step"].Item());
        Assert.Equal([8, 3], s["state.0.exp_avg"].Shape);
        Assert.Equal([2], s["state.3.max_exp_avg_sq"].Shape);
        Assert.Equal([0f, 1f, 2f, 3f], s["param_groups.0.params"].ToArray());
        Assert.Equal(0.9f, s["defaults.beta1"].Item());
        Assert.Equal(1f, s["defaults.amsgrad"].Item());
        Assert.Equal((float)1e-3, s["param_groups.0.lr"].Item());

        var snapshotValue = s["state.0.exp_avg"].ToArray();
        TrainSteps(model, opt, new ConstantLr(1e-3), 2, 1);
        Assert.Equal(snapshotValue, s["state.0.exp_avg"].ToArray());   // a snapshot, not a view

        var bad = new Dictionary<string, Tensor>(s) { ["state.1.exp_avg"] = Tensor.Zeros(3) };
        var e = Assert.Throws<ArgumentException>(() => opt.LoadStateDict(bad));
        Assert.Contains("state.1.exp_avg", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[8]", e.Message);
        var unknown = new Dictionary<string, Tensor>(s) { ["state.0.momentum_buffer"] = Tensor.Zeros(8, 3) };
        Assert.Contains("unexpected key state.0.momentum_buffer", Assert.Throws<ArgumentException>(() => opt.LoadStateDict(unknown)).Message);
        var plain = new AdamW(Mlp(1).Parameters(), lr: 1e-3);
        Assert.Contains("amsgrad", Assert.Throws<ArgumentException>(() => plain.LoadStateDict(s)).Message);
        var fewer = new AdamW(new Linear(3, 8).Parameters(), amsgrad: true);
        Assert.Contains("param_groups.0.params", Assert.Throws<ArgumentException>(() => fewer.LoadStateDict(s)).Message);
    }
}
