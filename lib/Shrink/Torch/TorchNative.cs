using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace Shrink.Torch;

/// <summary>
/// Makes TorchSharp's native libraries load wherever Shrink runs: tests, the benchmark, samples, the notebook runner
/// and a notebook opened in VS Code or Jupyter that only <c>#r</c>s Shrink.dll. A module initializer calls
/// <see cref="EnsureLoaded"/> the first time any Shrink type is touched, so nothing has to be called by hand.
/// <para>
/// On Linux it loads <c>libLibTorchSharp.so</c> from beside TorchSharp.dll (<c>runtimes/linux-x64/native/</c> of a
/// build output, or the folder itself for a RID-specific publish). Where that fails because the system's libstdc++
/// lacks <c>GLIBCXX_3.4.32</c> (Debian 12; see <see cref="ElfVersionNeeds"/>), it marks that one requirement weak in
/// the build output's copy — written to a temporary file and renamed over it, so a hard link into the NuGet cache is
/// never modified — and loads it. Where the system libstdc++ has the version (Ubuntu ≥ 24.04, Windows, macOS), the
/// first load succeeds and nothing is changed. Loading the library by path before TorchSharp's own loader runs is also
/// what makes it load inside the .NET Interactive kernel, whose probing does not look in <c>runtimes/</c>.
/// </para>
/// A missing or unloadable library raises <see cref="TorchNativeException"/> with one message naming what is missing
/// and how to fix it.
/// </summary>
public static class TorchNative
{
    /// <summary>The libstdc++ symbol version TorchSharp 0.107's shim asks for and Debian 12 lacks.</summary>
    public const string MissingGlibcxx = "GLIBCXX_3.4.32";
    private const string ShimFile = "libLibTorchSharp.so";

    private static readonly object Gate = new();
    private static TorchNativeException? _failure;
    private static bool _loaded;

    /// <summary>The shim that was loaded, or null before <see cref="EnsureLoaded"/> succeeded (and on Windows and macOS).</summary>
    public static string? LoadedShim { get; private set; }

    /// <summary>True when this process had to use the patched copy (the system libstdc++ lacks <see cref="MissingGlibcxx"/>).</summary>
    public static bool Patched { get; private set; }

