using System.Text.Json.Nodes;

namespace Shrink.Notebooks.Model;

/// <summary>Edits that keep a JSON object's members in the alphabetical order VS Code and Jupyter write.</summary>
internal static class JsonObjectExtensions
{
    /// <summary>Sets <paramref name="key"/>; a new member goes before the first existing member that sorts after it.</summary>
    public static void SetSorted(this JsonObject obj, string key, JsonNode? value)
    {
        if (obj.ContainsKey(key))
        {
            obj[key] = value;
            return;
        }
        int index = 0;
        foreach (var (k, _) in obj)
        {
            if (string.CompareOrdinal(k, key) > 0)
                break;
            index++;
        }
        obj.Insert(index, key, value);
    }

    /// <summary>The object under <paramref name="key"/>, created (in sorted position) when missing.</summary>
    public static JsonObject GetOrAddObject(this JsonObject obj, string key)
    {
        if (obj[key] is JsonObject existing)
            return existing;
        var created = new JsonObject();
        obj.SetSorted(key, created);
        return created;
    }
}
