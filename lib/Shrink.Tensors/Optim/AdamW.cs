using System.Runtime.Intrinsics;
using Shrink.Tensors.Nn;

namespace Shrink.Tensors.Optim;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov &amp; Hutter), exactly PyTorch's <c>torch.optim.AdamW</c> update for each
/// parameter p with gradient g at its step t = 1, 2, … (λ weight decay, β₁, β₂, ε):
/// <code>
/// p = p·(1 − lr·λ)                        (decoupled decay, before the Adam step)
/// m = m + (1 − β₁)·(g − m)                (lerp towards g: m = β₁m + (1 − β₁)g)
/// v = β₂·v + (1 − β₂)·g²
/// v̂max = max(v̂max, v)                    (amsgrad only; the denominator then uses v̂max instead of v)
/// denom = √v / √(1 − β₂ᵗ) + ε              (ε added after the square root of the bias-corrected v)
/// p = p − (lr / (1 − β₁ᵗ))·m / denom
/// </code>
/// m, v (and v̂max) start at zero. Computed in float32 with the scalars rounded to float, vectorised, in place.
/// </summary>
public sealed class AdamW : Optimizer
{
    private static readonly string[] SlotsPlain = ["exp_avg", "exp_avg_sq"];
    private static readonly string[] SlotsAmsgrad = ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"];
    private static readonly string[] Hyper = ["beta1", "beta2", "eps", "amsgrad"];

    /// <summary>Decay rate β₁ of the first moment.</summary>
    public double Beta1 { get; private set; }

    /// <summary>Decay rate β₂ of the second moment.</summary>
    public double Beta2 { get; private set; }

    /// <summary>ε added to the denominator.</summary>
    public double Eps { get; private set; }

    /// <summary>Whether the AMSGrad variant (running maximum of v) is used.</summary>
    public bool Amsgrad { get; }

    /// <summary>AdamW over one group of <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false)
        : this(SingleGroup(parameters), lr, beta1, beta2, eps, weightDecay, amsgrad) { }

    /// <summary>AdamW over parameter <paramref name="groups"/>; groups without their own lr / weight decay use these.</summary>
    /// <exception cref="ArgumentException">A β outside [0, 1) or a negative ε.</exception>
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false)
        : base(groups, lr, weightDecay)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentException($"AdamW: beta1 must be in [0, 1), got {beta1}.");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentException($"AdamW: beta2 must be in [0, 1), got {beta2}.");
        if (!(eps >= 0)) throw new ArgumentException($"AdamW: eps must be ≥ 0, got {eps}.");
        Beta1 = beta1; Beta2 = beta2; Eps = eps; Amsgrad = amsgrad;
    }

    /// <inheritdoc/>
    protected override IReadOnlyList<string> StateNames => Amsgrad ? SlotsAmsgrad : SlotsPlain;

    /// <inheritdoc/>
    protected override IReadOnlyList<string> HyperparameterNames => Hyper;

    /// <inheritdoc/>
    protected override double GetHyperparameter(string name) => name switch
    {
        "beta1" => Beta1,
        "beta2" => Beta2,
        "eps" => Eps,
        "amsgrad" => Amsgrad ? 1 : 0,
        _ => throw new ArgumentException($"AdamW: no hyperparameter '{name}'."),
    };

    /// <inheritdoc/>
    protected override void SetHyperparameter(string name, double value)
    {
        switch (name)
        {
            case "beta1": Beta1 = value; break;
            case "beta2": Beta2 = value; break;
            case "eps": Eps = value; break;
            default: throw new ArgumentException($"AdamW: cannot set hyperparameter '{name}'.");
        }
    }

    /// <inheritdoc/>
    protected override bool IsStructural(string name) => name == "amsgrad";

    /// <inheritdoc/>
    protected override void Update(ParamGroup group, Span<float> p, ReadOnlySpan<float> g, ParamState state, Parameter parameter)
    {
        var slots = state.Slots;
        slots[0] ??= StateZeros(parameter);
        slots[1] ??= StateZeros(parameter);
        if (Amsgrad) slots[2] ??= StateZeros(parameter);
        int t = ++state.Step;
        double lr = group.Lr, wd = group.WeightDecay;
        double bc1 = 1 - Math.Pow(Beta1, t), bc2 = 1 - Math.Pow(Beta2, t);
        var k = new Constants(
            Decay: wd != 0 ? (float)(1 - lr * wd) : 1f,
            W1: (float)(1 - Beta1),
            Beta2: (float)Beta2,
            W2: (float)(1 - Beta2),
            Bc2Sqrt: (float)Math.Sqrt(bc2),
            Eps: (float)Eps,
            NegStepSize: (float)(-lr / bc1));
        Kernel(p, g, slots[0]!.AsSpan(), slots[1]!.AsSpan(), Amsgrad ? slots[2]!.AsSpan() : default, k, Amsgrad);
    }

    private readonly record struct Constants(float Decay, float W1, float Beta2, float W2, float Bc2Sqrt, float Eps, float NegStepSize);

    /// <summary>
    /// The fused update over one parameter. m's lerp follows PyTorch: m + w(g − m) for w &lt; ½, else g − (g − m)(1 − w).
    /// </summary>
    private static void Kernel(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Span<float> vmax, Constants k, bool amsgrad)
    {
        bool lowWeight = k.W1 < 0.5f;
        float w1c = 1f - k.W1;
        var decay = Vector512.Create(k.Decay); var w1 = Vector512.Create(k.W1); var w1cv = Vector512.Create(w1c);
        var b2 = Vector512.Create(k.Beta2); var w2 = Vector512.Create(k.W2);
        var bc2 = Vector512.Create(k.Bc2Sqrt); var eps = Vector512.Create(k.Eps); var step = Vector512.Create(k.NegStepSize);
        int i = 0;
        for (; i <= p.Length - 16; i += 16)
        {
            var vg = Vector512.Create(g.Slice(i, 16));
            var vm = Vector512.Create(m.Slice(i, 16));
            var diff = vg - vm;
            vm = lowWeight ? Vector512.FusedMultiplyAdd(w1, diff, vm) : vg - diff * w1cv;
            vm.CopyTo(m.Slice(i, 16));
            var vv = Vector512.FusedMultiplyAdd(w2, vg * vg, Vector512.Create(v.Slice(i, 16)) * b2);
            vv.CopyTo(v.Slice(i, 16));
            if (amsgrad)
            {
                vv = Vector512.Max(Vector512.Create(vmax.Slice(i, 16)), vv);
                vv.CopyTo(vmax.Slice(i, 16));
            }
            var denom = Vector512.Sqrt(vv) / bc2 + eps;
            var vp = Vector512.Create(p.Slice(i, 16)) * decay;
            Vector512.FusedMultiplyAdd(step, vm / denom, vp).CopyTo(p.Slice(i, 16));
        }
        for (; i < p.Length; i++)
        {
            float gi = g[i], mi = m[i], diff = gi - mi;
            mi = lowWeight ? MathF.FusedMultiplyAdd(k.W1, diff, mi) : gi - diff * w1c;
            m[i] = mi;
            float vi = MathF.FusedMultiplyAdd(k.W2, gi * gi, v[i] * k.Beta2);
            v[i] = vi;
            if (amsgrad) { vi = MathF.Max(vmax[i], vi); vmax[i] = vi; }
            float denom = MathF.Sqrt(vi) / k.Bc2Sqrt + k.Eps;
            p[i] = MathF.FusedMultiplyAdd(k.NegStepSize, mi / denom, p[i] * k.Decay);
        }
    }
}
