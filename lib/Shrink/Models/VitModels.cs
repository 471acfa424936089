namespace Shrink.Models;

/// <summary>
/// Named ViT configurations in timm's grammar <c>{family}_{size}_patch{p}_{image}</c>, sized for 28×28 images.
/// <list type="table">
/// <item><term>vit_nano_patch7_28</term><description>D 64, depth 4, 4 heads, MLP 128 — the benchmark's model S (~0.1M parameters).</description></item>
/// <item><term>vit_micro_patch4_28</term><description>D 128, depth 6, 4 heads, MLP 256 (~0.8M parameters): the ≤ 1M model for Fashion-MNIST.</description></item>
/// <item><term>vit_micro_patch7_28</term><description>the same widths on 7×7 patches (16 patches + class token, ~0.8M parameters): about 3× fewer FLOPs per image.</description></item>
/// <item><term>vit_tiny_patch4_28</term><description>ViT-Tiny widths: D 192, depth 12, 3 heads, MLP 768 — the benchmark's model M (~5.4M parameters).</description></item>
/// <item><term>deit_*_distilled_*</term><description>the same widths with DeiT's distillation token and head.</description></item>
/// </list>
/// </summary>
public static class VitModels
{
    private static readonly Dictionary<string, VitConfig> Registry = new()
    {
        ["vit_nano_patch7_28"] = new() { PatchSize = 7, EmbedDim = 64, Depth = 4, NumHeads = 4, MlpRatio = 2 },
        ["vit_micro_patch4_28"] = new() { PatchSize = 4, EmbedDim = 128, Depth = 6, NumHeads = 4, MlpRatio = 2 },
        ["vit_micro_patch7_28"] = new() { PatchSize = 7, EmbedDim = 128, Depth = 6, NumHeads = 4, MlpRatio = 2 },
        ["vit_tiny_patch4_28"] = new() { PatchSize = 4, EmbedDim = 192, Depth = 12, NumHeads = 3, MlpRatio = 4 },
        ["deit_nano_distilled_patch7_28"] = new() { PatchSize = 7, EmbedDim = 64, Depth = 4, NumHeads = 4, MlpRatio = 2, DistillationToken = true },
        ["deit_micro_distilled_patch4_28"] = new() { PatchSize = 4, EmbedDim = 128, Depth = 6, NumHeads = 4, MlpRatio = 2, DistillationToken = true },
        ["deit_tiny_distilled_patch4_28"] = new() { PatchSize = 4, EmbedDim = 192, Depth = 12, NumHeads = 3, MlpRatio = 4, DistillationToken = true },
    };

    /// <summary>The registered names.</summary>
    public static IReadOnlyCollection<string> Names => Registry.Keys;

    /// <summary>The configuration registered as <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static VitConfig Config(string name) =>
        Registry.TryGetValue(name, out var c) ? c : throw new ArgumentException($"Unknown ViT '{name}'. Known: {string.Join(", ", Registry.Keys)}.");

    /// <summary>Builds the model registered as <paramref name="name"/>, optionally adjusted (e.g. <c>c =&gt; c with { NumClasses = 100 }</c>).</summary>
    public static VisionTransformer Create(string name, ulong seed = 0, Func<VitConfig, VitConfig>? configure = null)
    {
        var config = Config(name);
        return new VisionTransformer(configure is null ? config : configure(config), seed);
    }
}
