using Shrink.Distillation;
using Shrink.IO;
using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Tests.Golden;

/// <summary>
/// Golden tests of our own code against PyTorch (tests/golden/make_golden.py): the timm ViT block run through
/// <see cref="Block"/> with its parameters loaded by timm name, and the distillation losses of
/// <see cref="DistillationLoss"/> against the PyTorch expressions they implement. A case C stores inputs C.in0…, the
/// output C.out (or C.out0…), a weight C.w (or C.w0…) and C.gradK = ∂L/∂(C.inK) for L = Σᵢ Σ(outᵢ ⊙ wᵢ).
/// </summary>
/// <remarks>
/// The files also hold cases for single libtorch ops (elementwise, reductions, matmul, shape, nn, conv, attention and
/// cross-entropy variants): they checked the engine Shrink used before TorchSharp and would now test libtorch against
/// itself, so no test reads them. PyTorch computed the references in float64 from the stored float32 inputs and rounded
/// them to float32, so the tolerances only cover float32 rounding: atol + rtol·|reference| per element, about 10× the
/// rounding error the op chain can accumulate (unit roundoff u = 2⁻²⁴ ≈ 6e−8; a sum of n terms of size s is off by up to ~n·u·s).
/// </remarks>
public class GoldenTests
{
    static GoldenTests() => TorchNative.EnsureLoaded();

    /// <summary>Tolerance |ours − torch| ≤ Atol + Rtol·|torch|.</summary>
    public readonly record struct Tol(double Atol, double Rtol)
    {
        /// <summary>
        /// Losses: a log-softmax (a reduction and a log), a product with the targets and a second reduction in the
        /// backward over ≤ 30 terms of size ≤ ~10 → 1e−4/1e−4. Observed: ≤ 1e−6.
        /// </summary>
        public static readonly Tol Composite = new(1e-4, 1e-4);

        /// <summary>
        /// The ViT block: ~12 chained ops (two LayerNorms, four GEMMs with K ≤ 64, softmax, GELU), activations up to ~5 and
        /// parameter gradients up to ~15 summed over B·N = 10 tokens: K·u·|values| ≈ 64·6e−8·15 ≈ 6e−5 → 1e−4/1e−4. Tight
        /// enough that a tanh-GELU (differs by up to 5e−4) fails. Observed: ≤ 3e−6.
        /// </summary>
        public static readonly Tol Block = new(1e-4, 1e-4);
    }

    /// <summary>
    /// Loss cases of losses.safetensors that exercise <see cref="DistillationLoss"/>; the literal τ mirrors ARGS["kd"] in
    /// make_golden.py. Inputs: student logits (gradient checked) and teacher logits or probabilities.
    /// </summary>
    public static readonly Dictionary<string, Func<Tensor[], Tensor>> Losses = new()
    {
        // τ²·KL(softmax(t/τ) ‖ softmax(s/τ)), batchmean, τ = 4; the teacher is a constant
        ["kd"] = x => DistillationLoss.SoftKl(x[0], DistillationLoss.Targets(x[1], 4.0), 4.0),
        // F.cross_entropy(s, p) with probability targets, mean over the batch (TinyViT's loss on stored teacher targets)
        ["ce_probs"] = x => DistillationLoss.SoftTargetCrossEntropy(x[0], x[1]),
    };

    public static IEnumerable<object[]> LossNames => Losses.Keys.Select(k => new object[] { k });

    [Theory, MemberData(nameof(LossNames))]
    public void LossCase(string name)
    {
        var file = GoldenFile.Load("losses");
        var inputs = file.Inputs(name);
        var loss = Losses[name](inputs);
        var (outKey, wKey) = file.Outputs(name).Single();
        AssertClose(name, outKey, loss, file[outKey], Tol.Composite);
        (loss * file[wKey]).sum().backward();
        for (int k = 0; k < inputs.Length; k++)
            if (file.Has($"{name}.grad{k}"))
            {
                Assert.True(inputs[k].grad is not null, $"{name}: input {k} received no gradient.");
                AssertClose(name, $"{name}.grad{k}", inputs[k].grad!, file[$"{name}.grad{k}"], Tol.Composite);
            }
    }

    /// <summary>
    /// One timm ViT block (D = 32, 4 heads, MLP 64, LayerNorm eps 1e−6, exact GELU, no drop path) as our
    /// <see cref="Block"/>, its parameters loaded by timm name with a strict load. Output, input gradient and every
    /// parameter gradient must match PyTorch, with the fused attention kernel and with the explicit softmax path.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void VitBlock(bool fused)
    {
        string tag = fused ? "block (fused attention)" : "block (explicit attention)";
        var file = GoldenFile.Load("block");
        var block = new Block(dim: 32, numHeads: 4, mlpHidden: 64, qkvBias: true, eps: 1e-6f);
        block.Attn.FusedAttention = fused;
        var state = file.Keys.Where(k => k.StartsWith("block.", StringComparison.Ordinal) && !k.StartsWith("block.grad", StringComparison.Ordinal)
                                         && k is not ("block.in0" or "block.out" or "block.w"))
            .ToDictionary(k => k["block.".Length..], k => file[k]);
        block.LoadStateDictChecked(state, strict: true, source: "block.safetensors");   // by timm name, no mapping table
        block.train();

        var x = file.Inputs("block")[0];                                                 // (B, N, D), requires grad
        var y = block.forward(x);                                                         // (B, N, D)
        AssertClose(tag, "block.out", y, file["block.out"], Tol.Block);
        (y * file["block.w"]).sum().backward();
        Assert.True(x.grad is not null, $"{tag}: the input received no gradient.");
        AssertClose(tag, "block.grad0", x.grad!, file["block.grad0"], Tol.Block);
        var names = block.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(names, file.Keys.Where(k => k.StartsWith("block.grad.", StringComparison.Ordinal)).Select(k => k["block.grad.".Length..]).Order(StringComparer.Ordinal));
        foreach (var (n, p) in block.named_parameters())
        {
            Assert.True(p.grad is not null, $"{tag}: parameter {n} received no gradient.");
            AssertClose(tag, "block.grad." + n, p.grad!, file["block.grad." + n], Tol.Block);
        }
    }

