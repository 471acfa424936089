using Shrink.Models;
using Shrink.Tensors;

namespace Shrink.Tests.Genes;

/// <summary>Tiny models and inputs for the learngene tests (milliseconds per forward pass).</summary>
internal static class GenesTestUtil
{
    /// <summary>8×8 single-channel images, 4×4 patches (4 patches + class token), D = 8, 2 heads, MLP 16, 3 classes.</summary>
    public static VitConfig Tiny(int depth, bool classToken = true) => new()
    {
        ImageSize = 8, PatchSize = 4, InChannels = 1, NumClasses = 3, EmbedDim = 8, Depth = depth, NumHeads = 2, MlpRatio = 2, ClassToken = classToken,
    };

    /// <summary>A batch of images (B, 1, 8, 8) with standard-normal pixels.</summary>
    public static Tensor Images(int batch, ulong seed) => Tensor.Randn([batch, 1, 8, 8], new Generator(seed));

    /// <summary>Exact equality of two tensors' values (same shape), with the first differing element in the message.</summary>
    public static void Identical(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToArray(); var a = actual.ToArray();
        for (int i = 0; i < e.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(e[i]) == BitConverter.SingleToInt32Bits(a[i]) || (e[i] == 0 && a[i] == 0),
                $"{what}: element {i} differs: {e[i]:R} vs {a[i]:R}.");
    }

    /// <summary>Gives every learngene non-trivial values (uniform in [−0.5, 0.5) plus 1 on the LayerNorm gains) so no coefficient hides behind a zero tensor.</summary>
    public static void Randomize(Shrink.Genes.LearngeneStack stack, ulong seed)
    {
        var g = new Generator(seed);
        foreach (var (name, p) in stack.NamedParameters())
        {
            var s = p.AsSpan();
            for (int i = 0; i < s.Length; i++) s[i] = g.NextFloat() - 0.5f + (name.EndsWith("norm1.weight") || name.EndsWith("norm2.weight") ? 1f : 0f);
        }
    }
}
