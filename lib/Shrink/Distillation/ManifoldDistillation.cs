using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Shrink.Distillation;

/// <summary>
/// Fine-grained manifold distillation (Hao et al., NeurIPS 2022; reference code huawei-noah Efficient-Computing
/// ManifoldKD <c>losses.py</c>, <c>layer_mf_loss</c>). Patch features F (B, N, D) of a student and a teacher layer are
/// normalised along the channels, f = F/max(‖F‖₂, 1e−12) (<c>F.normalize(F, dim=-1)</c>), and their relation (Gram)
/// matrices are matched:
/// <list type="bullet">
/// <item><term>patch</term><description>per image, M = f·fᵀ (B, N, N): L_patch = mean((M_t − M_s)²);</description></item>
/// <item><term>sample</term><description>per patch position across the batch, M = f'·f'ᵀ with f' = f permuted to (N, B, D) (N, B, B): L_sample = mean((M_t − M_s)²);</description></item>
/// <item><term>random</term><description>K rows drawn without replacement from the B·N patch features of the batch, M = f_K·f_Kᵀ (K, K): L_rand = mean((M_t − M_s)²).</description></item>
/// </list>
/// The manifold term is w_patch·L_patch + w_sample·L_sample + w_rand·L_rand (the paper's β multiplies it in the total
/// loss, L = (1 − α)·CE + α·KD + β·L_mf with α on the distillation term; the README command uses w_sample 0.1,
/// w_patch 4, w_rand 0.2, K 192), averaged over layer pairs. Only patch tokens enter: strip class/distillation tokens
/// first (<see cref="PatchTokens"/>). Widths may differ; N must agree.
/// </summary>
public static class ManifoldDistillation
{
    /// <summary>The three relation losses of one layer pair and their weighted sum.</summary>
    /// <param name="Patch">L_patch (intra-image).</param>
    /// <param name="Sample">L_sample (inter-image).</param>
    /// <param name="Random">L_rand (K random patches of the batch).</param>
    public sealed record Losses(Tensor Patch, Tensor Sample, Tensor Random)
    {
        /// <summary>w_patch·L_patch + w_sample·L_sample + w_rand·L_rand.</summary>
        public Tensor Weighted(double wPatch, double wSample, double wRand) =>
            Patch * wPatch + Sample * wSample + Random * wRand;
    }

    /// <summary>The tokens after the first <paramref name="prefixTokens"/> (class/distillation tokens): (B, T, D) → (B, T − prefix, D).</summary>
    /// <exception cref="ArgumentException">The tensor is not (B, T, D) with T &gt; prefix.</exception>
    public static Tensor PatchTokens(Tensor tokens, int prefixTokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.dim() != 3 || prefixTokens < 0 || tokens.shape[1] <= prefixTokens)
            throw new ArgumentException($"ManifoldDistillation.PatchTokens: expected tokens (B, T, D) with T > {prefixTokens} prefix tokens, got ({DistillationLoss.Shape(tokens)}).");
        return prefixTokens == 0 ? tokens : tokens.narrow(1, prefixTokens, tokens.shape[1] - prefixTokens);   // (B, N, D)
    }

    /// <summary>F/max(‖F‖₂, 1e−12) along the last axis (PyTorch <c>F.normalize(F, dim=-1)</c>).</summary>
    public static Tensor Normalize(Tensor features) => F.normalize(features, p: 2, dim: -1, eps: 1e-12);

    /// <summary>
    /// L_patch, L_sample and L_rand of one layer pair (see the class remarks); the K random rows are the first K of
    /// <c>torch.randperm(B·N, generator)</c> (all rows when K ≥ B·N), so <paramref name="generator"/> (a CPU generator,
    /// e.g. <see cref="Torch.Seed.Generator(ulong, ReadOnlySpan{ulong})"/>) fixes them.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not fit, or K &lt; 1.</exception>
    public static Losses Compute(Tensor studentPatches, Tensor teacherPatches, int k, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(studentPatches);
        ArgumentNullException.ThrowIfNull(teacherPatches);
        ArgumentNullException.ThrowIfNull(generator);
        var s = studentPatches; var t = teacherPatches.detach();
        if (s.dim() != 3 || t.dim() != 3 || s.shape[0] != t.shape[0] || s.shape[1] != t.shape[1])
            throw new ArgumentException($"ManifoldDistillation: student patches ({DistillationLoss.Shape(s)}) and teacher patches ({DistillationLoss.Shape(t)}) must be (B, N, D) with equal B and N.");
        if (k < 1) throw new ArgumentException($"ManifoldDistillation: K must be ≥ 1, got {k}.");
        if (!DistillationLoss.SameDevice(s, t))
            throw new ArgumentException($"ManifoldDistillation: student patches on {s.device}, teacher patches on {t.device}.");
        long b = s.shape[0], n = s.shape[1];
        var sampled = randperm(b * n, generator: generator)    // (B·N) on the CPU
            .narrow(0, 0, Math.Min(k, b * n))                   // (K)
            .to(s.device);
        var fs = Normalize(s);                                  // (B, N, D_s)
        Tensor patchT, sampleT, randT;
        using (no_grad())
        {
            var ft = Normalize(t);                              // (B, N, D_t)
            patchT = Gram(ft);                                  // (B, N, N)
            sampleT = Gram(ft.permute(1, 0, 2));                // (N, B, B)
            randT = Gram(ft.reshape(b * n, -1).index_select(0, sampled));   // (K, K)
        }
        var patch = Diff(Gram(fs), patchT);
        var sample = Diff(Gram(fs.permute(1, 0, 2)), sampleT);
        var rand = Diff(Gram(fs.reshape(b * n, -1).index_select(0, sampled)), randT);
        return new Losses(patch, sample, rand);
    }

    /// <summary>f·fᵀ over the last two axes.</summary>
    private static Tensor Gram(Tensor f) => f.matmul(f.transpose(-2, -1));

    /// <summary>mean((M_t − M_s)²).</summary>
    private static Tensor Diff(Tensor ms, Tensor mt) => (mt - ms).square().mean();
}
