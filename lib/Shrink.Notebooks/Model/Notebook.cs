using System.Text.Json.Nodes;

namespace Shrink.Notebooks.Model;

/// <summary>
/// A Jupyter notebook (nbformat 4) as VS Code's Polyglot Notebooks and Jupyter store it. The whole file is kept as an
/// order-preserving JSON tree in which every value read keeps its original text, so a notebook that is read and
/// written unchanged comes out byte for byte as it went in (VS Code's style: one-space indent, sources as arrays of
/// lines, a trailing line break; other indents, CRLF and a BOM are detected and kept). Members this type does not
/// interpret survive untouched.
/// </summary>
public sealed class Notebook
{
    readonly JsonObject _root;
    readonly JsonArray _cellsArray;

    Notebook(JsonObject root, JsonArray cellsArray, List<NotebookCell> cells, string name, JsonTextStyle style)
    {
        _root = root;
        _cellsArray = cellsArray;
        Cells = cells;
        Name = name;
        Style = style;
    }

    /// <summary>The file name (or other source name) used in messages.</summary>
    public string Name { get; set; }

    /// <summary>The JSON layout used when writing.</summary>
    public JsonTextStyle Style { get; set; }

    /// <summary>The cells, in order. Add, remove or reorder freely.</summary>
    public List<NotebookCell> Cells { get; }

    /// <summary>The notebook-level metadata object (created when first asked for).</summary>
    public JsonObject Metadata => _root.GetOrAddObject("metadata");

    /// <summary><c>nbformat_minor</c>. New notebooks are 4.5; files keep the minor version they were saved with.</summary>
    public int FormatMinor
    {
        get => (int)(NotebookJson.AsInteger(_root["nbformat_minor"]) ?? 0);
        set => _root.SetSorted("nbformat_minor", value);
    }

    /// <summary><c>metadata.polyglot_notebook.kernelInfo</c>, or null.</summary>
    public JsonObject? KernelInfo => (_root["metadata"]?["polyglot_notebook"] as JsonObject)?["kernelInfo"] as JsonObject;

    /// <summary>
    /// The notebook's default kernel: <c>polyglot_notebook.kernelInfo.defaultKernelName</c>, else
    /// <c>kernelspec.name</c> without its <c>.net-</c> prefix, else <c>csharp</c>.
    /// </summary>
    public string DefaultKernelName
    {
        get
        {
            if (NotebookJson.AsString(KernelInfo?["defaultKernelName"]) is string d && d.Length > 0)
                return KernelNames.Canonical(d, KernelInfo);
            if (NotebookJson.AsString(_root["metadata"]?["kernelspec"]?["name"]) is string spec && spec.Length > 0)
                return KernelNames.Canonical(spec.StartsWith(".net-", StringComparison.Ordinal) ? spec[5..] : spec, KernelInfo);
            return KernelNames.CSharp;
        }
    }

    /// <summary>
    /// The kernel a cell runs in, resolved as Polyglot does: <c>metadata.polyglot_notebook.kernelName</c>, then
    /// <c>metadata.dotnet_interactive.language</c>, then a <c>#!kernel</c> first line, then the notebook default.
    /// Markdown cells give <c>markdown</c>.
    /// </summary>
    public string KernelNameOf(NotebookCell cell)
    {
        if (cell.IsMarkdown)
            return KernelNames.Markdown;
        var md = cell.MetadataOrNull;
        if (NotebookJson.AsString(md?["polyglot_notebook"]?["kernelName"]) is string k && k.Length > 0)
            return KernelNames.Canonical(k, KernelInfo);
        if (NotebookJson.AsString(md?["dotnet_interactive"]?["language"]) is string l && l.Length > 0)
            return KernelNames.Canonical(l, KernelInfo);
        if (KernelNames.FromFirstLine(cell.Source, KernelInfo) is string first)
            return first;
        return DefaultKernelName;
    }

