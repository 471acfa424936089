using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shrink.Experiments;

/// <summary>
/// Saves and loads <see cref="Hparams"/> records as indented JSON (System.Text.Json; property names as in C#, enums by
/// name, steps as strings, doubles round-trip), the <c>hparams.json</c> of a run folder.
/// </summary>
public static class HparamsFile
{
    /// <summary>The serializer options used for hparams files.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The JSON text of <paramref name="hparams"/> (all properties, defaults included, of its runtime type).</summary>
    public static string ToJson(Hparams hparams)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        return JsonSerializer.Serialize(hparams, hparams.GetType(), Options);
    }

    /// <summary>Reads a record of type <paramref name="type"/> from JSON; properties missing from the JSON keep their defaults.</summary>
    /// <exception cref="JsonException">The text is not valid JSON for that type.</exception>
    public static Hparams FromJson(string json, Type type)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (!typeof(Hparams).IsAssignableFrom(type)) throw new ArgumentException($"HparamsFile: {type.Name} is not an Hparams record.", nameof(type));
        return (Hparams)(JsonSerializer.Deserialize(json, type, Options) ?? throw new JsonException("the JSON is null"));
    }

    /// <summary>Writes <paramref name="hparams"/> to <paramref name="path"/> atomically (temporary file + rename).</summary>
    public static void Save(string path, Hparams hparams) => AtomicFile.WriteAllText(path, ToJson(hparams) + "\n");

    /// <summary>Loads a <typeparamref name="T"/> from <paramref name="path"/>.</summary>
    /// <exception cref="RunFileException">The file is not valid JSON for <typeparamref name="T"/> (the message names the file).</exception>
    public static T Load<T>(string path) where T : Hparams => (T)Load(path, typeof(T));

    /// <summary>Loads a record of type <paramref name="type"/> from <paramref name="path"/>.</summary>
    /// <exception cref="RunFileException">The file is not valid JSON for that type (the message names the file).</exception>
    public static Hparams Load(string path, Type type)
    {
        var json = File.ReadAllText(path);
        try { return FromJson(json, type); }
        catch (JsonException e)
        {
            throw new RunFileException(path, $"is not a valid {type.Name} ({e.Message}). Delete the run folder to start over.", e);
        }
    }
}