    /// <summary>The cases this class tests are in the files (a renamed case in make_golden.py must be renamed here).</summary>
    [Fact]
    public void TestedCasesAreInTheFiles()
    {
        Assert.Contains("block", GoldenFile.Load("block").CaseNames());
        var losses = GoldenFile.Load("losses").CaseNames().ToList();
        Assert.All(Losses.Keys, k => Assert.Contains(k, losses));
    }

    /// <summary>
    /// Asserts equal shapes and |ours − ref| ≤ atol + rtol·|ref| element-wise; the message names the case, the tensor,
    /// the first violating element and the largest absolute difference with its index.
    /// </summary>
    internal static void AssertClose(string caseName, string tensor, Tensor ours, Tensor reference, Tol tol)
    {
        Assert.True(ours.shape.SequenceEqual(reference.shape),
            $"{caseName}: {tensor} has shape ({string.Join(", ", ours.shape)}), torch has ({string.Join(", ", reference.shape)}).");
        var a = GoldenFile.Values(ours);
        var b = GoldenFile.Values(reference);
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
            Assert.Fail($"{caseName}: {tensor} differs from torch: max |diff| {maxDiff:G3} at {Index(reference.shape, worst)} " +
                        $"(ours {a[worst]:G9}, torch {b[worst]:G9}); first element over atol {tol.Atol:G2} + rtol {tol.Rtol:G2}·|torch| " +
                        $"is {Index(reference.shape, firstBad)} (ours {a[firstBad]:G9}, torch {b[firstBad]:G9}).");
    }

    private static string Index(long[] shape, long flat)
    {
        if (shape.Length == 0) return "[]";
        var idx = new long[shape.Length];
        for (int i = shape.Length - 1; i >= 0; i--) { idx[i] = flat % shape[i]; flat /= shape[i]; }
        return "[" + string.Join(", ", idx) + "]";
    }
}

/// <summary>One golden safetensors file, loaded once per process and shared read-only by the tests.</summary>
public sealed class GoldenFile
{
    private static readonly Dictionary<string, GoldenFile> Cache = new();
    private readonly Dictionary<string, Tensor> _tensors;

    private GoldenFile(Dictionary<string, Tensor> tensors) => _tensors = tensors;

    /// <summary>tests/golden/&lt;family&gt;.safetensors, copied next to the test assembly under golden/ (read with <see cref="SafeTensors"/>).</summary>
    public static GoldenFile Load(string family)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(family, out var f)) return f;
            var path = Path.Combine(AppContext.BaseDirectory, "golden", family + ".safetensors");
            Assert.True(File.Exists(path), $"golden file {path} is missing (run tests/golden/make_golden.py and rebuild).");
            var tensors = SafeTensors.Load(path);
            foreach (var t in tensors.Values) t.DetachFromDisposeScope();   // shared by every test for the process's lifetime
            f = new GoldenFile(tensors);
            Cache[family] = f;
            return f;
        }
    }

    /// <summary>A stored tensor (shared: copy before using it as a leaf that takes gradients).</summary>
    public Tensor this[string key] =>
        _tensors.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"golden tensor {key} is not in the file.");

    /// <summary>Whether the file stores <paramref name="key"/>.</summary>
    public bool Has(string key) => _tensors.ContainsKey(key);

    /// <summary>All stored keys.</summary>
    public IEnumerable<string> Keys => _tensors.Keys;

    /// <summary>A fresh copy of a stored tensor (a new leaf, safe to mark as requiring grad).</summary>
    public Tensor Copy(string key) => this[key].detach().clone();

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
            if (Has($"{name}.grad{k}")) copy.requires_grad_();
            list.Add(copy);
        }
        return [.. list];
    }

    /// <summary>(output key, weight key) pairs: [(C.out, C.w)] or [(C.out0, C.w0), (C.out1, C.w1), …].</summary>
    public List<(string Out, string W)> Outputs(string name)
    {
        if (Has($"{name}.out")) return [($"{name}.out", $"{name}.w")];
        var list = new List<(string, string)>();
        for (int k = 0; Has($"{name}.out{k}"); k++) list.Add(($"{name}.out{k}", $"{name}.w{k}"));
        return list;
    }

    /// <summary>The values of a float tensor as a flat array (any device, any layout).</summary>
    public static float[] Values(Tensor t) => t.detach().cpu().to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
}
