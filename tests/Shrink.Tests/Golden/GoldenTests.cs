using Shrink.Tensors;
using Shrink.Tensors.IO;

namespace Shrink.Tests.Golden;

/// <summary>
/// Golden tests: every case of tests/golden/make_golden.py is recomputed with our API and its output(s) and
/// gradients are compared with PyTorch's. A case C stores inputs C.in0…, the output C.out (or C.out0…), a weight
/// C.w (or C.w0…) and C.gradK = ∂L/∂(C.inK) for L = Σᵢ Σ(outᵢ ⊙ wᵢ). An input takes a gradient here exactly when
/// the file has its C.gradK, so the Python script decides which gradients are checked.
/// </summary>
/// <remarks>
/// PyTorch computed the references in float64 from the stored float32 inputs and rounded them to float32, so the
/// tolerances below only have to cover our float32 rounding. Each is atol + rtol·|reference| per element, and each
/// is about 10× the rounding error that the op chain can accumulate:
/// float32 has unit roundoff u = 2⁻²⁴ ≈ 6e−8; a sum of n terms of size s is off by up to ~n·u·s (~√n·u·s typical).
/// The non-tensor arguments of each case mirror the ARGS table in make_golden.py (same order, same values).
/// </remarks>
public class GoldenTests
{
    /// <summary>Tolerance |ours − torch| ≤ Atol + Rtol·|torch|.</summary>
    public readonly record struct Tol(double Atol, double Rtol)
    {
        /// <summary>
        /// Element-wise ops and views: a few ulps per element (exp/log/erf/tanh in float32 are ~1–4 ulp, chained with the
        /// backward's one or two products) → 1e−5 absolute / 1e−4 relative. Observed: ≤ 1e−6.
        /// </summary>
        public static readonly Tol Elementwise = new(1e-5, 1e-4);

        /// <summary>
        /// Reductions over ≤ 100 terms of size ≤ ~10 (sum, mean, var, max, softmax): pairwise/SIMD sums err ~√n·u·Σ|x|/√n,
        /// a few 1e−6 → 1e−4/1e−4. Observed: ≤ 5e−7.
        /// </summary>
        public static readonly Tol Reduction = new(1e-4, 1e-4);

        /// <summary>
        /// GEMMs with K ≤ 96 and O(1) entries: the worst-case bound K·u·Σ|aᵢbᵢ| ≈ 96·6e−8·40 ≈ 2e−4, typical √K·u·|Σ| ≈ 1e−5
        /// → 2e−4/2e−4. Observed: ≤ 1e−6.
        /// </summary>
        public static readonly Tol Gemm = new(2e-4, 2e-4);

        /// <summary>
        /// Normalisation (LayerNorm/BatchNorm), convolutions (K = C·kh·kw ≤ 48), pooling, losses and attention: a
        /// reduction, a division by a standard deviation (×100 for the small-variance LayerNorm, covered by rtol) and a
        /// second reduction in the backward → 1e−4/1e−4. Observed: ≤ 1e−6 absolute, ≤ 2e−5 relative.
        /// </summary>
        public static readonly Tol Composite = new(1e-4, 1e-4);

        /// <summary>
        /// The ViT block: ~12 chained ops (two LayerNorms, four GEMMs with K ≤ 64, softmax, GELU), activations up to ~5 and
        /// parameter gradients up to ~15 summed over B·N = 10 tokens: K·u·|values| ≈ 64·6e−8·15 ≈ 6e−5 → 1e−4/1e−4. Tight
        /// enough that a tanh-GELU (differs by up to 5e−4) fails; a wrong LayerNorm eps does not show at unit variance,
        /// layer_norm_small_var catches that. Observed: ≤ 3e−6.
        /// </summary>
        public static readonly Tol Block = new(1e-4, 1e-4);
    }

    /// <summary>
    /// A case: our computation of its output(s) from its inputs, the tolerance it is held to, and optional extra checks
    /// run after the forward (case name, the inputs as the computation left them, the file).
    /// </summary>
    public sealed record Case(Func<Tensor[], Tensor[]> Compute, Tol Tol, Action<string, Tensor[], GoldenFile>? After = null);

