using System.Runtime.Intrinsics;
using Shrink.Tensors.Nn;

namespace Shrink.Tensors.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay, exactly
/// PyTorch's <c>torch.optim.SGD</c> update for each parameter p with gradient g (λ weight decay, μ momentum, τ dampening):
/// <code>
/// d = g + λ·p                                  (when λ ≠ 0: weight decay added to the gradient)
/// b = d                 on the first step      (momentum buffer, when μ ≠ 0)
/// b = μ·b + (1 − τ)·d   afterwards
/// d = d + μ·b  (Nesterov)   or   d = b
/// p = p − lr·d
/// </code>
/// Computed in float32 with the scalars rounded to float, vectorised, in place.
/// </summary>
public sealed class Sgd : Optimizer
{
    private static readonly string[] Slots = ["momentum_buffer"];
    private static readonly string[] Hyper = ["momentum", "dampening", "nesterov"];

    /// <summary>Momentum factor μ (0 = plain SGD).</summary>
    public double Momentum { get; private set; }

    /// <summary>Dampening τ of the momentum buffer.</summary>
    public double Dampening { get; private set; }

    /// <summary>Nesterov momentum.</summary>
    public bool Nesterov { get; }

    /// <summary>SGD over one group of <paramref name="parameters"/>.</summary>
    public Sgd(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : this(SingleGroup(parameters), lr, momentum, dampening, weightDecay, nesterov) { }

    /// <summary>SGD over parameter <paramref name="groups"/>; groups without their own lr / weight decay use these.</summary>
    /// <exception cref="ArgumentException">Negative hyperparameters, or Nesterov without momentum or with dampening (as PyTorch).</exception>
    public Sgd(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base(groups, lr, weightDecay)
    {
        if (!(momentum >= 0)) throw new ArgumentException($"Sgd: momentum must be ≥ 0, got {momentum}.");
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException($"Sgd: Nesterov momentum requires momentum > 0 and zero dampening (got momentum {momentum}, dampening {dampening}).");
        Momentum = momentum; Dampening = dampening; Nesterov = nesterov;
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateNames => Slots;

    /// <inheritdoc/>
    protected override bool CountsSteps => false;

    /// <inheritdoc/>
    protected override IReadOnlyList<string> HyperparameterNames => Hyper;

    /// <inheritdoc/>
    protected override double GetHyperparameter(string name) => name switch
    {
        "momentum" => Momentum,
        "dampening" => Dampening,
        "nesterov" => Nesterov ? 1 : 0,
        _ => throw new ArgumentException($"Sgd: no hyperparameter '{name}'."),
    };

    /// <inheritdoc/>
    protected override void SetHyperparameter(string name, double value)
    {
        switch (name)
        {
            case "momentum": Momentum = value; break;
            case "dampening": Dampening = value; break;
            default: throw new ArgumentException($"Sgd: cannot set hyperparameter '{name}'.");
        }
    }

    /// <inheritdoc/>
    protected override bool IsStructural(string name) => name == "nesterov";

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Span<float> p, ReadOnlySpan<float> g, ParamState state, Parameter parameter)
    {
        float lr = (float)group.Lr, wd = (float)group.WeightDecay, mu = (float)Momentum, keep = (float)(1 - Dampening);
        state.Step++;
        if (Momentum == 0) { PlainStep(p, g, lr, wd); return; }
        var buffer = state.Slots[0];
        if (buffer is null)
        {
            state.Slots[0] = buffer = StateZeros(parameter);
            FirstMomentumStep(p, g, buffer.AsSpan(), lr, wd, mu, Nesterov);
        }
        else MomentumStep(p, g, buffer.AsSpan(), lr, wd, mu, keep, Nesterov);
    }

    /// <summary>p = p − lr·(g + λp).</summary>
    private static void PlainStep(Span<float> p, ReadOnlySpan<float> g, float lr, float wd)
    {
        var vlr = Vector512.Create(-lr); var vwd = Vector512.Create(wd);
        int i = 0;
        for (; i <= p.Length - 16; i += 16)
        {
            var vp = Vector512.Create(p.Slice(i, 16));
            var d = Vector512.FusedMultiplyAdd(vwd, vp, Vector512.Create(g.Slice(i, 16)));
            Vector512.FusedMultiplyAdd(vlr, d, vp).CopyTo(p.Slice(i, 16));
        }
        for (; i < p.Length; i++)
        {
            float d = MathF.FusedMultiplyAdd(wd, p[i], g[i]);
            p[i] = MathF.FusedMultiplyAdd(-lr, d, p[i]);
        }
    }

    /// <summary>First step: d = g + λp, b = d, then p = p − lr·(d + μb) (Nesterov) or p − lr·b.</summary>
    private static void FirstMomentumStep(Span<float> p, ReadOnlySpan<float> g, Span<float> b, float lr, float wd, float mu, bool nesterov)
    {
        var vlr = Vector512.Create(-lr); var vwd = Vector512.Create(wd); var vmu = Vector512.Create(mu);
        int i = 0;
        for (; i <= p.Length - 16; i += 16)
        {
            var vp = Vector512.Create(p.Slice(i, 16));
            var d = Vector512.FusedMultiplyAdd(vwd, vp, Vector512.Create(g.Slice(i, 16)));
            d.CopyTo(b.Slice(i, 16));
            var step = nesterov ? Vector512.FusedMultiplyAdd(vmu, d, d) : d;
            Vector512.FusedMultiplyAdd(vlr, step, vp).CopyTo(p.Slice(i, 16));
        }
        for (; i < p.Length; i++)
        {
            float d = MathF.FusedMultiplyAdd(wd, p[i], g[i]);
            b[i] = d;
            float step = nesterov ? MathF.FusedMultiplyAdd(mu, d, d) : d;
            p[i] = MathF.FusedMultiplyAdd(-lr, step, p[i]);
        }
    }

    /// <summary>d = g + λp; b = μb + (1 − τ)d; p = p − lr·(d + μb) (Nesterov) or p − lr·b.</summary>
    private static void MomentumStep(Span<float> p, ReadOnlySpan<float> g, Span<float> b, float lr, float wd, float mu, float keep, bool nesterov)
    {
        var vlr = Vector512.Create(-lr); var vwd = Vector512.Create(wd); var vmu = Vector512.Create(mu); var vkeep = Vector512.Create(keep);
        int i = 0;
        for (; i <= p.Length - 16; i += 16)
        {
            var vp = Vector512.Create(p.Slice(i, 16));
            var d = Vector512.FusedMultiplyAdd(vwd, vp, Vector512.Create(g.Slice(i, 16)));
            var vb = Vector512.FusedMultiplyAdd(vkeep, d, Vector512.Create(b.Slice(i, 16)) * vmu);
            vb.CopyTo(b.Slice(i, 16));
            var step = nesterov ? Vector512.FusedMultiplyAdd(vmu, vb, d) : vb;
            Vector512.FusedMultiplyAdd(vlr, step, vp).CopyTo(p.Slice(i, 16));
        }
        for (; i < p.Length; i++)
        {
            float d = MathF.FusedMultiplyAdd(wd, p[i], g[i]);
            float nb = MathF.FusedMultiplyAdd(keep, d, b[i] * mu);
            b[i] = nb;
            float step = nesterov ? MathF.FusedMultiplyAdd(mu, nb, d) : nb;
            p[i] = MathF.FusedMultiplyAdd(-lr, step, p[i]);
        }
    }
}
