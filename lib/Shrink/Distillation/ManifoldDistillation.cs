using Shrink.Tensors;

namespace Shrink.Distillation;

/// <summary>
/// Fine-grained manifold distillation (Hao et al., NeurIPS 2022; reference code huawei-noah Efficient-Computing
/// ManifoldKD <c>losses.py</c>, <c>layer_mf_loss</c>). Patch features F (B, N, D) of a student and a teacher layer are
/// normalised along the channels, f = F/max(‖F‖₂, 1e−12), and their relation (Gram) matrices are matched:
/// <list type="bullet">
/// <item><term>patch</term><description>per image, M = f·fᵀ (B, N, N): L_patch = mean((M_t − M_s)²);</description></item>
/// <item><term>sample</term><description>per patch position across the batch, M = f'·f'ᵀ with f' = f permuted to (N, B, D) (N, B, B): L_sample = mean((M_t − M_s)²);</description></item>
/// <item><term>random</term><description>K rows drawn without replacement from the B·N patch features of the batch, M = f_K·f_Kᵀ (K, K): L_rand = mean((M_t − M_s)²).</description></item>
/// </list>
/// The manifold term is w_patch·L_patch + w_sample·L_sample + w_rand·L_rand (the paper's β multiplies it in the total
/// loss; the README command uses w_sample 0.1, w_patch 4, w_rand 0.2, K 192), averaged over layer pairs. Only patch
/// tokens enter: strip class/distillation tokens first (<see cref="PatchTokens"/>). Widths may differ; N must agree.
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
            Patch * (float)wPatch + Sample * (float)wSample + Random * (float)wRand;
    }

    /// <summary>The tokens after the first <paramref name="prefixTokens"/> (class/distillation tokens): (B, T, D) → (B, T − prefix, D).</summary>
    public static Tensor PatchTokens(Tensor tokens, int prefixTokens) =>
        prefixTokens == 0 ? tokens : tokens.Narrow(1, prefixTokens, tokens.Shape[1] - prefixTokens);

    /// <summary>F/max(‖F‖₂, 1e−12) along the last axis (PyTorch <c>F.normalize(F, dim=-1)</c>).</summary>
    public static Tensor Normalize(Tensor features) =>
        features / features.Square().Sum(-1, keepdim: true).Clamp(1e-24f).Sqrt();

    /// <summary>
    /// L_patch, L_sample and L_rand of one layer pair (see the class remarks); the K random rows come from
    /// <paramref name="generator"/> (a permutation of 0..B·N−1, first K; all rows when K ≥ B·N).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not fit, or K &lt; 1.</exception>
    public static Losses Compute(Tensor studentPatches, Tensor teacherPatches, int k, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(studentPatches);
        ArgumentNullException.ThrowIfNull(teacherPatches);
        ArgumentNullException.ThrowIfNull(generator);
        var s = studentPatches; var t = FeatureDistillation.Detached(teacherPatches);
        if (s.Rank != 3 || t.Rank != 3 || s.Shape[0] != t.Shape[0] || s.Shape[1] != t.Shape[1])
            throw new ArgumentException($"ManifoldDistillation: student patches ({string.Join(", ", s.Shape)}) and teacher patches ({string.Join(", ", t.Shape)}) must be (B, N, D) with equal B and N.");
        if (k < 1) throw new ArgumentException($"ManifoldDistillation: K must be ≥ 1, got {k}.");
        int b = s.Shape[0], n = s.Shape[1];
        var rows = generator.Permutation(b * n);
        var sampled = rows.AsSpan(0, Math.Min(k, rows.Length)).ToArray();
        var fs = Normalize(s);
        Tensor ft;
        using (Tensor.NoGrad()) ft = Normalize(t);
        Tensor Diff(Tensor ms, Tensor mt) => (mt - ms).Square().Mean();
        Tensor Gram(Tensor f) => f.MatMul(f.MT);
        Tensor patchT, sampleT, randT;
        using (Tensor.NoGrad())
        {
            patchT = Gram(ft);
            sampleT = Gram(ft.Permute(1, 0, 2));
            var tf = ft.Reshape(b * n, -1).IndexSelect(0, sampled);
            randT = Gram(tf);
        }
        var patch = Diff(Gram(fs), patchT);
        var sample = Diff(Gram(fs.Permute(1, 0, 2)), sampleT);
        var rand = Diff(Gram(fs.Reshape(b * n, -1).IndexSelect(0, sampled)), randT);
        return new Losses(patch, sample, rand);
    }
}