    private static Case E(Func<Tensor[], Tensor> f) => new(x => [f(x)], Tol.Elementwise);
    private static Case Red(Func<Tensor[], Tensor> f) => new(x => [f(x)], Tol.Reduction);
    private static Case G(Func<Tensor[], Tensor> f) => new(x => [f(x)], Tol.Gemm);
    private static Case C(Func<Tensor[], Tensor> f) => new(x => [f(x)], Tol.Composite);

    // ------------------------------------------------------------------------------------------------------------
    // Families: case name → computation. Literal arguments mirror ARGS in make_golden.py.
    // ------------------------------------------------------------------------------------------------------------

    public static readonly Dictionary<string, Case> Elementwise = new()
    {
        ["add"] = E(x => x[0] + x[1]),                      // (2,3,4) + (3,1)
        ["sub"] = E(x => x[0] - x[1]),                      // (3,4) − (4)
        ["mul"] = E(x => x[0] * x[1]),                      // (2,1,4) ⊙ (3,1)
        ["div"] = E(x => x[0] / x[1]),                      // (3,4) / (2,1,4)
        ["neg"] = E(x => -x[0]),
        ["exp"] = E(x => x[0].Exp()),
        ["log"] = E(x => x[0].Log()),
        ["sqrt"] = E(x => x[0].Sqrt()),
        ["pow"] = E(x => x[0].Pow(2.5f)),                   // p = 2.5
        ["abs"] = E(x => x[0].Abs()),
        ["clamp"] = E(x => x[0].Clamp(-0.5f, 0.5f)),       // min −0.5, max 0.5
        ["relu"] = E(x => x[0].Relu()),
        ["gelu"] = E(x => x[0].Gelu()),                     // exact erf
        ["gelu_tanh"] = E(x => x[0].Gelu("tanh")),         // approximate = "tanh"
        ["sigmoid"] = E(x => x[0].Sigmoid()),
        ["tanh"] = E(x => x[0].Tanh()),
    };

    public static readonly Dictionary<string, Case> Reductions = new()
    {
        ["sum_axes"] = Red(x => x[0].Sum([0, 2], keepdim: true)),
        ["sum_axis"] = Red(x => x[0].Sum([1], keepdim: false)),
        ["mean_axes"] = Red(x => x[0].Mean([1], keepdim: false)),
        ["mean_keep"] = Red(x => x[0].Mean([-1], keepdim: true)),
        ["var_axes"] = Red(x => x[0].Var([1, 2], correction: 1, keepdim: true)),
        ["var_axis0"] = Red(x => x[0].Var([0], correction: 1, keepdim: false)),
        ["var_long"] = Red(x => x[0].Var([1], correction: 1, keepdim: false)),    // (3, 100)
        ["max_axis"] = Red(x => x[0].Max(1).Values),
        ["softmax_last"] = Red(x => x[0].Softmax(-1)),
        ["softmax_mid"] = Red(x => x[0].Softmax(1)),
        ["log_softmax_last"] = Red(x => x[0].LogSoftmax(-1)),
        ["log_softmax_mid"] = Red(x => x[0].LogSoftmax(1)),
    };

    public static readonly Dictionary<string, Case> MatMul = new()
    {
        ["matmul_2d"] = G(x => Tensor.MatMul(x[0], x[1])),              // (5,7) @ (7,3)
        ["matmul_batched"] = G(x => Tensor.MatMul(x[0], x[1])),         // (2,1,4,6) @ (3,6,5)
        ["matmul_transposed"] = G(x => Tensor.MatMul(x[0], x[1].MT)),   // (4,6) @ (5,6)ᵀ as a view
        ["matmul_k96"] = G(x => Tensor.MatMul(x[0], x[1])),             // (8,96) @ (96,8)
        ["matmul_3d_2d"] = G(x => Tensor.MatMul(x[0], x[1])),           // (2,3,8) @ (8,4)
    };

