using System.Numerics.Tensors;
using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

// Element-wise ops: broadcasting arithmetic and unary math, each forward followed by its backward rule.
public partial class Tensor
{
    /// <summary>This tensor's elements densely, without recording autograd: itself if contiguous, else a copy.</summary>
    internal Tensor Dense()
    {
        if (IsContiguous) return this;
        var y = Empty(_shape);
        StridedCopy(this, y.AsSpan());
        return y;
    }

    internal ReadOnlySpan<float> DenseSpan() => Dense().AsSpan();

    // ---------------------------------------------------------------- broadcasting binary ops

    private enum BinaryKind { Add, Sub, Mul, Div }

    private static Tensor Binary(Tensor a, Tensor b, BinaryKind kind)
    {
        var shape = ShapeUtil.SameShape(a._shape, b._shape) ? a._shape : ShapeUtil.Broadcast(a._shape, b._shape, kind.ToString());
        var y = Empty(shape);
        BroadcastKernel(a.Dense(), b.Dense(), y, kind);
        return y;
    }

    /// <summary>y = a ∘ b with broadcasting; a and b dense. Collapses axes so the inner loop is one long TensorPrimitives call.</summary>
    private static void BroadcastKernel(Tensor a, Tensor b, Tensor y, BinaryKind kind)
    {
        var dst = y.AsSpan();
        var sa = a.Storage.AsSpan(a._offset, a.Numel);
        var sb = b.Storage.AsSpan(b._offset, b.Numel);
        if (dst.Length == 0) return;
        if (a.Numel == dst.Length && b.Numel == dst.Length) { Apply(kind, sa, sb, 1, 1, dst); return; }

        // Broadcast strides of a and b over y's axes (0 on broadcast axes), then merge axes that stay linear in both.
        int rank = y.Rank;
        var dims = new List<int>(); var strA = new List<int>(); var strB = new List<int>();
        var ca = ShapeUtil.ContiguousStrides(a._shape); var cb = ShapeUtil.ContiguousStrides(b._shape);
        for (int i = 0; i < rank; i++)
        {
            int ia = i - (rank - a.Rank), ib = i - (rank - b.Rank);
            int d = y._shape[i];
            if (d == 1) continue;
            int xa = ia >= 0 && a._shape[ia] != 1 ? ca[ia] : 0;
            int xb = ib >= 0 && b._shape[ib] != 1 ? cb[ib] : 0;
            int last = dims.Count - 1;
            if (last >= 0 && strA[last] == xa * d && strB[last] == xb * d)
            {
                dims[last] *= d; strA[last] = xa; strB[last] = xb;
            }
            else { dims.Add(d); strA.Add(xa); strB.Add(xb); }
        }
        int k = dims.Count;
        int inner = dims[k - 1], ia0 = strA[k - 1], ib0 = strB[k - 1];
        int rows = dst.Length / inner;
        var index = new int[k];
        int oa = 0, ob = 0;
        for (int r = 0; r < rows; r++)
        {
            var da = ia0 == 0 ? sa.Slice(oa, 1) : sa.Slice(oa, inner);
            var db = ib0 == 0 ? sb.Slice(ob, 1) : sb.Slice(ob, inner);
            Apply(kind, da, db, ia0, ib0, dst.Slice(r * inner, inner));
            for (int ax = k - 2; ax >= 0; ax--)
            {
                oa += strA[ax]; ob += strB[ax];
                if (++index[ax] < dims[ax]) break;
                oa -= strA[ax] * dims[ax]; ob -= strB[ax] * dims[ax];
                index[ax] = 0;
            }
        }
    }

    /// <summary>One row: stride 1 means a full span, stride 0 a broadcast scalar at [0].</summary>
    private static void Apply(BinaryKind kind, ReadOnlySpan<float> a, ReadOnlySpan<float> b, int strideA, int strideB, Span<float> dst)
    {
        if (strideA != 0 && strideB != 0)
        {
            switch (kind)
            {
                case BinaryKind.Add: TensorPrimitives.Add(a, b, dst); break;
                case BinaryKind.Sub: TensorPrimitives.Subtract(a, b, dst); break;
                case BinaryKind.Mul: TensorPrimitives.Multiply(a, b, dst); break;
                default: TensorPrimitives.Divide(a, b, dst); break;
            }
        }
        else if (strideA != 0)
        {
            float s = b[0];
            switch (kind)
            {
                case BinaryKind.Add: TensorPrimitives.Add(a, s, dst); break;
                case BinaryKind.Sub: TensorPrimitives.Subtract(a, s, dst); break;
                case BinaryKind.Mul: TensorPrimitives.Multiply(a, s, dst); break;
                default: TensorPrimitives.Divide(a, s, dst); break;
            }
        }
        else if (strideB != 0)
        {
            float s = a[0];
            switch (kind)
            {
                case BinaryKind.Add: TensorPrimitives.Add(b, s, dst); break;
                case BinaryKind.Sub: TensorPrimitives.Subtract(s, b, dst); break;
                case BinaryKind.Mul: TensorPrimitives.Multiply(b, s, dst); break;
                default: TensorPrimitives.Divide(s, b, dst); break;
            }
        }
        else
        {
            float x = a[0], z = b[0];
            dst.Fill(kind switch { BinaryKind.Add => x + z, BinaryKind.Sub => x - z, BinaryKind.Mul => x * z, _ => x / z });
        }
    }

