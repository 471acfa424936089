using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Tests.Nn;

public class ModuleTests
{
    /// <summary>A model with nested Sequential and ModuleList children, a persistent and a non-persistent buffer.</summary>
    private sealed class Net : Module<Tensor, Tensor>
    {
        public readonly Sequential Body;
        public readonly ModuleList<Linear> Layers;
        public readonly Parameter Scale;
        public readonly Tensor Running;

        public Net(ulong seed)
        {
            var g = new Generator(seed);
            Scale = RegisterParameter("scale", Tensor.Ones(3));
            Body = RegisterModule("body", new Sequential(new Linear(4, 3, generator: g), new Gelu(), new Linear(3, 3, bias: false, generator: g)));
            Layers = RegisterModule("layers", new ModuleList<Linear>([new Linear(3, 3, generator: g), new Linear(3, 2, generator: g)]));
            using (TensorScope.Suspend())
            {
                Running = RegisterBuffer("running", Tensor.Zeros(2));
                RegisterBuffer("scratch", Tensor.Zeros(5), persistent: false);
            }
        }

        public override Tensor Forward(Tensor x)
        {
            x = Body.Forward(x) * Scale;
            foreach (var l in Layers) x = l.Forward(x);
            return x + Running;
        }
    }

    private static readonly string[] NetKeys =
    [
        "scale", "running",
        "body.0.weight", "body.0.bias", "body.2.weight",
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
    ];