    public static readonly Dictionary<string, Case> Shape = new()
    {
        ["reshape"] = E(x => x[0].Reshape(4, 6)),
        ["permute"] = E(x => x[0].Permute(2, 0, 1)),
        ["transpose"] = E(x => x[0].Transpose(0, 2)),
        ["cat"] = E(x => Functional.Concat([x[0], x[1], x[2]], 1)),
        ["stack"] = E(x => Functional.Stack([x[0], x[1], x[2]], 1)),
        ["split"] = new(x => [.. Functional.Split(x[0], 3, 0)], Tol.Elementwise),
        ["narrow"] = E(x => x[0].Narrow(1, 2, 3)),
        ["index_select"] = E(x => Functional.IndexSelect(x[0], 0, Ints(x[1]))),
        ["gather"] = E(x => Functional.Gather(x[0], 1, x[1])),
        ["masked_fill"] = E(x => Functional.MaskedFill(x[0], x[1], -2.5f)),
        ["where"] = E(x => Functional.Where(x[0], x[1], x[2])),
    };

    public static readonly Dictionary<string, Case> Nn = new()
    {
        ["linear"] = G(x => Functional.Linear(x[0], x[1], x[2])),                     // (2,3,6)·(4,6)ᵀ + (4)
        ["linear_nobias"] = G(x => Functional.Linear(x[0], x[1])),
        ["layer_norm"] = C(x => Functional.LayerNorm(x[0], [8], x[1], x[2], 1e-6f)),   // eps 1e-6
        ["layer_norm_small_var"] = C(x => Functional.LayerNorm(x[0], [16], x[1], x[2], 1e-6f)),   // var ~1e-4: eps matters
        ["embedding"] = E(x => Functional.Embedding(Ints(x[0]), [2, 3], x[1])),        // indices (2,3) into (7,5)
    };

    public static readonly Dictionary<string, Case> Conv = new()
    {
        ["unfold_k3"] = C(x => Functional.Unfold(x[0], kernelSize: 3, dilation: 1, padding: 0, stride: 1)),
        ["unfold_mixed"] = C(x => Functional.Unfold(x[0], kernelSize: 2, dilation: 2, padding: 1, stride: 2)),
        ["unfold_rect"] = C(x => Functional.Unfold(x[0], kernelSize: (2, 3), dilation: (1, 2), padding: (1, 0), stride: (2, 1))),
        ["conv2d_basic"] = C(x => Functional.Conv2d(x[0], x[1], x[2], stride: 1, padding: 0, dilation: 1, groups: 1)),
        ["conv2d_stride2"] = C(x => Functional.Conv2d(x[0], x[1], x[2], stride: 2, padding: 0, dilation: 1, groups: 1)),
        ["conv2d_pad1"] = C(x => Functional.Conv2d(x[0], x[1], x[2], stride: 1, padding: 1, dilation: 1, groups: 1)),
        ["conv2d_groups2"] = C(x => Functional.Conv2d(x[0], x[1], x[2], stride: 1, padding: 0, dilation: 1, groups: 2)),
        ["conv2d_dilation2"] = C(x => Functional.Conv2d(x[0], x[1], x[2], stride: 1, padding: 0, dilation: 2, groups: 1)),
        ["conv2d_patch"] = C(x => Functional.Conv2d(x[0], x[1], x[2], stride: 4, padding: 0, dilation: 1, groups: 1)),
        ["conv2d_nobias"] = C(x => Functional.Conv2d(x[0], x[1], null, stride: 1, padding: 1, dilation: 1, groups: 1)),
        ["conv2d_rect"] = C(x => Functional.Conv2d(x[0], x[1], x[2], stride: (2, 1), padding: (0, 1), dilation: (1, 2), groups: 1)),
        ["avg_pool2d"] = C(x => Functional.AvgPool2d(x[0], 2, stride: 2, padding: 0)),
        ["avg_pool2d_pad"] = C(x => Functional.AvgPool2d(x[0], 3, stride: 2, padding: 1)),   // count_include_pad = true (PyTorch default)
        ["max_pool2d"] = C(x => Functional.MaxPool2d(x[0], 2, stride: 2, padding: 0)),
        ["max_pool2d_pad"] = C(x => Functional.MaxPool2d(x[0], 3, stride: 2, padding: 1)),
        ["adaptive_avg_pool2d_7to3"] = C(x => Functional.AdaptiveAvgPool2d(x[0], 3, 3)),
        ["adaptive_avg_pool2d_6to4x2"] = C(x => Functional.AdaptiveAvgPool2d(x[0], 4, 2)),
        // inputs: x, running mean, running var (updated in place), weight, bias
        ["batch_norm_train"] = new(x => [Functional.BatchNorm(x[0], x[1], x[2], x[3], x[4], training: true, momentum: 0.1f, eps: 1e-5f)], Tol.Composite,
            After: (name, x, file) =>
            {
                AssertClose(name, name + ".running_mean", x[1], file[name + ".running_mean"], Tol.Composite);
                AssertClose(name, name + ".running_var", x[2], file[name + ".running_var"], Tol.Composite);
            }),
        ["batch_norm_eval"] = new(x => [Functional.BatchNorm(x[0], x[1], x[2], x[3], x[4], training: false, momentum: 0.1f, eps: 1e-5f)], Tol.Composite,
            After: (name, x, file) =>
            {
                AssertClose(name, name + ".running_mean", x[1], file[name + ".running_mean"], Tol.Elementwise);
                AssertClose(name, name + ".running_var", x[2], file[name + ".running_var"], Tol.Elementwise);
            }),
    };