    /// <summary>a + b with broadcasting. ∂/∂a = g (summed over broadcast axes), ∂/∂b = g.</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        var y = Binary(a, b, BinaryKind.Add);
        return Record(y, "Add", [a, b], g =>
        {
            a.AccumulateGrad(g.SumToShape(a._shape));
            b.AccumulateGrad(g.SumToShape(b._shape));
        });
    }

    /// <summary>a − b with broadcasting. ∂/∂a = g, ∂/∂b = −g.</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        var y = Binary(a, b, BinaryKind.Sub);
        return Record(y, "Sub", [a, b], g =>
        {
            a.AccumulateGrad(g.SumToShape(a._shape));
            if (b._requiresGrad) b.AccumulateGrad(Neg(g).SumToShape(b._shape));
        });
    }

    /// <summary>a ⊙ b with broadcasting. ∂/∂a = g ⊙ b, ∂/∂b = g ⊙ a.</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        var y = Binary(a, b, BinaryKind.Mul);
        return Record(y, "Mul", [a, b], g =>
        {
            if (a._requiresGrad) a.AccumulateGrad(Binary(g, b, BinaryKind.Mul).SumToShape(a._shape));
            if (b._requiresGrad) b.AccumulateGrad(Binary(g, a, BinaryKind.Mul).SumToShape(b._shape));
        });
    }

    /// <summary>a / b with broadcasting. ∂/∂a = g / b, ∂/∂b = −g·a / b².</summary>
    public static Tensor Div(Tensor a, Tensor b)
    {
        var y = Binary(a, b, BinaryKind.Div);
        return Record(y, "Div", [a, b], g =>
        {
            var gOverB = Binary(g, b, BinaryKind.Div);
            if (a._requiresGrad) a.AccumulateGrad(gOverB.SumToShape(a._shape));
            if (b._requiresGrad) b.AccumulateGrad(Neg(Binary(gOverB, y, BinaryKind.Mul)).SumToShape(b._shape));
        });
    }

    /// <summary>x + s.</summary>
    public Tensor Add(float s) => UnaryMap("AddScalar", (x, d) => TensorPrimitives.Add(x, s, d), (x, y, g, dx) => g.CopyTo(dx));
    /// <summary>x · s.</summary>
    public Tensor Mul(float s) => UnaryMap("MulScalar", (x, d) => TensorPrimitives.Multiply(x, s, d), (x, y, g, dx) => TensorPrimitives.Multiply(g, s, dx));

    /// <summary>a + b.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);
    /// <summary>a − b.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);
    /// <summary>a ⊙ b.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);
    /// <summary>a / b.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);
    /// <summary>a + s.</summary>
    public static Tensor operator +(Tensor a, float s) => a.Add(s);
    /// <summary>s + a.</summary>
    public static Tensor operator +(float s, Tensor a) => a.Add(s);
    /// <summary>a − s.</summary>
    public static Tensor operator -(Tensor a, float s) => a.Add(-s);
    /// <summary>s − a.</summary>
    public static Tensor operator -(float s, Tensor a) => Neg(a).Add(s);
    /// <summary>a · s.</summary>
    public static Tensor operator *(Tensor a, float s) => a.Mul(s);
    /// <summary>s · a.</summary>
    public static Tensor operator *(float s, Tensor a) => a.Mul(s);
    /// <summary>a / s.</summary>
    public static Tensor operator /(Tensor a, float s) => a.Mul(1f / s);
    /// <summary>s / a.</summary>
    public static Tensor operator /(float s, Tensor a) => Div(Full([], s), a);
    /// <summary>−a.</summary>
    public static Tensor operator -(Tensor a) => Neg(a);

    // ---------------------------------------------------------------- unary ops

    private delegate void SpanMap(ReadOnlySpan<float> x, Span<float> y);
    private delegate void SpanGrad(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> g, Span<float> dx);

    /// <summary>
    /// Shared driver for unary ops: y = f(x) element by element (parallel when large), and a backward rule
    /// dx = f'(x, y, g) that may read the saved input or output.
    /// </summary>
    private Tensor UnaryMap(string name, SpanMap forward, SpanGrad backward)
    {
        var x = Dense();
        var y = Empty(_shape);
        var xs = x.Storage; int xo = x._offset;
        var ys = y.Storage; int yo = y._offset;
        ParallelChunks.For(Numel, ParallelChunks.MinParallelElements, (s, n) => forward(xs.AsSpan(xo + s, n), ys.AsSpan(yo + s, n)));
        return Record(y, name, [this], g =>
        {
            var gd = g.Dense();
            var dx = Empty(_shape);
            var gs = gd.Storage; int go = gd._offset; var ds = dx.Storage;
            ParallelChunks.For(Numel, ParallelChunks.MinParallelElements, (s, n) =>
                backward(xs.AsSpan(xo + s, n), ys.AsSpan(yo + s, n), gs.AsSpan(go + s, n), ds.AsSpan(s, n)));
            AccumulateGrad(dx);
        });
    }


    /// <summary>−x. ∂ = −g.</summary>
    public static Tensor Neg(Tensor x) => x.UnaryMap("Neg", (a, y) => TensorPrimitives.Negate(a, y), (a, y, g, dx) => TensorPrimitives.Negate(g, dx));

    /// <summary>eˣ. ∂ = g·y.</summary>
    public Tensor Exp() => UnaryMap("Exp", (a, y) => TensorPrimitives.Exp(a, y), (a, y, g, dx) => TensorPrimitives.Multiply(g, y, dx));

    /// <summary>ln x. ∂ = g / x.</summary>
    public Tensor Log() => UnaryMap("Log", (a, y) => TensorPrimitives.Log(a, y), (a, y, g, dx) => TensorPrimitives.Divide(g, a, dx));

    /// <summary>√x. ∂ = g / (2y).</summary>
    public Tensor Sqrt() => UnaryMap("Sqrt", (a, y) => TensorPrimitives.Sqrt(a, y), (a, y, g, dx) =>
    {
        TensorPrimitives.Divide(g, y, dx);
        TensorPrimitives.Multiply(dx, 0.5f, dx);
    });

    /// <summary>xᵖ. ∂ = g·p·xᵖ⁻¹.</summary>
    public Tensor Pow(float p) => UnaryMap("Pow", (a, y) =>
    {
        if (p == 2f) TensorPrimitives.Multiply(a, a, y);
        else TensorPrimitives.Pow(a, p, y);
    }, (a, y, g, dx) =>
    {
        if (p == 2f) TensorPrimitives.Multiply(a, 2f, dx);
        else { TensorPrimitives.Pow(a, p - 1f, dx); TensorPrimitives.Multiply(dx, p, dx); }
        TensorPrimitives.Multiply(dx, g, dx);
    });

    /// <summary>|x|. ∂ = g·sign(x) (0 at 0, as PyTorch).</summary>
    public Tensor Abs() => UnaryMap("Abs", (a, y) => TensorPrimitives.Abs(a, y), (a, y, g, dx) =>
    {
        for (int i = 0; i < a.Length; i++) dx[i] = a[i] > 0 ? g[i] : a[i] < 0 ? -g[i] : 0f;
    });

    /// <summary>min(max(x, lo), hi). ∂ = g where lo ≤ x ≤ hi, else 0 (PyTorch passes the gradient at the bounds).</summary>
    public Tensor Clamp(float min = float.NegativeInfinity, float max = float.PositiveInfinity) => UnaryMap("Clamp", (a, y) =>
    {
        TensorPrimitives.Max(a, min, y);
        TensorPrimitives.Min(y, max, y);
    }, (a, y, g, dx) =>
    {
        for (int i = 0; i < a.Length; i++) dx[i] = a[i] >= min && a[i] <= max ? g[i] : 0f;
    });

    /// <summary>max(x, 0). ∂ = g·[x &gt; 0].</summary>
    public Tensor Relu() => UnaryMap("Relu", (a, y) => TensorPrimitives.Max(a, 0f, y), (a, y, g, dx) =>
    {
        for (int i = 0; i < a.Length; i++) dx[i] = a[i] > 0 ? g[i] : 0f;
    });

    /// <summary>
    /// GELU. <paramref name="approximate"/> = "none" (default, exact erf form, timm/PyTorch default):
    /// x·Φ(x); "tanh": ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
    /// </summary>
    public Tensor Gelu(string approximate = "none") => approximate switch
    {
        "none" => UnaryMap("Gelu", Activations.GeluErf, (a, y, g, dx) => Activations.GeluErfBackward(a, g, dx)),
        "tanh" => UnaryMap("GeluTanh", Activations.GeluTanh, (a, y, g, dx) => Activations.GeluTanhBackward(a, g, dx)),
        _ => throw new ArgumentException($"Gelu: approximate must be \"none\" or \"tanh\", got \"{approximate}\"."),
    };

    /// <summary>σ(x) = 1 / (1 + e⁻ˣ). ∂ = g·y(1 − y).</summary>
    public Tensor Sigmoid() => UnaryMap("Sigmoid", (a, y) => TensorPrimitives.Sigmoid(a, y), (a, y, g, dx) =>
    {
        for (int i = 0; i < a.Length; i++) dx[i] = g[i] * y[i] * (1f - y[i]);
    });

    /// <summary>tanh x. ∂ = g·(1 − y²).</summary>
    public Tensor Tanh() => UnaryMap("Tanh", (a, y) => TensorPrimitives.Tanh(a, y), (a, y, g, dx) =>
    {
        for (int i = 0; i < a.Length; i++) dx[i] = g[i] * (1f - y[i] * y[i]);
    });

    /// <summary>−x (PyTorch <c>neg</c>).</summary>
    public Tensor Neg() => Neg(this);
    /// <summary>x².</summary>
    public Tensor Square() => Pow(2f);
}
