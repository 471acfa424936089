using System.Globalization;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Genes;

/// <summary>
/// The fixed coefficients of the linear decomposition (the paper's Eqs. 1–3): layer l = 1 … L of a depth-L model gets
/// <code>
/// W_l = Σ_{n=1..k} a(l, n)·A_n,   a(l, n) = φ_{m(n)}(x_l),   x_l = (l − 1)/L
/// </code>
/// with φ the <see cref="LearngeneBasis"/> and m(n) = n (<see cref="LearngeneIndexing.Paper"/>) or n − 1
/// (<see cref="LearngeneIndexing.Tleg"/>). x runs over {0, 1/L, …, (L − 1)/L} ⊂ [0, 1), so a recomposed depth L' samples the
/// same curves at x = (l − 1)/L'. The coefficients are never trained. Everything is computed in double precision.
/// </summary>
public static class LearngeneCoefficients
{
    /// <summary>The layer position x_l = (l − 1)/L of layer <paramref name="layer"/> (1-based) in a model of depth <paramref name="depth"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">depth &lt; 1 or layer outside 1 … depth.</exception>
    public static double Position(int layer, int depth)
    {
        CheckDepth(depth);
        if (layer < 1 || layer > depth)
            throw new ArgumentOutOfRangeException(nameof(layer), $"LearngeneCoefficients: layer {layer} is outside 1 … {depth} (layers are 1-based, as in the paper).");
        return (layer - 1) / (double)depth;
    }

    /// <summary>The basis function of order <paramref name="order"/> ≥ 0 at <paramref name="x"/> (see <see cref="LearngeneBasis"/> for each family).</summary>
    /// <exception cref="ArgumentOutOfRangeException">order &lt; 0 or an unknown basis.</exception>
    public static double Evaluate(LearngeneBasis basis, int order, double x)
    {
        if (order < 0) throw new ArgumentOutOfRangeException(nameof(order), $"LearngeneCoefficients: the order of a basis function must be ≥ 0, got {order}.");
        switch (basis)
        {
            case LearngeneBasis.Chebyshev:
            {
                if (order == 0) return 1;
                double previous = 1, current = x;                         // T₀, T₁
                for (int m = 1; m < order; m++) (previous, current) = (current, 2 * x * current - previous);
                return current;
            }
            case LearngeneBasis.Legendre:
            {
                if (order == 0) return 1;
                double previous = 1, current = x;                         // P₀, P₁
                for (int m = 1; m < order; m++) (previous, current) = (current, ((2 * m + 1) * x * current - m * previous) / (m + 1));
                return current;
            }
            case LearngeneBasis.Taylor:
            {
                double v = 1;
                for (int m = 0; m < order; m++) v *= x;
                return v;
            }
            case LearngeneBasis.Fourier:
            {
                if (order == 0) return 1;
                int j = (order + 1) / 2;
                return order % 2 == 1 ? Math.Sin(j * Math.PI * x) : Math.Cos(j * Math.PI * x);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(basis), $"LearngeneCoefficients: unknown basis {basis}.");
        }
    }

    /// <summary>The basis order m(n) of learngene <paramref name="learngene"/> (1-based n): n for the paper's indexing, n − 1 for TLEG's.</summary>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 1 or an unknown indexing.</exception>
    public static int Order(LearngeneIndexing indexing, int learngene)
    {
        if (learngene < 1) throw new ArgumentOutOfRangeException(nameof(learngene), $"LearngeneCoefficients: learngenes are numbered from 1 (A₁ … A_N), got {learngene}.");
        return indexing switch
        {
            LearngeneIndexing.Paper => learngene,
            LearngeneIndexing.Tleg => learngene - 1,
            _ => throw new ArgumentOutOfRangeException(nameof(indexing), $"LearngeneCoefficients: unknown indexing {indexing}."),
        };
    }

    /// <summary>
    /// a(l, n) = φ_{m(n)}((l − 1)/L) for layer <paramref name="layer"/> (1-based l) of a depth-<paramref name="depth"/> model and
    /// learngene <paramref name="learngene"/> (1-based n). Example: Chebyshev, paper indexing, a(2, 3) at L = 12 is T₃(1/12).
    /// </summary>
    public static double Coefficient(LearngeneBasis basis, LearngeneIndexing indexing, int layer, int learngene, int depth) =>
        Evaluate(basis, Order(indexing, learngene), Position(layer, depth));

    /// <summary>The L × k matrix C with C[l − 1, n − 1] = a(l, n), in double precision.</summary>
    /// <exception cref="ArgumentOutOfRangeException">depth or count &lt; 1.</exception>
    public static double[,] Matrix(LearngeneBasis basis, LearngeneIndexing indexing, int depth, int count)
    {
        CheckDepth(depth);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), $"LearngeneCoefficients: at least one learngene is needed, got {count}.");
        var c = new double[depth, count];
        for (int l = 1; l <= depth; l++)
            for (int n = 1; n <= count; n++) c[l - 1, n - 1] = Coefficient(basis, indexing, l, n, depth);
        return c;
    }

    /// <summary>
    /// The L × k matrix of <see cref="Matrix"/> as a tensor (L, k) that requires no gradient: float32 on the CPU unless
    /// <paramref name="device"/> and <paramref name="dtype"/> say otherwise (the values are rounded from double once).
    /// </summary>
    public static Tensor AsTensor(LearngeneBasis basis, LearngeneIndexing indexing, int depth, int count, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        var c = Matrix(basis, indexing, depth, count);
        var data = new double[depth * count];
        for (int l = 0; l < depth; l++)
            for (int n = 0; n < count; n++) data[l * count + n] = c[l, n];
        TorchNative.EnsureLoaded();
        return torch.tensor(data, [depth, count], dtype: dtype, device: device);      // (L, k)
    }

    /// <summary>The coefficients as text, one row per layer: <c>l=1: 0, -1, 0 | l=2: …</c> (4 decimals), for printing in a notebook.</summary>
    public static string Describe(LearngeneBasis basis, LearngeneIndexing indexing, int depth, int count)
    {
        var c = Matrix(basis, indexing, depth, count);
        var rows = new List<string>();
        for (int l = 0; l < depth; l++)
        {
            var values = new string[count];
            for (int n = 0; n < count; n++) values[n] = (c[l, n] + 0.0).ToString("0.####", CultureInfo.InvariantCulture);
            rows.Add($"l={l + 1}: {string.Join(", ", values)}");
        }
        return string.Join(" | ", rows);
    }

    private static void CheckDepth(int depth)
    {
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), $"LearngeneCoefficients: the depth L must be ≥ 1, got {depth}.");
    }
}