    public static readonly Dictionary<string, Case> Losses = new()
    {
        ["ce_mean"] = C(x => Functional.CrossEntropy(x[0], Ints(x[1]), labelSmoothing: 0f, reduction: "mean", ignoreIndex: -100)),
        ["ce_sum"] = C(x => Functional.CrossEntropy(x[0], Ints(x[1]), labelSmoothing: 0f, reduction: "sum", ignoreIndex: -100)),
        ["ce_none"] = C(x => Functional.CrossEntropy(x[0], Ints(x[1]), labelSmoothing: 0f, reduction: "none", ignoreIndex: -100)),
        ["ce_smooth"] = C(x => Functional.CrossEntropy(x[0], Ints(x[1]), labelSmoothing: 0.1f, reduction: "mean", ignoreIndex: -100)),
        ["ce_ignore"] = C(x => Functional.CrossEntropy(x[0], Ints(x[1]), labelSmoothing: 0f, reduction: "mean", ignoreIndex: -100)),
        ["ce_ignore_smooth"] = C(x => Functional.CrossEntropy(x[0], Ints(x[1]), labelSmoothing: 0.1f, reduction: "mean", ignoreIndex: -100)),
        ["ce_probs"] = C(x => Functional.CrossEntropy(x[0], x[1], labelSmoothing: 0f, reduction: "mean")),
        ["ce_probs_smooth"] = C(x => Functional.CrossEntropy(x[0], x[1], labelSmoothing: 0.1f, reduction: "mean")),
        // KD term τ²·KL(softmax(t/τ) ‖ softmax(s/τ)), batchmean, τ = 4; the teacher is a constant
        ["kd"] = C(x => Functional.KlDiv((x[0] / 4f).LogSoftmax(1), (x[1] / 4f).Softmax(1), reduction: "batchmean") * (4f * 4f)),
        ["kl_div_sum"] = C(x => Functional.KlDiv(x[0], x[1], reduction: "sum")),
        ["kl_div_none"] = C(x => Functional.KlDiv(x[0], x[1], reduction: "none")),
        ["mse_mean"] = C(x => Functional.Mse(x[0], x[1], reduction: "mean")),
        ["mse_sum"] = C(x => Functional.Mse(x[0], x[1], reduction: "sum")),
    };

    private static Case Attn(Func<Tensor[], (Tensor Output, Tensor? Weights)> f) => new(x =>
    {
        var (o, w) = f(x);
        Assert.True(w is not null, "ScaledDotProductAttention returned no weights with returnWeights: true.");
        return [o, w!];
    }, Tol.Composite);

