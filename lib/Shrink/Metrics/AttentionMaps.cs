using Shrink.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Metrics;

/// <summary>Where a Vision Transformer looks: attention from the class token to the image patches, as a patch grid.</summary>
public static class AttentionMaps
{
    /// <summary>
    /// For each image of <paramref name="images"/> (B, C, H, W): the attention weights of the class token (query 0) on the
    /// N patch tokens in block <paramref name="block"/> (negative counts from the end: −1 is the last block), averaged over
    /// heads, as a (√N × √N) grid in the patches' raster order. Rows of the grid are image rows. Each grid sums to the
    /// attention mass the class token puts on patches (1 minus what it keeps on the prefix tokens).
    /// </summary>
    /// <exception cref="ArgumentException">The model has no class token, or <paramref name="block"/> is out of range.</exception>
    public static float[][,] ClassTokenToPatches(VisionTransformer model, Tensor images, int block = -1)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(images);
        var c = model.Config;
        if (!c.ClassToken) throw new ArgumentException("AttentionMaps: the model has no class token.");
        int depth = c.Depth, index = block < 0 ? depth + block : block;
        if (index < 0 || index >= depth) throw new ArgumentException($"AttentionMaps: block {block} is outside a model of depth {depth}.");
        int grid = c.ImageSize / c.PatchSize, prefix = c.NumPrefixTokens;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var attention = model.ForwardIntermediates(images.to(model.PosEmbed.device), Intermediates.Attentions, [index]).Attentions[0];   // (B, H, T, T)
            var fromCls = attention.select(2, 0).mean([1]).cpu().contiguous().data<float>().ToArray();            // (B, T)
            int b = (int)images.shape[0], t = prefix + grid * grid;
            var maps = new float[b][,];
            for (int i = 0; i < b; i++)
            {
                var map = new float[grid, grid];
                for (int p = 0; p < grid * grid; p++) map[p / grid, p % grid] = fromCls[i * t + prefix + p];
                maps[i] = map;
            }
            return maps;
        }
        finally { model.train(wasTraining); }
    }
}
