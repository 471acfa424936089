using TorchSharp;

namespace Shrink.Torch;

/// <summary>
/// Device names as the hyperparameters and notebooks spell them: <c>"cpu"</c>, <c>"cuda"</c>, <c>"cuda:1"</c>, or
/// <c>"auto"</c> (CUDA when <c>torch.cuda.is_available()</c>, else the CPU). Every tensor of a run lives on its device.
/// </summary>
public static class Devices
{
    /// <summary>"cuda" when a CUDA device is usable in this process, else "cpu".</summary>
    public static string Default
    {
        get { TorchNative.EnsureLoaded(); return torch.cuda.is_available() ? "cuda" : "cpu"; }
    }

    /// <summary>The device named <paramref name="name"/>; a CUDA name on a machine without CUDA is an error that says so.</summary>
    public static torch.Device Parse(string name)
    {
        TorchNative.EnsureLoaded();
        string n = (name ?? "").Trim().ToLowerInvariant();
        if (n is "" or "auto") n = Default;
        if (n.StartsWith("cuda", StringComparison.Ordinal) && !torch.cuda.is_available())
            throw new ArgumentException(
                $"Device \"{name}\": CUDA is not available in this process (the CPU build of libtorch is referenced, or no GPU is present). " +
                "Use \"cpu\", or build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU.");
        if (n != "cpu" && !n.StartsWith("cuda", StringComparison.Ordinal))
            throw new ArgumentException($"Device \"{name}\": expected \"cpu\", \"cuda\", \"cuda:N\" or \"auto\".");
        return torch.device(n);
    }
}