    public static readonly Dictionary<string, Case> Attention = new()
    {
        // q (2,2,4,8), k, v (2,2,6,8); outputs O and P = softmax(q kᵀ/√8 [+ mask])
        ["sdpa"] = Attn(x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], null, scale: null, returnWeights: true)),
        ["sdpa_mask"] = Attn(x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], x[3], scale: null, returnWeights: true)),  // mask (4,6) with −∞ entries
    };

    public static IEnumerable<object[]> Names(Dictionary<string, Case> family) => family.Keys.Select(k => new object[] { k });
    public static IEnumerable<object[]> ElementwiseNames => Names(Elementwise);
    public static IEnumerable<object[]> ReductionNames => Names(Reductions);
    public static IEnumerable<object[]> MatMulNames => Names(MatMul);
    public static IEnumerable<object[]> ShapeNames => Names(Shape);
    public static IEnumerable<object[]> NnNames => Names(Nn);
    public static IEnumerable<object[]> ConvNames => Names(Conv);
    public static IEnumerable<object[]> LossNames => Names(Losses);
    public static IEnumerable<object[]> AttentionNames => Names(Attention);

    [Theory, MemberData(nameof(ElementwiseNames))] public void ElementwiseCase(string name) => Run("elementwise", name, Elementwise[name]);
    [Theory, MemberData(nameof(ReductionNames))] public void ReductionCase(string name) => Run("reductions", name, Reductions[name]);
    [Theory, MemberData(nameof(MatMulNames))] public void MatMulCase(string name) => Run("matmul", name, MatMul[name]);
    [Theory, MemberData(nameof(ShapeNames))] public void ShapeCase(string name) => Run("shape", name, Shape[name]);
    [Theory, MemberData(nameof(NnNames))] public void NnCase(string name) => Run("nn", name, Nn[name]);
    [Theory, MemberData(nameof(ConvNames))] public void ConvCase(string name) => Run("conv", name, Conv[name]);
    [Theory, MemberData(nameof(LossNames))] public void LossCase(string name) => Run("losses", name, Losses[name]);
    [Theory, MemberData(nameof(AttentionNames))] public void AttentionCase(string name) => Run("attention", name, Attention[name]);

    /// <summary>timm's parameter names of one pre-norm ViT block (block.&lt;name&gt; in block.safetensors).</summary>
    private static readonly string[] BlockParams =
    [
        "norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
        "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias",
    ];

    /// <summary>
    /// One timm ViT block (D = 32, 4 heads, MLP 64, LayerNorm eps 1e−6, exact GELU) recomposed from Functional ops with
    /// the parameters loaded by name: x = x + proj(attn(norm1(x))); x = x + fc2(gelu(fc1(norm2(x)))). Output, input
    /// gradient and every parameter gradient must match PyTorch. The attention runs either as timm writes it (reshape
    /// (B, N, 3, H, D/H) → permute → ScaledDotProductAttention → transpose/reshape) or through the fused
    /// ScaledDotProductAttentionPacked on the (B, N, 3D) qkv projection.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void VitBlock(bool packed)
    {
        const int B = 2, N = 5, D = 32, H = 4, Hd = D / H;
        const float Eps = 1e-6f;
        string tag = packed ? "block (packed attention)" : "block";
        var file = GoldenFile.Load("block");
        var x = file.Inputs("block")[0];                                             // (B, N, D), requires grad
        var p = BlockParams.ToDictionary(n => n, n => file.Copy("block." + n).RequiresGrad_());

        var h = Functional.LayerNorm(x, [D], p["norm1.weight"], p["norm1.bias"], Eps);
        var qkv = Functional.Linear(h, p["attn.qkv.weight"], p["attn.qkv.bias"]);  // (B, N, 3D), [q; k; v], heads contiguous
        Tensor attn;
        if (packed) attn = Functional.ScaledDotProductAttentionPacked(qkv, H).Output;  // (B, N, D)
        else
        {
            var heads = qkv.Reshape(B, N, 3, H, Hd).Permute(2, 0, 3, 1, 4);           // (3, B, H, N, Hd)
            var (o, _) = Functional.ScaledDotProductAttention(heads.Select(0, 0), heads.Select(0, 1), heads.Select(0, 2));
            attn = o.Transpose(1, 2).Reshape(B, N, D);                                 // (B, N, D)
        }
        var x1 = x + Functional.Linear(attn, p["attn.proj.weight"], p["attn.proj.bias"]);
        var m = Functional.Linear(Functional.LayerNorm(x1, [D], p["norm2.weight"], p["norm2.bias"], Eps), p["mlp.fc1.weight"], p["mlp.fc1.bias"]).Gelu();
        var y = x1 + Functional.Linear(m, p["mlp.fc2.weight"], p["mlp.fc2.bias"]);

        AssertClose(tag, "block.out", y, file["block.out"], Tol.Block);
        (y * file["block.w"]).Sum().Backward();
        Assert.True(x.Grad is not null, $"{tag}: the input received no gradient.");
        AssertClose(tag, "block.grad0", x.Grad!, file["block.grad0"], Tol.Block);
        Assert.Equal(BlockParams.Order(StringComparer.Ordinal),
            file.Keys.Where(k => k.StartsWith("block.grad.")).Select(k => k["block.grad.".Length..]).Order(StringComparer.Ordinal));
        foreach (var n in BlockParams)
        {
            Assert.True(p[n].Grad is not null, $"{tag}: parameter {n} received no gradient.");
            AssertClose(tag, "block.grad." + n, p[n].Grad!, file["block.grad." + n], Tol.Block);
        }
    }

    /// <summary>Every case in a golden file has a C# computation (a case added to the script must be added here).</summary>
    [Theory]
    [InlineData("elementwise")]
    [InlineData("reductions")]
    [InlineData("matmul")]
    [InlineData("shape")]
    [InlineData("nn")]
    [InlineData("conv")]
    [InlineData("losses")]
    [InlineData("attention")]
    public void EveryCaseInFileIsTested(string family)
    {
        var family_ = family switch
        {
            "elementwise" => Elementwise,
            "reductions" => Reductions,
            "matmul" => MatMul,
            "shape" => Shape,
            "nn" => Nn,
            "conv" => Conv,
            "losses" => Losses,
            "attention" => Attention,
            _ => throw new ArgumentException(family),
        };
        var inFile = GoldenFile.Load(family).CaseNames();
        Assert.Equal(inFile.OrderBy(s => s, StringComparer.Ordinal), family_.Keys.OrderBy(s => s, StringComparer.Ordinal));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Driver
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Loads case <paramref name="name"/> of <paramref name="family"/>, computes it with fresh leaf copies of the
    /// inputs, compares every output, backpropagates L = Σ outᵢ ⊙ wᵢ and compares every stored gradient.
    /// </summary>
    internal static void Run(string family, string name, Case c)
    {
        var file = GoldenFile.Load(family);
        var inputs = file.Inputs(name);
        var outputs = c.Compute(inputs);
        var refs = file.Outputs(name);
        Assert.True(outputs.Length == refs.Count, $"{name}: computed {outputs.Length} outputs, the golden file has {refs.Count}.");
        Tensor? loss = null;
        for (int i = 0; i < outputs.Length; i++)
        {
            var (outKey, wKey) = refs[i];
            AssertClose(name, outKey, outputs[i], file[outKey], c.Tol);
            var term = (outputs[i] * file[wKey]).Sum();
            loss = loss is null ? term : loss + term;
        }
        c.After?.Invoke(name, inputs, file);
        if (inputs.Any(x => x.RequiresGrad))
        {
            loss!.Backward();
            for (int k = 0; k < inputs.Length; k++)
            {
                var key = $"{name}.grad{k}";
                if (!file.Has(key)) continue;
                Assert.True(inputs[k].Grad is not null, $"{name}: input {k} received no gradient.");
                AssertClose(name, key, inputs[k].Grad!, file[key], c.Tol);
            }
        }
    }

    /// <summary>
    /// Asserts equal shapes and |ours − ref| ≤ atol + rtol·|ref| element-wise; the message names the case, the tensor,
    /// the first violating element and the largest absolute difference with its index.
    /// </summary>
    internal static void AssertClose(string caseName, string tensor, Tensor ours, Tensor reference, Tol tol)
    {
        Assert.True(ours.Shape.SequenceEqual(reference.Shape),
            $"{caseName}: {tensor} has shape ({string.Join(", ", ours.Shape)}), torch has ({string.Join(", ", reference.Shape)}).");
        var a = ours.ToArray();
        var b = reference.ToArray();
        int worst = -1, firstBad = -1;
        double maxDiff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = a[i] == b[i] ? 0 : Math.Abs((double)a[i] - b[i]);   // equal infinities count as equal
            if (double.IsNaN(d)) d = double.PositiveInfinity;
            if (worst < 0 || d > maxDiff) { maxDiff = d; worst = i; }
            if (firstBad < 0 && d > tol.Atol + tol.Rtol * Math.Abs(b[i])) firstBad = i;
        }
        if (firstBad >= 0)
        {
            var shape = reference.Shape.ToArray();
            Assert.Fail($"{caseName}: {tensor} differs from torch: max |diff| {maxDiff:G3} at {Index(shape, worst)} " +
                        $"(ours {a[worst]:G9}, torch {b[worst]:G9}); first element over atol {tol.Atol:G2} + rtol {tol.Rtol:G2}·|torch| " +
                        $"is {Index(shape, firstBad)} (ours {a[firstBad]:G9}, torch {b[firstBad]:G9}).");
        }
    }

    private static string Index(int[] shape, int flat)
    {
        if (shape.Length == 0) return "[]";
        var idx = new int[shape.Length];
        for (int i = shape.Length - 1; i >= 0; i--) { idx[i] = flat % shape[i]; flat /= shape[i]; }
        return "[" + string.Join(", ", idx) + "]";
    }

    /// <summary>Integer values stored as float32 (class targets, indices) as int[].</summary>
    internal static int[] Ints(Tensor t) => t.ToArray().Select(v => (int)MathF.Round(v)).ToArray();
}

