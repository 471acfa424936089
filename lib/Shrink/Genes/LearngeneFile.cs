using System.Globalization;
using Shrink.Models;
using Shrink.IO;
using Shrink.Torch;
using static TorchSharp.torch;

namespace Shrink.Genes;

/// <summary>
/// Saves and loads a decomposed model (<see cref="LearngeneVit"/>: learngenes plus embeddings, norm and head) as one
/// safetensors file, so recomposition can start from a file.
/// <para>
/// Tensor names are the model's state dict: <c>cls_token</c> (with a class token), <c>pos_embed</c>,
/// <c>patch_embed.proj.weight</c>, <c>patch_embed.proj.bias</c>, then for each learngene A_n (n = 1 … k, stored 0-based as i = n − 1)
/// <c>learngenes.{i}.norm1.weight</c>, <c>learngenes.{i}.norm1.bias</c>, <c>learngenes.{i}.attn.qkv.weight</c>,
/// <c>learngenes.{i}.attn.qkv.bias</c>, <c>learngenes.{i}.attn.proj.weight</c>, <c>learngenes.{i}.attn.proj.bias</c>,
/// <c>learngenes.{i}.norm2.*</c>, <c>learngenes.{i}.mlp.fc1.*</c>, <c>learngenes.{i}.mlp.fc2.*</c> (the suffix after
/// <c>learngenes.{i}.</c> is the one after <c>blocks.{l}.</c> in timm, with the same shape), then <c>norm.weight</c>,
/// <c>norm.bias</c>, <c>head.weight</c>, <c>head.bias</c>. All float32 (<see cref="SafeTensors"/> writes F32 and reads F32, F16,
/// BF16 and F64 as float32).
/// </para>
/// <para>
/// Metadata (<c>__metadata__</c>, strings): <c>format</c> = <see cref="Format"/>, <c>learngenes</c> (k), <c>basis</c>,
/// <c>indexing</c>, <c>init</c>, and the architecture: <c>image_size</c>, <c>patch_size</c>, <c>in_channels</c>,
/// <c>num_classes</c>, <c>embed_dim</c>, <c>depth</c> (L of the saved model), <c>num_heads</c>, <c>mlp_ratio</c>,
/// <c>qkv_bias</c>, <c>class_token</c>, <c>layer_norm_eps</c>. Loading rebuilds the model from the metadata and checks
/// every tensor's presence and shape before copying anything. A model on any device is saved from CPU copies; a loaded
/// model is on the CPU (move it with <c>.to(device)</c>).
/// </para>
/// </summary>
public static class LearngeneFile
{
    /// <summary>The value of the <c>format</c> metadata entry.</summary>
    public const string Format = "shrink-learngenes-1";

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> (atomically, see <see cref="SafeTensors.Save(string, IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, string}?)"/>).</summary>
    public static void Save(string path, LearngeneVit model)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(model);
        var c = model.Config;
        var s = model.Learngenes;
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["learngenes"] = Text(model.Count),
            ["basis"] = s.Basis.ToString(),
            ["indexing"] = s.Indexing.ToString(),
            ["init"] = s.Init.ToString(),
            ["image_size"] = Text(c.ImageSize),
            ["patch_size"] = Text(c.PatchSize),
            ["in_channels"] = Text(c.InChannels),
            ["num_classes"] = Text(c.NumClasses),
            ["embed_dim"] = Text(c.EmbedDim),
            ["depth"] = Text(c.Depth),
            ["num_heads"] = Text(c.NumHeads),
            ["mlp_ratio"] = c.MlpRatio.ToString("R", CultureInfo.InvariantCulture),
            ["qkv_bias"] = c.QkvBias ? "true" : "false",
            ["class_token"] = c.ClassToken ? "true" : "false",
            ["layer_norm_eps"] = c.LayerNormEps.ToString("R", CultureInfo.InvariantCulture),
        };
        using var scope = NewDisposeScope();
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu(), StringComparer.Ordinal);
        SafeTensors.Save(path, state, metadata);
    }

    /// <summary>Reads a file written by <see cref="Save"/> into a new <see cref="LearngeneVit"/> (in training mode, every parameter trainable).</summary>
    /// <exception cref="LearngeneFileException">The file is not safetensors, lacks or has invalid metadata, or a tensor is missing, unexpected or of the wrong shape; the message names the file and the tensor.</exception>
    public static LearngeneVit Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        Dictionary<string, Tensor> tensors;
        IReadOnlyDictionary<string, string> metadata;
        try
        {
            tensors = SafeTensors.Load(full);
            metadata = SafeTensors.ReadMetadata(full);
        }
        catch (SafeTensorsFormatException e) { throw new LearngeneFileException(full, $"is not a valid safetensors file: {e.Problem}", e); }

        try
        {
            string Meta(string key) => metadata.TryGetValue(key, out var v) ? v
                : throw new LearngeneFileException(full, $"the metadata has no '{key}' entry; this is not a file written by LearngeneFile.Save (format {Format}).");
            if (!metadata.TryGetValue("format", out var format))
                throw new LearngeneFileException(full, $"has no 'format' metadata; expected '{Format}' (a file written by LearngeneFile.Save).");
            if (format != Format) throw new LearngeneFileException(full, $"has format '{format}', expected '{Format}'.");
            int Int(string key) => int.TryParse(Meta(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
                : throw new LearngeneFileException(full, $"metadata '{key}' = '{Meta(key)}' is not a positive integer.");
            bool Bool(string key) => Meta(key) switch
            {
                "true" => true,
                "false" => false,
                var v => throw new LearngeneFileException(full, $"metadata '{key}' = '{v}' is not 'true' or 'false'."),
            };
            T Enum<T>(string key) where T : struct, System.Enum => System.Enum.TryParse<T>(Meta(key), out var v) && System.Enum.IsDefined(v) ? v
                : throw new LearngeneFileException(full, $"metadata '{key}' = '{Meta(key)}' is not one of {string.Join(", ", System.Enum.GetNames<T>())}.");
            double Real(string key) => double.TryParse(Meta(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v) ? v
                : throw new LearngeneFileException(full, $"metadata '{key}' = '{Meta(key)}' is not a positive number.");

            var config = new VitConfig
            {
                ImageSize = Int("image_size"), PatchSize = Int("patch_size"), InChannels = Int("in_channels"), NumClasses = Int("num_classes"),
                EmbedDim = Int("embed_dim"), Depth = Int("depth"), NumHeads = Int("num_heads"), MlpRatio = Real("mlp_ratio"),
                QkvBias = Bool("qkv_bias"), ClassToken = Bool("class_token"), LayerNormEps = (float)Real("layer_norm_eps"),
            };
            int k = Int("learngenes");
            LearngeneVit model;
            try { model = new LearngeneVit(config, k, Enum<LearngeneBasis>("basis"), Enum<LearngeneIndexing>("indexing"), Enum<LearngeneInit>("init")); }
            catch (ArgumentException e) { throw new LearngeneFileException(full, $"its metadata describes an invalid model: {e.Message}", e); }

            // Every tensor checked before anything is copied: presence, shape, nothing extra.
            var expected = model.state_dict();
            var problems = new List<string>();
            foreach (var (name, t) in expected)
            {
                if (!tensors.TryGetValue(name, out var found)) problems.Add($"tensor '{name}' is missing (expected shape {Shape(t)})");
                else if (!found.shape.SequenceEqual(t.shape)) problems.Add($"tensor '{name}' has shape {Shape(found)}, expected {Shape(t)} for the model in the metadata (embed_dim {config.EmbedDim}, mlp_ratio {config.MlpRatio}, {config.NumPatches} patches, {config.NumClasses} classes)");
            }
            foreach (var name in tensors.Keys.Where(n => !expected.ContainsKey(n)))
                problems.Add(name.StartsWith("learngenes.", StringComparison.Ordinal)
                    ? $"tensor '{name}' is unexpected: the metadata says {k} learngene(s) (learngenes.0 … learngenes.{k - 1})"
                    : $"tensor '{name}' is unexpected");
            if (problems.Count > 0) throw new LearngeneFileException(full, string.Join("; ", problems) + ".");
            model.LoadStateDictChecked(tensors, strict: true, source: full);
            return model;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();   // the file's CPU copies; the model holds its own
        }
    }

    private static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Shape(Tensor t) => "(" + string.Join(", ", t.shape) + ")";
}