    [Fact]
    public void NamesFollowPyTorch()
    {
        var net = new Net(1);
        Assert.Equal(NetKeys, net.StateDict().Keys);
        Assert.Equal(NetKeys.Where(k => k != "running"), net.NamedParameters().Select(p => p.Name));
        Assert.Equal(["running", "scratch"], net.NamedBuffers().Select(b => b.Name));
        Assert.Equal(["body", "layers"], net.NamedChildren().Select(c => c.Name));
        Assert.Equal(["", "body", "body.0", "body.1", "body.2", "layers", "layers.0", "layers.1"], net.NamedModules().Select(m => m.Name));
        Assert.Equal(["scale"], net.NamedParameters(recurse: false).Select(p => p.Name));
        Assert.Same(net.Layers[1].Bias, net.GetParameter("layers.1.bias"));
        Assert.Same(net.Body[2], net.GetSubmodule("body.2"));
        Assert.Same(net.Running, net.GetBuffer("running"));
        Assert.Contains("no child 'x'", Assert.Throws<ArgumentException>(() => net.GetParameter("body.x.weight")).Message);

        var seq = new Sequential(new Linear(2, 2), new Relu(), new Linear(2, 1));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], seq.StateDict().Keys);
        var named = new Sequential(("fc1", new Linear(2, 2)), ("act", new Gelu()), ("fc2", new Linear(2, 1)));
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], named.StateDict().Keys);
    }

    [Fact]
    public void RegistrationRejectsBadNames()
    {
        Assert.Contains("already registered", Assert.Throws<ArgumentException>(() => new Sequential(("a", new Relu()), ("a", new Relu()))).Message);
        Assert.Contains("must not contain '.'", Assert.Throws<ArgumentException>(() => new Sequential(("a.b", new Relu()))).Message);
    }

    [Fact]
    public void StateDictRoundTripCopiesInPlace()
    {
        var a = new Net(1);
        var b = new Net(2);
        a.Running.Fill_(0.5f);
        var x = Tensor.Randn([5, 4], new Generator(3));
        Assert.NotEqual(a.Forward(x).ToArray(), b.Forward(x).ToArray());
        var weightBefore = b.Body[0] is Linear l ? l.Weight : throw new InvalidOperationException();
        var (missing, unexpected) = b.LoadStateDict(a.StateDict());
        Assert.Empty(missing); Assert.Empty(unexpected);
        Assert.Same(weightBefore, ((Linear)b.Body[0]).Weight);   // same object, new values
        Assert.Equal(a.Forward(x).ToArray(), b.Forward(x).ToArray());
        Assert.Equal(0.5f, b.Running[1]);
    }

    [Fact]
    public void StateDictSharesStorageUnlessCloned()
    {
        var lin = new Linear(2, 2, generator: new Generator(1));
        var shared = lin.StateDict();
        var snapshot = lin.StateDict(clone: true);
        lin.Weight.Fill_(7f);
        Assert.Equal(7f, shared["weight"][0, 0]);
        Assert.NotEqual(7f, snapshot["weight"][0, 0]);
        Assert.False(shared["weight"].RequiresGrad);
    }

    [Fact]
    public void LoadStateDictReportsMissingUnexpectedAndShapes()
    {
        var net = new Net(1);
        var state = net.StateDict(clone: true);
        state.Remove("layers.1.bias");
        state["extra.weight"] = Tensor.Zeros(1);

        var e = Assert.Throws<ArgumentException>(() => net.LoadStateDict(state));
        Assert.Contains("Missing key(s) in state_dict: \"layers.1.bias\"", e.Message);
        Assert.Contains("Unexpected key(s) in state_dict: \"extra.weight\"", e.Message);

        var (missing, unexpected) = net.LoadStateDict(state, strict: false);
        Assert.Equal(["layers.1.bias"], missing);
        Assert.Equal(["extra.weight"], unexpected);

        var bad = net.StateDict(clone: true);
        bad["body.0.weight"] = Tensor.Zeros(4, 3);
        var before = net.Layers[0].Weight.ToArray();
        bad["layers.0.weight"] = Tensor.Zeros(3, 3);
        var s = Assert.Throws<ArgumentException>(() => net.LoadStateDict(bad, strict: false));
        Assert.Contains("body.0.weight", s.Message);
        Assert.Contains("[4, 3]", s.Message);
        Assert.Contains("[3, 4]", s.Message);
        Assert.Equal(before, net.Layers[0].Weight.ToArray());   // nothing copied when anything is wrong
    }

    [Fact]
    public void TrainEvalPropagates()
    {
        var net = new Net(1);
        Assert.All(net.Modules(), m => Assert.True(m.Training));
        net.Eval();
        Assert.All(net.Modules(), m => Assert.False(m.Training));
        net.Layers.Train();
        Assert.False(net.Training);
        Assert.True(net.Layers[0].Training);
        net.Train();
        Assert.All(net.Modules(), m => Assert.True(m.Training));
    }

    [Fact]
    public void ZeroGradKeepsTheGradTensors()
    {
        var net = new Net(1);
        var x = Tensor.Randn([5, 4], new Generator(3));
        net.Forward(x).Sum().Backward();
        var grads = net.Parameters().Select(p => p.Grad!).ToList();
        Assert.All(grads, g => Assert.Contains(g.ToArray(), v => v != 0));
        net.ZeroGrad();
        var after = net.Parameters().Select(p => p.Grad!).ToList();
        for (int i = 0; i < grads.Count; i++) Assert.Same(grads[i], after[i]);
        Assert.All(after, g => Assert.All(g.ToArray(), v => Assert.Equal(0f, v)));
        for (int i = 0; i < 3; i++) net.ZeroGrad();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) net.ZeroGrad();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        net.ZeroGrad(setToNone: true);
        Assert.All(net.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void FreezeAndParameterCount()
    {
        var net = new Net(1);
        long total = 3 + (12 + 3) + 9 + (9 + 3) + (6 + 2);
        Assert.Equal(total, net.ParameterCount());
        net.Freeze(n => n.StartsWith("body.", StringComparison.Ordinal));
        Assert.Equal(total - 15 - 9, net.ParameterCount(trainableOnly: true));
        Assert.False(net.GetParameter("body.0.bias").RequiresGrad);
        net.Freeze();
        Assert.Equal(0, net.ParameterCount(trainableOnly: true));
        net.Unfreeze();
        Assert.Equal(total, net.ParameterCount(trainableOnly: true));
        var visited = new List<string>();
        net.Apply(m => visited.Add(m.GetType().Name));
        Assert.Equal(["Linear", "Gelu", "Linear", "Sequential", "Linear", "Linear", "ModuleList`1", "Net"], visited);
    }

    [Fact]
    public void ParametersCreatedInsideAScopeOutliveIt()
    {
        Linear lin;
        using (TensorScope.Begin()) lin = new Linear(3, 2, generator: new Generator(1));
        Assert.Equal(6, lin.Weight.ToArray().Length);
        var seq = new Sequential();
        using (TensorScope.Begin()) seq.Append(new Linear(3, 2));
        Assert.Equal(2, seq[0] is Linear l ? l.Bias!.ToArray().Length : 0);
    }

    [Fact]
    public void ToStringIsATree()
    {
        var seq = new Sequential(new Linear(2, 8, bias: false), new Gelu(), new Flatten(), new Identity());
        Assert.Equal(
            "Sequential(\n" +
            "  (0): Linear(in_features=2, out_features=8, bias=False)\n" +
            "  (1): Gelu(approximate='none')\n" +
            "  (2): Flatten(start_dim=1, end_dim=-1)\n" +
            "  (3): Identity()\n" +
            ")", seq.ToString());
        var list = new ModuleList<Sequential>([new Sequential(new Relu()), new Sequential(new Relu()), new Sequential(new Gelu())]);
        Assert.Equal(
            "ModuleList(\n" +
            "  (0-1): 2 x Sequential(\n" +
            "    (0): Relu()\n" +
            "  )\n" +
            "  (2): Sequential(\n" +
            "    (0): Gelu(approximate='none')\n" +
            "  )\n" +
            ")", list.ToString());
    }

    [Fact]
    public void LinearInitForwardAndSeeds()
    {
        var a = new Linear(50, 40, generator: new Generator(5));
        var b = new Linear(50, 40, generator: new Generator(5));
        var c = new Linear(50, 40, generator: new Generator(6));
        Assert.Equal(a.Weight.ToArray(), b.Weight.ToArray());
        Assert.Equal(a.Bias!.ToArray(), b.Bias!.ToArray());
        Assert.NotEqual(a.Weight.ToArray(), c.Weight.ToArray());
        float bound = 1 / MathF.Sqrt(50);
        Assert.All(a.Weight.ToArray(), w => Assert.InRange(w, -bound, bound));
        Assert.All(a.Bias!.ToArray(), w => Assert.InRange(w, -bound, bound));
        Assert.True(a.Weight.ToArray().Max() > 0.95f * bound);

        var lin = new Linear(2, 2);
        lin.Weight.AsSpan().SetFromArray([1, 2, 3, 4]);
        lin.Bias!.AsSpan().SetFromArray([10, 20]);
        var x = Tensor.FromArray([1f, 1f, 2f, 0f, 0f, 1f], 3, 2).Reshape(3, 2);
        Assert.Equal([13f, 27f, 12f, 26f, 12f, 24f], lin.Forward(x).ToArray());
        var x3 = Tensor.FromArray([1f, 1f, 2f, 0f], 2, 1, 2);
        Assert.Equal([2, 1, 2], lin.Forward(x3).Shape);
        Assert.Contains("[3, 5]", Assert.Throws<ArgumentException>(() => lin.Forward(Tensor.Zeros(3, 5))).Message);

        var y = lin.Forward(x).Sum();
        y.Backward();
        Assert.Equal([3f, 2f, 3f, 2f], lin.Weight.Grad!.ToArray());
        Assert.Equal([3f, 3f], lin.Bias.Grad!.ToArray());
    }

    [Fact]
    public void SimpleLayers()
    {
        var x = Tensor.FromArray([-1f, 0f, 2f, 3f, -4f, 5f], 1, 2, 3);
        Assert.Equal([0f, 0f, 2f, 3f, 0f, 5f], new Relu().Forward(x).ToArray());
        Assert.Equal(x.Gelu().ToArray(), new Gelu().Forward(x).ToArray());
        Assert.Equal(x.Gelu("tanh").ToArray(), new Gelu("tanh").Forward(x).ToArray());
        Assert.Same(x, new Identity().Forward(x));
        Assert.Equal([1, 6], new Flatten().Forward(x).Shape);
        Assert.Equal([2, 3], new Flatten(0, 1).Forward(x).Shape);
        Assert.Throws<ArgumentException>(() => new Gelu("fast"));
    }
}

internal static class SpanTestExtensions
{
    public static void SetFromArray(this Span<float> span, float[] values) => values.CopyTo(span);
}