/// <summary>One golden safetensors file, loaded once per process and shared read-only by the tests.</summary>
public sealed class GoldenFile
{
    private static readonly Dictionary<string, GoldenFile> Cache = new();
    private readonly Dictionary<string, Tensor> _tensors;

    private GoldenFile(Dictionary<string, Tensor> tensors) => _tensors = tensors;

    /// <summary>tests/golden/&lt;family&gt;.safetensors, copied next to the test assembly under golden/.</summary>
    public static GoldenFile Load(string family)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(family, out var f)) return f;
            var path = Path.Combine(AppContext.BaseDirectory, "golden", family + ".safetensors");
            Assert.True(File.Exists(path), $"golden file {path} is missing (run tests/golden/make_golden.py and rebuild).");
            using var _ = TensorScope.Suspend();   // keep the tensors alive outside any test scope
            f = new GoldenFile(SafeTensors.Load(path));
            Cache[family] = f;
            return f;
        }
    }

    /// <summary>A stored tensor (shared: copy before using it as a leaf that takes gradients).</summary>
    public Tensor this[string key] =>
        _tensors.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"golden tensor {key} is not in the file.");

    public bool Has(string key) => _tensors.ContainsKey(key);

    /// <summary>All stored keys.</summary>
    public IEnumerable<string> Keys => _tensors.Keys;

    /// <summary>A fresh copy of a stored tensor (a new leaf, safe to mark as requiring grad).</summary>
    public Tensor Copy(string key)
    {
        var t = this[key];
        return Tensor.FromArray(t.ToArray(), [.. t.Shape]);
    }

    /// <summary>Case names: the prefixes of the C.w / C.w0 keys.</summary>
    public IEnumerable<string> CaseNames() =>
        _tensors.Keys.Where(k => k.EndsWith(".w") || k.EndsWith(".w0")).Select(k => k[..k.LastIndexOf('.')]).Distinct();

    /// <summary>Fresh copies of C.in0, C.in1, …; those with a stored C.gradK require grad.</summary>
    public Tensor[] Inputs(string name)
    {
        var list = new List<Tensor>();
        for (int k = 0; Has($"{name}.in{k}"); k++)
        {
            var copy = Copy($"{name}.in{k}");
            if (Has($"{name}.grad{k}")) copy.RequiresGrad_();
            list.Add(copy);
        }
        return list.ToArray();
    }

    /// <summary>(output key, weight key) pairs: [(C.out, C.w)] or [(C.out0, C.w0), (C.out1, C.w1), …].</summary>
    public List<(string Out, string W)> Outputs(string name)
    {
        if (Has($"{name}.out")) return [($"{name}.out", $"{name}.w")];
        var list = new List<(string, string)>();
        for (int k = 0; Has($"{name}.out{k}"); k++) list.Add(($"{name}.out{k}", $"{name}.w{k}"));
        return list;
    }
}
