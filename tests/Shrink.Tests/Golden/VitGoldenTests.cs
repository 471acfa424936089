using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;
using Xunit.Abstractions;
using Tol = Shrink.Tests.Golden.GoldenTests.Tol;

namespace Shrink.Tests.Golden;

/// <summary>
/// Golden tests of the whole <see cref="VisionTransformer"/> against a PyTorch model written in timm's exact layout
/// (tests/golden/make_golden.py, <c>vit()</c>; file vit.safetensors). Case <c>vit</c>: timm's VisionTransformer on
/// 12×12 single-channel images, patch 4, D 16, depth 2, 2 heads, MLP ratio 2, qkv bias, class token, learned
/// position embedding, LayerNorm eps 1e−6, exact GELU, class-token pooling. Case <c>deit</c>: the same on 3-channel
/// images with DeiT's distillation token and <c>head_dist</c>. Every parameter (tokens and position embedding
/// included) is random, so every gradient is non-trivial.
/// </summary>
/// <remarks>
/// The parameters are loaded by their timm names with <c>LoadStateDictChecked(strict: true)</c> and no mapping table:
/// a name or shape that differs from timm's fails the load. The attention runs fused and explicit (both must match). The model runs in training mode with every dropout and
/// drop-path rate 0 (PyTorch's reference is in train mode too, where DeiT returns both heads), and
/// L = Σ logits ⊙ w (+ Σ logits_dist ⊙ w_dist) is backpropagated to the input and to every parameter.
/// </remarks>
public class VitGoldenTests(ITestOutputHelper output)
{
    /// <summary>The configurations of the two cases; they mirror ARGS["vit"] and ARGS["deit"] in make_golden.py.</summary>
    public static VitConfig ConfigOf(string name)
    {
        var vit = new VitConfig
        {
            ImageSize = 12, PatchSize = 4, InChannels = 1, NumClasses = 5, EmbedDim = 16, Depth = 2, NumHeads = 2,
            MlpRatio = 2, QkvBias = true, ClassToken = true, LayerNormEps = 1e-6f,
            DropRate = 0f, AttnDropRate = 0f, DropPathRate = 0f,
        };
        return name switch
        {
            "vit" => vit,
            "deit" => vit with { InChannels = 3, DistillationToken = true },
            _ => throw new ArgumentException(name),
        };
    }

    /// <summary>
    /// Tolerance for the whole model: <see cref="Tol.Block"/> (1e−4 absolute + 1e−4 relative), the ViT block's. The
    /// whole model is two such blocks (K ≤ 32 here) plus the patch GEMM (K = C·p·p ≤ 48), the final LayerNorm and a
    /// head (K = 16); parameter gradients sum over at most B·T = 33 tokens. The K·u·|values| bound of the block stays
    /// below ~1e−4 for these sizes, and the observed error is ~100× smaller (the test prints the maxima).
    /// </summary>
    private static readonly Tol ModelTol = Tol.Block;

    /// <summary>Keys of a case that are not parameters.</summary>
    private static bool IsParameterKey(string name, string key)
    {
        if (!key.StartsWith(name + ".", StringComparison.Ordinal)) return false;
        var rest = key[(name.Length + 1)..];
        return !rest.StartsWith("grad", StringComparison.Ordinal) && rest is not ("in0" or "out" or "out0" or "out1" or "w" or "w0" or "w1" or "prediction");
    }

    [Theory]
    [InlineData("vit", true)]
    [InlineData("vit", false)]
    [InlineData("deit", true)]
    [InlineData("deit", false)]
    public void WholeModelMatchesTorch(string name, bool fused)
    {
        var file = GoldenFile.Load("vit");
        var config = ConfigOf(name);
        var model = new VisionTransformer(config, seed: 12345) { FusedAttention = fused };
        var state = file.Keys.Where(k => IsParameterKey(name, k)).ToDictionary(k => k[(name.Length + 1)..], k => file[k]);
        model.LoadStateDictChecked(state, strict: true, source: "vit.safetensors");   // by timm name, no mapping table
        model.train();

        var x = file.Copy(name + ".in0").requires_grad_();                             // (3, C, 12, 12)
        var o = model.ForwardIntermediates(x);
        var outs = config.DistillationToken
            ? new[] { (o.Logits, "out0", "w0"), (o.DistillationLogits!, "out1", "w1") }
            : new[] { (o.Logits, "out", "w") };
        if (!config.DistillationToken) Assert.Null(o.DistillationLogits);
        Tensor? loss = null;
        foreach (var (logits, outKey, wKey) in outs)
        {
            Check(name, $"{name}.{outKey}", logits, file[$"{name}.{outKey}"]);
            var term = (logits * file[$"{name}.{wKey}"]).sum();
            loss = loss is null ? term : loss + term;
        }
        loss!.backward();

        Assert.True(x.grad is not null, $"{name}: the input received no gradient.");
        Check(name, $"{name}.grad0", x.grad!, file[$"{name}.grad0"]);
        var gradNames = file.Keys.Where(k => k.StartsWith(name + ".grad.", StringComparison.Ordinal))
            .Select(k => k[(name + ".grad.").Length..]).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(model.named_parameters().Select(p => p.name).Order(StringComparer.Ordinal), gradNames);
        foreach (var (pname, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name}: parameter {pname} received no gradient.");
            Check(name, $"{name}.grad.{pname}", p.grad!, file[$"{name}.grad.{pname}"]);
        }

        if (config.DistillationToken)
        {
            // DeiT at inference: the mean of both heads (PyTorch's eval-mode output).
            model.eval();
            using var _ = no_grad();
            Check(name, $"{name}.prediction", model.forward(file[name + ".in0"]), file[name + ".prediction"]);
        }
    }

    /// <summary>Every case in vit.safetensors is tested here.</summary>
    [Fact]
    public void EveryCaseInFileIsTested()
    {
        var inFile = GoldenFile.Load("vit").CaseNames().Order(StringComparer.Ordinal);
        Assert.Equal(["deit", "vit"], inFile);
    }

    /// <summary>
    /// Asserts closeness with <see cref="ModelTol"/> and logs max |ref|, max |diff| and the largest fraction of the
    /// tolerance used, max |diff| / (atol + rtol·|ref|) (the test fails above 1).
    /// </summary>
    private void Check(string caseName, string key, Tensor ours, Tensor reference)
    {
        var a = GoldenFile.Values(ours);
        var b = GoldenFile.Values(reference);
        double maxAbs = 0, maxUsed = 0, maxRef = 0;
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            maxAbs = Math.Max(maxAbs, d);
            maxUsed = Math.Max(maxUsed, d / (ModelTol.Atol + ModelTol.Rtol * Math.Abs(b[i])));
            maxRef = Math.Max(maxRef, Math.Abs(b[i]));
        }
        output.WriteLine($"{key,-40} max|ref| {maxRef,9:G3}  max|diff| {maxAbs,9:G3}  tolerance used {maxUsed,9:G3}");
        GoldenTests.AssertClose(caseName, key, ours, reference, ModelTol);
    }
}
