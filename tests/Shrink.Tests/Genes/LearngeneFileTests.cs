using Shrink.Genes;
using Shrink.IO;
using Shrink.Torch;
using TorchSharp;
using static Shrink.Tests.Genes.GenesTestUtil;
using static TorchSharp.torch;

namespace Shrink.Tests.Genes;

/// <summary>Learngenes as safetensors: round trip, and clear errors for files that do not fit.</summary>
public sealed class LearngeneFileTests : IDisposable
{
    private readonly TempFolder _temp = new("genes");
    private string _dir => _temp.Path;

    public LearngeneFileTests() => TorchNative.EnsureLoaded();

    public void Dispose() => _temp.Dispose();

    private static LearngeneVit Model(int k = 3) =>
        new(Tiny(5, classToken: false) with { MlpRatio = 1.5 }, k, LearngeneBasis.Fourier, LearngeneIndexing.Tleg, LearngeneInit.BlockLike, seed: 8);

    [Fact]
    public void RoundTripKeepsEveryTensorAndSetting()
    {
        var model = Model();
        Randomize(model.Learngenes, 1);
        var path = Path.Combine(_dir, "genes.safetensors");
        LearngeneFile.Save(path, model);
        var loaded = LearngeneFile.Load(path);
        Assert.Equal(model.Config, loaded.Config);
        Assert.Equal((LearngeneBasis.Fourier, LearngeneIndexing.Tleg, LearngeneInit.BlockLike, 3),
            (loaded.Learngenes.Basis, loaded.Learngenes.Indexing, loaded.Learngenes.Init, loaded.Count));
        foreach (var (name, t) in model.state_dict()) Identical(t, loaded.state_dict()[name], name);
        Assert.All(loaded.parameters(), p => Assert.True(p.requires_grad));
        var x = Images(2, 3);
        using (no_grad()) Identical(model.forward(x), loaded.forward(x), "logits after a round trip");
        var names = SafeTensors.ReadTensorInfos(path).Select(i => i.Name).ToArray();
        Assert.Contains("learngenes.2.mlp.fc2.bias", names);
        Assert.Contains("learngenes.0.attn.qkv.weight", names);
        Assert.Equal(LearngeneFile.Format, SafeTensors.ReadMetadata(path)["format"]);
    }

    [Fact]
    public void NotASafetensorsFileIsRefusedNamingTheFile()
    {
        var path = Path.Combine(_dir, "garbage.safetensors");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        var e = Assert.Throws<LearngeneFileException>(() => LearngeneFile.Load(path));
        Assert.Contains("garbage.safetensors", e.Message);
        Assert.Contains("not a valid safetensors file", e.Message);
        Assert.Throws<FileNotFoundException>(() => LearngeneFile.Load(Path.Combine(_dir, "missing.safetensors")));
    }

    [Fact]
    public void MetadataProblemsAreNamed()
    {
        var model = Model();
        var plain = Path.Combine(_dir, "plain.safetensors");
        SafeTensors.Save(plain, model.state_dict());
        Assert.Contains("no 'format' metadata", Assert.Throws<LearngeneFileException>(() => LearngeneFile.Load(plain)).Message);

        var path = Path.Combine(_dir, "meta.safetensors");
        LearngeneFile.Save(path, model);
        var meta = SafeTensors.ReadMetadata(path).ToDictionary();
        var tensors = SafeTensors.Load(path);
        meta["basis"] = "Bessel";
        SafeTensors.Save(path, tensors, meta);
        Assert.Contains("metadata 'basis' = 'Bessel' is not one of Chebyshev, Taylor, Legendre, Fourier", Assert.Throws<LearngeneFileException>(() => LearngeneFile.Load(path)).Message);
        meta["basis"] = "Fourier"; meta.Remove("embed_dim");
        SafeTensors.Save(path, tensors, meta);
        Assert.Contains("no 'embed_dim' entry", Assert.Throws<LearngeneFileException>(() => LearngeneFile.Load(path)).Message);
        meta["embed_dim"] = "8"; meta["format"] = "shrink-model-1";
        SafeTensors.Save(path, tensors, meta);
        Assert.Contains("has format 'shrink-model-1'", Assert.Throws<LearngeneFileException>(() => LearngeneFile.Load(path)).Message);
    }

    [Fact]
    public void TensorProblemsNameTheTensorAndTheShapes()
    {
        var model = Model();
        var path = Path.Combine(_dir, "t.safetensors");
        LearngeneFile.Save(path, model);
        var meta = SafeTensors.ReadMetadata(path).ToDictionary();
        var tensors = SafeTensors.Load(path);

        var wrong = new Dictionary<string, Tensor>(tensors) { ["learngenes.1.attn.qkv.weight"] = zeros(24, 4) };
        SafeTensors.Save(path, wrong, meta);
        var e = Assert.Throws<LearngeneFileException>(() => LearngeneFile.Load(path));
        Assert.Contains("tensor 'learngenes.1.attn.qkv.weight' has shape (24, 4), expected (24, 8)", e.Message);

        var missing = new Dictionary<string, Tensor>(tensors);
        missing.Remove("learngenes.2.norm2.bias");
        SafeTensors.Save(path, missing, meta);
        Assert.Contains("tensor 'learngenes.2.norm2.bias' is missing (expected shape (8))", Assert.Throws<LearngeneFileException>(() => LearngeneFile.Load(path)).Message);

        var fewer = new Dictionary<string, string>(meta) { ["learngenes"] = "2" };
        SafeTensors.Save(path, tensors, fewer);
        Assert.Contains("tensor 'learngenes.2.norm1.weight' is unexpected: the metadata says 2 learngene(s)", Assert.Throws<LearngeneFileException>(() => LearngeneFile.Load(path)).Message);

        var zero = new Dictionary<string, string>(meta) { ["learngenes"] = "0" };
        SafeTensors.Save(path, tensors, zero);
        Assert.Contains("metadata 'learngenes' = '0' is not a positive integer", Assert.Throws<LearngeneFileException>(() => LearngeneFile.Load(path)).Message);
    }
}
