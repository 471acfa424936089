namespace Shrink.Tensors;

/// <summary>
/// One recorded op on the autograd tape: its name, the inputs it read and the rule that turns the
/// gradient of its output (∂L/∂y) into gradients of its inputs, accumulated with <see cref="Tensor.AccumulateGrad"/>.
/// </summary>
public sealed class GradFn
{
    internal GradFn(string name, Tensor[] inputs, Action<Tensor> backward) { Name = name; Inputs = inputs; BackwardRule = backward; }

    /// <summary>The op's name as PyTorch prints it without the suffix (e.g. <c>MatMul</c>, <c>Softmax</c>).</summary>
    public string Name { get; }

    internal Tensor[] Inputs { get; }
    internal Action<Tensor> BackwardRule { get; }
    internal bool Freed { get; set; }

    /// <inheritdoc/>
    public override string ToString() => Name + "Backward";
}

/// <summary>Autograd switches: whether ops record the tape on this thread.</summary>
public static class GradMode
{
    [ThreadStatic] private static bool _disabled;

    /// <summary>True unless inside <see cref="Tensor.NoGrad"/>.</summary>
    public static bool IsEnabled => !_disabled;

    /// <summary>Restores the previous grad mode when disposed.</summary>
    public readonly struct Region : IDisposable
    {
        private readonly bool _previous;
        internal Region(bool disable) { _previous = _disabled; _disabled = disable; }
        /// <summary>Restores the previous mode.</summary>
        public void Dispose() => _disabled = _previous;
    }

    internal static Region Set(bool enabled) => new(!enabled);
}

public partial class Tensor
{
    /// <summary>Inside the returned region no op records autograd (PyTorch <c>torch.no_grad()</c>): <c>using var _ = Tensor.NoGrad();</c></summary>
    public static GradMode.Region NoGrad() => GradMode.Set(false);

    /// <summary>Re-enables recording inside a <see cref="NoGrad"/> region (PyTorch <c>torch.enable_grad()</c>).</summary>
    public static GradMode.Region EnableGrad() => GradMode.Set(true);

