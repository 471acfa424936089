using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>
/// Splits images into non-overlapping p×p patches and embeds each linearly (timm <c>PatchEmbed</c>): a Conv2d with
/// kernel = stride = p, weight <c>proj.weight</c> (D, C, p, p), its (B, D, H/p, W/p) output flattened to tokens in
/// row-major patch order.
/// </summary>
public sealed class PatchEmbed : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d proj;

    /// <summary>The patch projection (timm name <c>proj</c>), weight (D, C, p, p).</summary>
    public Conv2d Proj => proj;
    /// <summary>Patch side p.</summary>
    public int PatchSize { get; }
    /// <summary>Image channels C.</summary>
    public int InChannels { get; }
    /// <summary>Token width D.</summary>
    public int EmbedDim { get; }

    /// <summary>Creates the embedding for p×p patches of <paramref name="inChannels"/>-channel images into <paramref name="embedDim"/> features.</summary>
    public PatchEmbed(int patchSize, int inChannels, int embedDim) : base(nameof(PatchEmbed))
    {
        PatchSize = patchSize; InChannels = inChannels; EmbedDim = embedDim;
        proj = nn.Conv2d(inChannels, embedDim, patchSize, stride: patchSize);
        RegisterComponents();
    }

    /// <summary>(B, C, H, W) → (B, N, D), N = (H/p)(W/p), patches in row-major order.</summary>
    /// <exception cref="ArgumentException">x is not (B, C, H, W) with H and W multiples of p; the message names its shape.</exception>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != InChannels || x.shape[2] % PatchSize != 0 || x.shape[3] % PatchSize != 0)
            throw new ArgumentException($"PatchEmbed: expected images (B, {InChannels}, H, W) with H and W multiples of {PatchSize}, got {ModelInit.Format(x.shape)}.");
        return proj.forward(x)          // (B, D, H/p, W/p)
            .flatten(2)                 // (B, D, N)
            .transpose(1, 2);           // (B, N, D)
    }
}
