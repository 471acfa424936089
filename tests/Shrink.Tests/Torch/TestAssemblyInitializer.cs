using System.Runtime.CompilerServices;
using Shrink.Torch;

namespace Shrink.Tests.Torch;

/// <summary>
/// Loads TorchSharp through Shrink before any test runs. Test classes run in parallel and some call <c>torch.*</c>
/// before touching a Shrink type; without this, libtorch could dispatch its first oneDNN kernel before
/// <see cref="TorchNative"/> capped the ISA (see <see cref="TorchNative.OneDnnIsaDefault"/>), and a convolution
/// gradient could come back NaN.
/// </summary>
internal static class TestAssemblyInitializer
{
#pragma warning disable CA2255 // the test assembly's entry point is the test host: this is the earliest code of ours that runs
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => TorchNative.EnsureLoaded();
}