    // A library module initializer on purpose: a notebook that only #r's Shrink.dll must get the working shim before
    // its first torch call, and nothing else runs that early.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        try { EnsureLoaded(); }
        catch (TorchNativeException) { /* kept in _failure; rethrown by the next EnsureLoaded with its message */ }
    }

    /// <summary>
    /// Loads TorchSharp's native libraries (idempotent; thread-safe), patching the shim where the system needs it, and
    /// initialises the CPU backend. Throws <see cref="TorchNativeException"/> with a one-paragraph explanation on failure.
    /// </summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            if (_failure is not null) throw _failure;
            try
            {
                if (OperatingSystem.IsLinux())
                {
                    CapOneDnnIsa();
                    MakeMklReproducible();
                    LoadLinuxShim();
                }
                torch.InitializeDeviceType(DeviceType.CPU);
                torch.set_num_threads(ChooseThreads(torch.get_num_threads()));
                _loaded = true;
            }
            catch (TorchNativeException e) { _failure = e; throw; }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _failure = new TorchNativeException(
                    $"TorchSharp's native libraries (libtorch 2.10.0) failed to initialise: {FirstLine(e)} " +
                    "Rebuild (`dotnet build -c Release lib/Shrink`) so the libtorch-cpu package's natives are copied beside TorchSharp.dll.", e);
                throw _failure;
            }
        }
    }

    /// <summary>
    /// The oneDNN ISA cap in effect for this process: <see cref="OneDnnIsaDefault"/> unless the environment already set
    /// <c>ONEDNN_MAX_CPU_ISA</c> (set it to <c>ALL</c> to lift the cap).
    /// </summary>
    public static string? OneDnnMaxCpuIsa { get; private set; }

    /// <summary>
    /// The cap Shrink sets: oneDNN 3.7.1 in libtorch 2.10 (CPU) returns NaN at random from the float32 conv2d input
    /// gradient when it picks its AVX-512/bf16 kernels (measured on an AMD EPYC with AVX-512: 3 of 25 runs of an
    /// 8→8 3×3 convolution on (16, 8, 14, 14); 0 of 200 with the AVX2 kernels or in float64). AVX2 is what most
    /// laptops run anyway; on an AVX2-only machine the cap changes nothing.
    /// </summary>
    public const string OneDnnIsaDefault = "AVX2";

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr GetEnv(string name);

    // oneDNN reads ONEDNN_MAX_CPU_ISA with the C library's getenv the first time it dispatches a kernel, so it must be set
    // in the native environment (Environment.SetEnvironmentVariable does not reach it) before the first convolution.
    private static void CapOneDnnIsa()
    {
        SetEnv("ONEDNN_MAX_CPU_ISA", OneDnnIsaDefault, overwrite: 0);
        OneDnnMaxCpuIsa = Marshal.PtrToStringAnsi(GetEnv("ONEDNN_MAX_CPU_ISA"));
    }

    /// <summary>
    /// MKL's conditional-numerical-reproducibility branch in effect for this process: <see cref="MklCbwrDefault"/>
    /// unless the environment already set <c>MKL_CBWR</c>.
    /// </summary>
    public static string? MklCbwr { get; private set; }

    /// <summary>
    /// The branch Shrink sets: <c>AUTO</c> keeps MKL's fastest code path for the CPU but makes its results the same from
    /// run to run. Without it, MKL (which libtorch's CPU GEMMs call) may pick kernels by data alignment on Intel CPUs and
    /// return results that differ in the last bits between identical calls: seen in CI, where two forward passes of one
    /// model on one input differed by a few ulps (2026-12-04); on the AMD EPYC here both settings are bit-stable and the
    /// M ViT's training speed is unchanged within noise (35.8–36.0 vs 34.8–35.9 img/s, `Shrink.Bench -- M 15`).
    /// "Same seed, same machine: same bits" needs it.
    /// </summary>
    public const string MklCbwrDefault = "AUTO";

    // MKL reads MKL_CBWR from the C library's environment at its first call, like oneDNN reads its cap.
    private static void MakeMklReproducible()
    {
        SetEnv("MKL_CBWR", MklCbwrDefault, overwrite: 0);
        MklCbwr = Marshal.PtrToStringAnsi(GetEnv("MKL_CBWR"));
    }

    private static void LoadLinuxShim()
    {
        string torchSharpDir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory;
        string[] candidates =
        [
            Path.Combine(torchSharpDir, "runtimes", RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64", "native", ShimFile),
            Path.Combine(torchSharpDir, ShimFile),
        ];
        string? shim = candidates.FirstOrDefault(File.Exists);
        if (shim is null)
            throw new TorchNativeException(
                $"TorchSharp's native shim {ShimFile} is not beside TorchSharp.dll (looked for {string.Join(" and ", candidates)}). " +
                "Build the project that references Shrink (`dotnet build -c Release lib/Shrink`); it copies the natives of the " +
                "libtorch-cpu-linux-x64 package there. A notebook must #r the built Shrink.dll under artifacts/bin/Shrink/release/.");

        if (NativeLibrary.TryLoad(shim, out _)) { LoadedShim = shim; return; }

        byte[] image = File.ReadAllBytes(shim);
        bool needsPatch = ElfVersionNeeds.Read(image, shim).Any(n => n.Version == MissingGlibcxx && !n.Weak);
        if (needsPatch)
        {
            ElfVersionNeeds.MarkWeak(image, MissingGlibcxx, shim);
            string temp = $"{shim}.{Environment.ProcessId}.tmp";
            try
            {
                File.WriteAllBytes(temp, image);
                File.Move(temp, shim, overwrite: true);   // a new inode: a hard link into ~/.nuget stays untouched
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                TryDelete(temp);
                throw new TorchNativeException(
                    $"TorchSharp's native shim {shim} needs {MissingGlibcxx}, which this system's libstdc++ lacks (Debian 12 has up to " +
                    $"GLIBCXX_3.4.30), and Shrink could not write its patched copy there: {e.Message} Make that folder writable, or " +
                    "install a libstdc++ from GCC ≥ 13.", e);
            }
            Patched = true;
        }
        try
        {
            NativeLibrary.Load(shim);
            LoadedShim = shim;
        }
        catch (DllNotFoundException e)
        {
            throw new TorchNativeException(
                $"TorchSharp's native shim {shim} does not load: {FirstLine(e)} " +
                (needsPatch ? $"(Its {MissingGlibcxx} requirement was marked weak.) " : "") +
                "The libtorch natives (libtorch.so, libtorch_cpu.so, libc10.so) must sit in the same folder; rebuild to restore them.", e);
        }
    }

    /// <summary>
    /// The intra-op thread count Shrink sets when it loads libtorch: the value of the environment variable
    /// <c>SHRINK_THREADS</c> when set, else libtorch's default (one per physical core) but at most one less than the
    /// logical processors, so that the data loader's background thread keeps a core. On the 2-core machines here that
    /// is 1: measured with <c>Shrink.Bench</c> on a quiet machine, the notebooks' small models (the S ViT) train ~40 %
    /// faster on one thread than on two, which oversubscribe the cores, while GEMM-bound models (the M ViT) are ~2×
    /// faster on two (README, Benchmarks). One thread also makes results independent of the machine's load. Change it
    /// at any time with <c>torch.set_num_threads(n)</c>.
    /// </summary>
    public static int ThreadsChosen { get; private set; }

    private static int ChooseThreads(int libtorchDefault)
    {
        if (Environment.GetEnvironmentVariable("SHRINK_THREADS") is { Length: > 0 } text)
        {
            if (int.TryParse(text, out int n) && n >= 1) return ThreadsChosen = n;
            throw new TorchNativeException($"SHRINK_THREADS=\"{text}\" is not a thread count (an integer ≥ 1).");
        }
        return ThreadsChosen = Math.Max(1, Math.Min(libtorchDefault, Environment.ProcessorCount - 1));
    }

    private static string FirstLine(Exception e)
    {
        string m = e.InnerException is { } inner && e is TypeInitializationException ? inner.Message : e.Message;
        int nl = m.IndexOf('\n');
        return (nl < 0 ? m : m[..nl]).Trim();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>TorchSharp's native libraries could not be loaded; the message says what is missing and how to fix it.</summary>
public sealed class TorchNativeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TorchNativeException(string message, Exception? inner = null) : base(message, inner) { }
}