    /// <summary>Reads a notebook file: <c>.dib</c> by its extension, anything else as .ipynb JSON.</summary>
    /// <exception cref="NotebookFormatException">The file is not a valid notebook (the message says why).</exception>
    public static Notebook Load(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotebookFormatException(path, $"cannot be read: {e.Message}", e);
        }
        if (string.Equals(Path.GetExtension(path), ".dib", StringComparison.OrdinalIgnoreCase))
            return DibFormat.Parse(DibFormat.Decode(bytes, path), path);
        return Parse(bytes, path);
    }

    /// <summary>Parses .ipynb JSON (UTF-8, BOM allowed). <paramref name="name"/> names the source in messages.</summary>
    /// <exception cref="NotebookFormatException">Bad JSON, a member of the wrong type, missing cells, nbformat not 4.</exception>
    public static Notebook Parse(ReadOnlyMemory<byte> utf8, string name)
    {
        var node = NotebookJson.Parse(utf8, name, out var style);
        return FromTree(node, name, style);
    }

    /// <summary>Parses .ipynb JSON text.</summary>
    public static Notebook Parse(string json, string name) => Parse(System.Text.Encoding.UTF8.GetBytes(json), name);

    /// <summary>Parses a Polyglot <c>.dib</c> text.</summary>
    public static Notebook ParseDib(string text, string name) => DibFormat.Parse(text, name);

    /// <summary>
    /// A new, empty C# notebook (nbformat 4.5) with the metadata Polyglot writes: the <c>.net-csharp</c> kernelspec,
    /// <c>language_info</c> and <c>polyglot_notebook.kernelInfo</c> with C# as the default kernel.
    /// </summary>
    public static Notebook CreateCSharp(string name = "untitled.ipynb", JsonObject? kernelInfo = null)
    {
        var root = new JsonObject
        {
            ["cells"] = new JsonArray(),
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject
                {
                    ["display_name"] = ".NET (C#)",
                    ["language"] = "C#",
                    ["name"] = ".net-csharp",
                },
                ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
                ["polyglot_notebook"] = new JsonObject
                {
                    ["kernelInfo"] = kernelInfo ?? new JsonObject
                    {
                        ["defaultKernelName"] = "csharp",
                        ["items"] = new JsonArray(new JsonObject
                        {
                            ["aliases"] = new JsonArray("C#", "c#"),
                            ["languageName"] = "C#",
                            ["name"] = "csharp",
                        }),
                    },
                },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        return FromTree(root, name, JsonTextStyle.VsCode);
    }

    /// <summary>Adds a cell at <paramref name="index"/> (giving it an id when the notebook is nbformat 4.5 or later).</summary>
    public void InsertCell(int index, NotebookCell cell)
    {
        if (FormatMinor >= 5)
            cell.EnsureId();
        Cells.Insert(index, cell);
    }

    /// <summary>Appends a cell (giving it an id when the notebook is nbformat 4.5 or later).</summary>
    public void AddCell(NotebookCell cell) => InsertCell(Cells.Count, cell);

    /// <summary>Raises the notebook to nbformat 4.5 (what papermill and the .NET writer emit): every cell gets an id.</summary>
    public void UpgradeToMinor5()
    {
        if (FormatMinor < 5)
            FormatMinor = 5;
        foreach (var cell in Cells)
            cell.EnsureId();
    }

    /// <summary>The notebook as .ipynb bytes in <see cref="Style"/>.</summary>
    public byte[] ToBytes() => WithCellsAttached(() => NotebookJson.ToBytes(_root, Style));

    /// <summary>The notebook as .ipynb JSON text (no BOM; trailing line break as <see cref="Style"/> says).</summary>
    public string ToJson()
    {
        string text = WithCellsAttached(() => NotebookJson.ToText(_root, Style));
        return Style.TrailingNewLine ? text + Style.NewLine : text;
    }

    /// <summary>A deep copy.</summary>
    public Notebook Clone() => Parse(ToBytes(), Name);

    /// <summary>
    /// Writes the notebook to <paramref name="path"/> through a temporary file in the same folder that is then renamed
    /// over the target, so a reader never sees a half-written notebook.
    /// </summary>
    public void Save(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, ToBytes());
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    T WithCellsAttached<T>(Func<T> write)
    {
        try
        {
            foreach (var cell in Cells)
            {
                if (cell.Json.Parent is not null)
                    throw new InvalidOperationException("a cell object appears twice in the notebook (or belongs to another one); add a new cell instead");
                _cellsArray.Add(cell.Json);
            }
            return write();
        }
        finally
        {
            _cellsArray.Clear();
        }
    }

    internal static Notebook FromTree(JsonNode? node, string name, JsonTextStyle style)
    {
        var v = new Validator(name);
        if (node is not JsonObject root)
            throw v.Error($"the top level must be a JSON object (found {NotebookJson.Describe(node)})");
        if (!root.ContainsKey("nbformat"))
            throw v.Error("\"nbformat\" is missing (not a Jupyter notebook)");
        long? major = NotebookJson.AsInteger(root["nbformat"]);
        if (major is null)
            throw v.Error($"\"nbformat\" must be an integer (found {NotebookJson.Describe(root["nbformat"])})");
        if (major != 4)
            throw v.Error($"nbformat {major} is not supported (only nbformat 4)");
        if (!root.ContainsKey("nbformat_minor"))
            throw v.Error("\"nbformat_minor\" is missing");
        if (NotebookJson.AsInteger(root["nbformat_minor"]) is not long minor || minor < 0 || minor > int.MaxValue)
            throw v.Error($"\"nbformat_minor\" must be a non-negative integer (found {NotebookJson.Describe(root["nbformat_minor"])})");
        if (root.ContainsKey("metadata"))
            v.NotebookMetadata(root["metadata"]);
        if (!root.ContainsKey("cells"))
            throw v.Error("\"cells\" is missing");
        if (root["cells"] is not JsonArray cellsArray)
            throw v.Error($"\"cells\" must be an array (found {NotebookJson.Describe(root["cells"])})");
        var cells = new List<NotebookCell>(cellsArray.Count);
        for (int i = 0; i < cellsArray.Count; i++)
        {
            v.Cell(cellsArray[i], i);
            cells.Add(new NotebookCell((JsonObject)cellsArray[i]!));
        }
        cellsArray.Clear();
        return new Notebook(root, cellsArray, cells, name, style);
    }

    /// <summary>Checks the parts of the tree this library interprets, naming the first problem found.</summary>
    sealed class Validator(string file)
    {
        public NotebookFormatException Error(string problem) => new(file, problem);

        public void NotebookMetadata(JsonNode? md)
        {
            if (md is not JsonObject obj)
                throw Error($"\"metadata\" must be an object (found {NotebookJson.Describe(md)})");
            if (obj.ContainsKey("kernelspec"))
            {
                if (obj["kernelspec"] is not JsonObject spec)
                    throw Error($"metadata.kernelspec must be an object (found {NotebookJson.Describe(obj["kernelspec"])})");
                OptionalString(spec, "name", "metadata.kernelspec");
            }
            if (obj.ContainsKey("polyglot_notebook"))
            {
                if (obj["polyglot_notebook"] is not JsonObject poly)
                    throw Error($"metadata.polyglot_notebook must be an object (found {NotebookJson.Describe(obj["polyglot_notebook"])})");
                if (poly.ContainsKey("kernelInfo"))
                {
                    if (poly["kernelInfo"] is not JsonObject info)
                        throw Error($"metadata.polyglot_notebook.kernelInfo must be an object (found {NotebookJson.Describe(poly["kernelInfo"])})");
                    OptionalString(info, "defaultKernelName", "metadata.polyglot_notebook.kernelInfo");
                    if (info.ContainsKey("items") && info["items"] is not JsonArray)
                        throw Error($"metadata.polyglot_notebook.kernelInfo.items must be an array (found {NotebookJson.Describe(info["items"])})");
                }
            }
            if (obj.ContainsKey("papermill") && obj["papermill"] is not JsonObject)
                throw Error($"metadata.papermill must be an object (found {NotebookJson.Describe(obj["papermill"])})");
        }

        public void Cell(JsonNode? node, int index)
        {
            string at = $"cells[{index}]";
            if (node is not JsonObject cell)
                throw Error($"{at} must be an object (found {NotebookJson.Describe(node)})");
            if (!cell.ContainsKey("cell_type"))
                throw Error($"{at} has no \"cell_type\"");
            string? type = NotebookJson.AsString(cell["cell_type"]);
            if (type is not ("code" or "markdown" or "raw"))
                throw Error(type is null
                    ? $"{at}.cell_type must be a string (found {NotebookJson.Describe(cell["cell_type"])})"
                    : $"{at}.cell_type \"{type}\" is not one of code, markdown, raw");
            if (!cell.ContainsKey("source"))
                throw Error($"{at} ({type}) has no \"source\"");
            Multiline(cell["source"], $"{at}.source");
            OptionalString(cell, "id", at);
            if (cell.ContainsKey("metadata"))
                CellMetadata(cell["metadata"], $"{at}.metadata");
            if (type == "code")
            {
                if (cell.ContainsKey("execution_count") && cell["execution_count"] is not null && NotebookJson.AsInteger(cell["execution_count"]) is null)
                    throw Error($"{at}.execution_count must be an integer or null (found {NotebookJson.Describe(cell["execution_count"])})");
                if (cell.ContainsKey("outputs"))
                {
                    if (cell["outputs"] is not JsonArray outputs)
                        throw Error($"{at}.outputs must be an array (found {NotebookJson.Describe(cell["outputs"])})");
                    for (int j = 0; j < outputs.Count; j++)
                        Output(outputs[j], $"{at}.outputs[{j}]");
                }
            }
        }

        void CellMetadata(JsonNode? md, string at)
        {
            if (md is not JsonObject obj)
                throw Error($"{at} must be an object (found {NotebookJson.Describe(md)})");
            if (obj.ContainsKey("tags"))
            {
                if (obj["tags"] is not JsonArray tags)
                    throw Error($"{at}.tags must be an array of strings (found {NotebookJson.Describe(obj["tags"])})");
                for (int i = 0; i < tags.Count; i++)
                    if (!NotebookJson.IsString(tags[i]))
                        throw Error($"{at}.tags[{i}] must be a string (found {NotebookJson.Describe(tags[i])})");
            }
            if (obj.ContainsKey("polyglot_notebook"))
            {
                if (obj["polyglot_notebook"] is not JsonObject poly)
                    throw Error($"{at}.polyglot_notebook must be an object (found {NotebookJson.Describe(obj["polyglot_notebook"])})");
                OptionalString(poly, "kernelName", $"{at}.polyglot_notebook");
            }
            if (obj.ContainsKey("dotnet_interactive"))
            {
                if (obj["dotnet_interactive"] is not JsonObject di)
                    throw Error($"{at}.dotnet_interactive must be an object (found {NotebookJson.Describe(obj["dotnet_interactive"])})");
                OptionalString(di, "language", $"{at}.dotnet_interactive");
            }
        }

        void Output(JsonNode? node, string at)
        {
            if (node is not JsonObject o)
                throw Error($"{at} must be an object (found {NotebookJson.Describe(node)})");
            string? type = NotebookJson.AsString(o["output_type"]);
            switch (type)
            {
                case "stream":
                    if (NotebookJson.AsString(o["name"]) is null)
                        throw Error($"{at} (stream) needs a string \"name\" (found {NotebookJson.Describe(o["name"])})");
                    Multiline(o["text"], $"{at}.text");
                    break;
                case "display_data":
                case "execute_result":
                    if (o["data"] is not JsonObject data)
                        throw Error($"{at} ({type}) needs an object \"data\" (found {NotebookJson.Describe(o["data"])})");
                    foreach (var (mime, value) in data)
                    {
                        bool json = mime == "application/json" || mime.EndsWith("+json", StringComparison.Ordinal);
                        if (!json)
                            Multiline(value, $"{at}.data[\"{mime}\"]");
                    }
                    if (o.ContainsKey("metadata") && o["metadata"] is not JsonObject)
                        throw Error($"{at}.metadata must be an object (found {NotebookJson.Describe(o["metadata"])})");
                    break;
                case "error":
                    if (NotebookJson.AsString(o["ename"]) is null)
                        throw Error($"{at} (error) needs a string \"ename\" (found {NotebookJson.Describe(o["ename"])})");
                    if (NotebookJson.AsString(o["evalue"]) is null)
                        throw Error($"{at} (error) needs a string \"evalue\" (found {NotebookJson.Describe(o["evalue"])})");
                    if (o["traceback"] is not JsonArray tb || tb.Any(t => !NotebookJson.IsString(t)))
                        throw Error($"{at} (error) needs \"traceback\" as an array of strings");
                    break;
                case null:
                    throw Error($"{at} needs a string \"output_type\" (found {NotebookJson.Describe(o["output_type"])})");
                default:
                    throw Error($"{at}.output_type \"{type}\" is not one of stream, display_data, execute_result, error");
            }
        }

        void Multiline(JsonNode? node, string at)
        {
            if (NotebookJson.AsMultilineText(node) is null)
                throw Error($"{at} must be a string or an array of strings (found {NotebookJson.Describe(node)})");
        }

        void OptionalString(JsonObject obj, string key, string at)
        {
            if (obj.ContainsKey(key) && !NotebookJson.IsString(obj[key]))
                throw Error($"{at}.{key} must be a string (found {NotebookJson.Describe(obj[key])})");
        }
    }
}
