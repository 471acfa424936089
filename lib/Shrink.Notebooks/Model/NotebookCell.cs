using System.Text.Json.Nodes;

namespace Shrink.Notebooks.Model;

/// <summary>
/// One cell of a notebook: <c>code</c>, <c>markdown</c> or <c>raw</c>. A view over the cell's JSON object; what the
/// properties do not interpret (attachments, unknown metadata, anything else) is kept as read.
/// </summary>
public sealed class NotebookCell
{
    internal NotebookCell(JsonObject json) => Json = json;

    /// <summary>The cell's JSON object, members in file order.</summary>
    public JsonObject Json { get; }

    /// <summary><c>code</c>, <c>markdown</c> or <c>raw</c>.</summary>
    public string CellType => NotebookJson.AsString(Json["cell_type"]) ?? "";

    /// <summary>Whether this is a code cell.</summary>
    public bool IsCode => CellType == "code";

    /// <summary>Whether this is a markdown cell.</summary>
    public bool IsMarkdown => CellType == "markdown";

    /// <summary>The cell id (nbformat 4.5+), or null.</summary>
    public string? Id => NotebookJson.AsString(Json["id"]);

    /// <summary>The source text. Setting it stores an array of lines, as VS Code and Jupyter do.</summary>
    public string Source
    {
        get => NotebookJson.AsMultilineText(Json["source"]) ?? "";
        set => Json.SetSorted("source", NotebookJson.ToLineArray(value));
    }

    /// <summary>The cell's metadata object (created when first asked for).</summary>
    public JsonObject Metadata => Json.GetOrAddObject("metadata");

    /// <summary>The cell's metadata object if it has one, without creating it.</summary>
    public JsonObject? MetadataOrNull => Json["metadata"] as JsonObject;

    /// <summary>The cell's tags (<c>metadata.tags</c>).</summary>
    public IReadOnlyList<string> Tags =>
        MetadataOrNull?["tags"] is JsonArray tags
            ? tags.Select(NotebookJson.AsString).Where(t => t is not null).Select(t => t!).ToList()
            : [];

    /// <summary>Whether <c>metadata.tags</c> contains <paramref name="tag"/>.</summary>
    public bool HasTag(string tag) => Tags.Contains(tag);

    /// <summary>The execution count of a code cell; null when it has not run.</summary>
    public int? ExecutionCount
    {
        get => NotebookJson.AsInteger(Json["execution_count"]) is long l && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;
        set => Json.SetSorted("execution_count", value is int v ? JsonValue.Create(v) : null);
    }

    /// <summary>The outputs of a code cell (empty for other cells).</summary>
    public IReadOnlyList<NotebookOutput> Outputs =>
        Json["outputs"] is JsonArray arr ? arr.OfType<JsonObject>().Select(o => new NotebookOutput(o)).ToList() : [];

    /// <summary>Removes every output.</summary>
    public void ClearOutputs() => Json.SetSorted("outputs", new JsonArray());

    /// <summary>Appends an output (a code cell only).</summary>
    public void AddOutput(NotebookOutput output)
    {
        if (!IsCode)
            throw new InvalidOperationException($"only code cells have outputs (this is a {CellType} cell)");
        if (Json["outputs"] is not JsonArray arr)
        {
            arr = new JsonArray();
            Json.SetSorted("outputs", arr);
        }
        arr.Add(output.Json);
    }

    /// <summary>A new code cell in VS Code's member order (no id; <see cref="Notebook"/> adds one where nbformat 4.5 wants it).</summary>
    public static NotebookCell Code(string source, params string[] tags)
    {
        var metadata = new JsonObject();
        if (tags.Length > 0)
            metadata["tags"] = new JsonArray(tags.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray());
        return new NotebookCell(new JsonObject
        {
            ["cell_type"] = "code",
            ["execution_count"] = null,
            ["metadata"] = metadata,
            ["outputs"] = new JsonArray(),
            ["source"] = NotebookJson.ToLineArray(source),
        });
    }

    /// <summary>A new markdown cell.</summary>
    public static NotebookCell Markdown(string source) => new(new JsonObject
    {
        ["cell_type"] = "markdown",
        ["metadata"] = new JsonObject(),
        ["source"] = NotebookJson.ToLineArray(source),
    });

    internal void EnsureId()
    {
        if (Id is null)
            Json.SetSorted("id", Guid.NewGuid().ToString("N")[..8]);
    }
}
