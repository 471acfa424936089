using Shrink.Models;
using Shrink.Pruning;
using static TorchSharp.torch;

namespace Shrink.Landscape;

/// <summary>
/// While alive, makes every attention of a model differentiable twice: the fused <c>scaled_dot_product_attention</c>
/// kernels have no double backward (on the CPU an attempt aborts the process), so every <see cref="VisionTransformer"/> in
/// the model switches to its explicit softmax(q kᵀ/√d) v path (<see cref="VisionTransformer.FusedAttention"/> = false)
/// and the flash kernel is disabled process-wide (<c>torch.backends.cuda.enable_flash_sdp(false)</c>, which the CPU
/// dispatcher honours too), so any other attention falls back to the composite math kernel. Both are restored on dispose.
/// </summary>
internal sealed class DoubleBackward : IDisposable
{
    private static readonly object Gate = new();
    private static int _depth;
    private static bool _flashBefore;
    private readonly List<(VisionTransformer Vit, bool Fused)> _vits = [];
    private bool _disposed;

    public DoubleBackward(nn.Module model)
    {
        foreach (var (_, m) in ModuleTree.SelfAndDescendants(model))
            if (m is VisionTransformer vit)
            {
                _vits.Add((vit, vit.FusedAttention));
                vit.FusedAttention = false;
            }
        lock (Gate)
        {
            if (_depth++ == 0)
            {
                _flashBefore = backends.cuda.flash_sdp_enabled();
                backends.cuda.enable_flash_sdp(false);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (vit, fused) in _vits) vit.FusedAttention = fused;
        _vits.Clear();
        lock (Gate)
        {
            if (--_depth == 0) backends.cuda.enable_flash_sdp(_flashBefore);
        }
    }
}
