using System.Numerics.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Tensors.Optim;

/// <summary>Gradient clipping (PyTorch <c>torch.nn.utils.clip_grad_norm_</c>).</summary>
public static class GradClip
{
    /// <summary>
    /// Rescales the gradients of <paramref name="parameters"/> in place so that their joint norm is at most
    /// <paramref name="maxNorm"/>, exactly as PyTorch: total = ‖(‖g₁‖_p, ‖g₂‖_p, …)‖_p = (Σᵢ Σⱼ |gᵢⱼ|ᵖ)^{1/p}
    /// (max |gᵢⱼ| for p = ∞), coef = min(maxNorm / (total + 1e−6), 1), every g ← g·coef. Parameters with a null
    /// gradient are ignored. Norms are accumulated in double.
    /// </summary>
    /// <returns>The total norm before clipping (PyTorch returns it too); 0 when no parameter has a gradient.</returns>
    public static double ClipGradNorm(IEnumerable<Parameter> parameters, double maxNorm, double normType = 2)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(normType > 0)) throw new ArgumentException($"ClipGradNorm: norm type must be > 0 (or +∞), got {normType}.");
        var grads = new List<Tensor>();
        foreach (var p in parameters) if (p.Grad is { } g) grads.Add(g);
        if (grads.Count == 0) return 0;
        double total;
        if (double.IsPositiveInfinity(normType))
        {
            total = 0;
            foreach (var g in grads) total = Math.Max(total, g.Numel == 0 ? 0 : Math.Abs(TensorPrimitives.MaxMagnitude(Span(g))));
        }
        else
        {
            double acc = 0;
            foreach (var g in grads)
            {
                var s = Span(g);
                if (normType == 2) { for (int i = 0; i < s.Length; i++) acc += (double)s[i] * s[i]; }
                else if (normType == 1) { for (int i = 0; i < s.Length; i++) acc += Math.Abs((double)s[i]); }
                else { for (int i = 0; i < s.Length; i++) acc += Math.Pow(Math.Abs((double)s[i]), normType); }
            }
            total = normType == 1 ? acc : normType == 2 ? Math.Sqrt(acc) : Math.Pow(acc, 1 / normType);
        }
        double coef = Math.Min(maxNorm / (total + 1e-6), 1.0);
        foreach (var g in grads)
        {
            if (g.IsContiguous) TensorPrimitives.Multiply(g.AsSpan(), (float)coef, g.AsSpan());
            else using (TensorScope.Suspend()) g.CopyFrom(g.Contiguous().Mul((float)coef));
        }
        return total;
    }

    private static ReadOnlySpan<float> Span(Tensor g) => g.IsContiguous ? g.AsSpan() : g.ToArray();
}