    /// <summary>
    /// Whether gradients flow to this tensor. Settable on leaves (tensors no op produced), as in
    /// PyTorch's <c>requires_grad_()</c>; op outputs require grad when any input does.
    /// </summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (_gradFn is not null && !value) throw new InvalidOperationException("RequiresGrad can only be cleared on leaf tensors; use Detach() for op outputs.");
            _requiresGrad = value;
        }
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor (PyTorch <c>requires_grad_()</c>).</summary>
    public Tensor RequiresGrad_(bool requiresGrad = true) { RequiresGrad = requiresGrad; return this; }

    /// <summary>Accumulated ∂L/∂this after <see cref="Backward"/>, for leaves (and for non-leaves after <see cref="RetainGrad"/>).</summary>
    public Tensor? Grad { get; set; }

    /// <summary>The op that produced this tensor, or null for a leaf.</summary>
    public GradFn? GradFn => _gradFn;

    /// <summary>True when no recorded op produced this tensor.</summary>
    public bool IsLeaf => _gradFn is null;

    /// <summary>Keeps the gradient of this non-leaf in <see cref="Grad"/> after <see cref="Backward"/> (PyTorch <c>retain_grad()</c>).</summary>
    public Tensor RetainGrad() { _retainGrad = true; return this; }

    /// <summary>A tensor sharing this one's storage that is cut from the tape (PyTorch <c>detach()</c>).</summary>
    public Tensor Detach() => new(Storage, _offset, _shape, _strides, this, pooled: false);

    /// <summary>Records <paramref name="backward"/> as the gradient rule of <paramref name="output"/> when grad mode is on and any input requires grad.</summary>
    internal static Tensor Record(Tensor output, string name, Tensor[] inputs, Action<Tensor> backward)
    {
        if (!GradMode.IsEnabled) return output;
        bool any = false;
        foreach (var t in inputs) any |= t._requiresGrad;
        if (!any) return output;
        output._gradFn = new GradFn(name, inputs, backward);
        output._requiresGrad = true;
        return output;
    }

    internal static bool NeedsGrad(Tensor a) => GradMode.IsEnabled && a._requiresGrad;
    internal static bool NeedsGrad(Tensor a, Tensor b) => GradMode.IsEnabled && (a._requiresGrad || b._requiresGrad);

    /// <summary>
    /// Adds <paramref name="grad"/> (same shape as this tensor) to this tensor's gradient. Leaves accumulate
    /// into <see cref="Grad"/>, which lives outside any scope; non-leaves hold it until Backward reaches them.
    /// Called by backward rules; a no-op when this tensor does not require grad.
    /// </summary>
    internal void AccumulateGrad(Tensor grad)
    {
        if (!_requiresGrad) return;
        if (!ShapeUtil.SameShape(grad._shape, _shape))
            throw new InvalidOperationException($"Internal autograd error: gradient of shape {ShapeUtil.Format(grad._shape)} for a tensor of shape {ShapeUtil.Format(_shape)}.");
        if (_gradFn is null)
        {
            if (Grad is null)
            {
                using (TensorScope.Suspend()) Grad = Empty(_shape);
                StridedCopy(grad, Grad.AsSpan());
            }
            else AddInto(Grad, grad);
        }
        else
        {
            if (_gradAccum is null) _gradAccum = grad;
            else
            {
                var sum = Empty(_shape);
                StridedCopy(_gradAccum, sum.AsSpan());
                AddInto(sum, grad);
                _gradAccum = sum;
            }
        }
    }

    /// <summary>dst += src for a contiguous <paramref name="dst"/> of the same shape.</summary>
    private static void AddInto(Tensor dst, Tensor src)
    {
        var d = dst.AsSpan();
        if (src.IsContiguous) System.Numerics.Tensors.TensorPrimitives.Add(d, src.AsSpan(), d);
        else
        {
            var tmp = src.Contiguous();
            System.Numerics.Tensors.TensorPrimitives.Add(d, tmp.AsSpan(), d);
        }
    }

    /// <summary>
    /// Back-propagates from this tensor: computes ∂this/∂x for every leaf x that requires grad and adds it to
    /// x.<see cref="Grad"/> (gradients accumulate across calls until zeroed). Without <paramref name="gradient"/> this
    /// tensor must hold one element (a loss). The tape is freed afterwards unless <paramref name="retainGraph"/>.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        if (!_requiresGrad) throw new InvalidOperationException("Backward: this tensor does not require grad (no input had RequiresGrad, or it was computed under NoGrad).");
        if (gradient is null)
        {
            if (Numel != 1) throw new InvalidOperationException($"Backward without a gradient needs a one-element tensor; this one has shape {ShapeUtil.Format(_shape)}.");
            gradient = OnesLike(this);
        }
        else if (!ShapeUtil.SameShape(gradient._shape, _shape))
            throw new ArgumentException($"Backward: gradient shape {ShapeUtil.Format(gradient._shape)} does not match tensor shape {ShapeUtil.Format(_shape)}.");

        var order = TopologicalOrder(this);
        using var _ = NoGrad();
        AccumulateGrad(gradient);
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            var fn = t._gradFn!;
            if (fn.Freed) throw new InvalidOperationException($"Backward through {fn} a second time: the tape was freed after the first Backward. Pass retainGraph: true to the first call.");
            var g = t._gradAccum;
            t._gradAccum = null;
            if (g is null) continue;
            if (t._retainGrad)
            {
                if (t.Grad is null) using (TensorScope.Suspend()) { t.Grad = Empty(t._shape); StridedCopy(g, t.Grad.AsSpan()); }
                else AddInto(t.Grad, g);
            }
            fn.BackwardRule(g);
            if (!retainGraph) fn.Freed = true;
        }
    }

    /// <summary>Non-leaf tensors reachable from <paramref name="root"/>, each after all tensors it depends on.</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        if (root._gradFn is null) return order;
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor node, int next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var inputs = node._gradFn!.Inputs;
            if (next < inputs.Length)
            {
                stack.Push((node, next + 1));
                var child = inputs[next];
                if (child._gradFn is not null && child._requiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(node);
        }
        return order;
    }
}
