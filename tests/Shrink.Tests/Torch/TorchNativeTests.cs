using System.Runtime.InteropServices;
using Shrink.Torch;
using TorchSharp;

namespace Shrink.Tests.Torch;

public class TorchNativeTests
{
    private static string PackageShim()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void TorchLoadsAndComputes()
    {
        TorchNative.EnsureLoaded();
        var x = torch.arange(6, dtype: torch.float32).reshape(2, 3);   // (2, 3)
        Assert.Equal(15f, x.sum().item<float>());
        if (OperatingSystem.IsLinux()) Assert.NotNull(TorchNative.LoadedShim);
    }

    [Fact]
    public void ThePackageShimNeedsGlibcxx332AndMarkWeakChangesOnlyThatFlag()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        string shim = PackageShim();
        Assert.True(File.Exists(shim), $"the restored TorchSharp package should hold {shim}");
        byte[] original = File.ReadAllBytes(shim);
        var needs = ElfVersionNeeds.Read(original, shim);
        var glibcxx = Assert.Single(needs, n => n.Version == TorchNative.MissingGlibcxx);
        Assert.Equal("libstdc++.so.6", glibcxx.File);
        Assert.False(glibcxx.Weak);

        byte[] patched = (byte[])original.Clone();
        Assert.True(ElfVersionNeeds.MarkWeak(patched, TorchNative.MissingGlibcxx));
        Assert.False(ElfVersionNeeds.MarkWeak(patched, TorchNative.MissingGlibcxx));   // idempotent
        var after = ElfVersionNeeds.Read(patched);
        Assert.Equal(needs.Count, after.Count);
        for (int i = 0; i < needs.Count; i++)
            Assert.Equal(needs[i].Version == TorchNative.MissingGlibcxx || needs[i].Weak, after[i].Weak);
        int changedBytes = original.Zip(patched).Count(p => p.First != p.Second);
        Assert.Equal(1, changedBytes);
    }

    [Fact]
    public void TheLoadedShimIsPatchedOnlyWhereTheSystemNeedsIt()
    {
        TorchNative.EnsureLoaded();
        if (!OperatingSystem.IsLinux()) return;
        var need = ElfVersionNeeds.Read(File.ReadAllBytes(TorchNative.LoadedShim!)).SingleOrDefault(n => n.Version == TorchNative.MissingGlibcxx);
        if (TorchNative.Patched) Assert.True(need!.Weak);
        // Whatever this system's libstdc++ is, the shim that loaded either needs nothing missing or marks it weak.
        Assert.True(need is null || need.Weak || SystemHasGlibcxx332());
    }

    [Fact]
    public void ConvolutionInputGradientsHaveNoNaNUnderTheOneDnnCap()
    {
        // oneDNN's AVX-512/bf16 kernels returned NaN here in about 3 of 25 runs (see TorchNative.OneDnnIsaDefault).
        TorchNative.EnsureLoaded();
        if (OperatingSystem.IsLinux()) Assert.NotNull(TorchNative.OneDnnMaxCpuIsa);
        var g = Seed.Generator(3);
        var weight = (torch.randn(new long[] { 8, 8, 3, 3 }, generator: g) * 0.1).requires_grad_();   // (8, 8, 3, 3)
        for (int run = 0; run < 60; run++)
        {
            using var scope = torch.NewDisposeScope();
            var x = torch.randn(new long[] { 16, 8, 14, 14 }, generator: g).requires_grad_();   // (16, 8, 14, 14)
            var y = torch.nn.functional.conv2d(x, weight, padding: new long[] { 1, 1 });        // (16, 8, 14, 14)
            y.square().sum().backward();
            Assert.False(x.grad!.isnan().any().item<bool>(), $"run {run}: NaN in the conv2d input gradient");
        }
    }

    [Fact]
    public void RepeatedGemmsAndForwardPassesReturnTheSameBits()
    {
        // MKL without MKL_CBWR returned different last bits for identical calls on CI's Intel CPU (TorchNative.MklCbwrDefault).
        TorchNative.EnsureLoaded();
        if (OperatingSystem.IsLinux()) Assert.NotNull(TorchNative.MklCbwr);
        var g = Seed.Generator(5);
        var a = torch.randn(new long[] { 67, 129 }, generator: g);     // (67, 129): odd sizes, MKL's edge kernels
        var b = torch.randn(new long[] { 129, 45 }, generator: g);     // (129, 45)
        var model = new Shrink.Models.VisionTransformer(new Shrink.Models.VitConfig
        {
            ImageSize = 16, PatchSize = 4, InChannels = 3, NumClasses = 5, EmbedDim = 48, Depth = 2, NumHeads = 3,
        }, seed: 6);
        model.eval();
        var x = torch.randn(new long[] { 3, 3, 16, 16 }, generator: g);   // (3, 3, 16, 16)
        using var _ = torch.no_grad();
        var product = torch.mm(a, b).data<float>().ToArray();
        var logits = model.forward(x).data<float>().ToArray();
        for (int run = 0; run < 30; run++)
        {
            var padding = torch.empty(new long[] { 1 + 17 * run });   // moves later allocations around the heap
            Assert.Equal(product, torch.mm(a, b).data<float>().ToArray());
            Assert.Equal(logits, model.forward(x).data<float>().ToArray());
            padding.Dispose();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(100)]
    public void MalformedImagesAreRejectedWithTheirName(int length)
    {
        byte[] bytes = new byte[length];
        if (length >= 4) { bytes[0] = 0x7f; bytes[1] = (byte)'E'; bytes[2] = (byte)'L'; bytes[3] = (byte)'F'; }
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(bytes, "broken.so"));
        Assert.Contains("broken.so", e.Message);
    }

    [Fact]
    public void ATruncatedShimIsRejectedNotMisread()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(PackageShim())) return;
        byte[] head = File.ReadAllBytes(PackageShim())[..4096];
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(head, "head.so"));
    }

    private static bool SystemHasGlibcxx332()
    {
        foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib" })
        {
            string lib = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(lib)) return System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(lib)).Contains("GLIBCXX_3.4.32");
        }
        return false;
    }
}
