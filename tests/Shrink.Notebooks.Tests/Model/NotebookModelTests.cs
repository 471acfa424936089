using System.Text;
using System.Text.Json.Nodes;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Tests.Model;

public class NotebookModelTests
{
    // Fixtures/vscode-polyglot.ipynb was written by make-vscode-fixture.js exactly as VS Code's ipynb serializer writes:
    // keys sorted, JSON.stringify(nb, undefined, ' ') + '\n' (non-ASCII raw, \u001b escapes, raw U+2028, outputs).
    [Fact]
    public void VsCodeNotebookRoundTripsByteForByte()
    {
        byte[] original = File.ReadAllBytes(TestPaths.Fixture("vscode-polyglot.ipynb"));
        var nb = Notebook.Parse(original, "vscode-polyglot.ipynb");
        Assert.Equal(original, nb.ToBytes());
        Assert.Equal(original, nb.Clone().ToBytes());
        Assert.Equal(Encoding.UTF8.GetString(original), nb.ToJson());
    }

    // Fixtures/vscode-polyglot-edited.ipynb is the same notebook after the edits below, serialised by JavaScript
    // (make-vscode-fixture-edited.js): new values must be written exactly as VS Code would write them.
    [Fact]
    public void EditsAreWrittenAsVsCodeWritesThem()
    {
        var nb = Notebook.Load(TestPaths.Fixture("vscode-polyglot.ipynb"));
        nb.Cells[5].Source = "edited\ttext \u0001 é 🙂 \"q\" \\ </script>\nsecond line\n";
        nb.Cells[4].ExecutionCount = 7;
        nb.Cells[4].AddOutput(NotebookOutput.Stream("stdout", "hello\nlone \ud800 surrogate"));
        nb.Metadata.GetOrAddObject("papermill")["parameters"] = new JsonObject
        {
            ["quick"] = true, ["lr"] = 0.001, ["n"] = 3000000000L, ["s"] = "x",
        };
        Assert.Equal(File.ReadAllBytes(TestPaths.Fixture("vscode-polyglot-edited.ipynb")), nb.ToBytes());
    }

    [Fact]
    public void ReadsCellsOutputsAndPolyglotMetadata()
    {
        var nb = Notebook.Load(TestPaths.Fixture("vscode-polyglot.ipynb"));
        Assert.Equal(6, nb.Cells.Count);
        Assert.Equal(4, nb.FormatMinor);
        Assert.Equal("csharp", nb.DefaultKernelName);
        Assert.True(nb.Cells[0].IsMarkdown);
        Assert.Equal("# A heading — with é and 🙂\n\nThis is a Markdown cell with <b>html</b> & an [link](https://example.com).", nb.Cells[0].Source);
        Assert.Equal(4, nb.Cells[1].ExecutionCount);
        Assert.Equal("A return value", nb.Cells[1].Outputs[0].GetData("text/plain"));
        Assert.Equal("output\r\ntab\there\r\n", nb.Cells[2].Outputs[0].Text);
        Assert.Equal(["parameters"], nb.Cells[3].Tags);
        Assert.Equal("error", nb.Cells[3].Outputs[1].OutputType);
        Assert.Equal(3, nb.Cells[3].Outputs[1].Traceback.Count);
        Assert.Equal("csharp", nb.KernelNameOf(nb.Cells[1]));
        Assert.Equal("fsharp", nb.KernelNameOf(nb.Cells[4]));
        Assert.Null(nb.Cells[4].ExecutionCount);
        Assert.Equal("raw", nb.Cells[5].CellType);
    }

    [Fact]
    public void KernelResolutionFollowsPolyglotOrder()
    {
        var nb = Notebook.Parse("""
            {"cells": [
              {"cell_type": "code", "metadata": {"polyglot_notebook": {"kernelName": "pwsh"}, "dotnet_interactive": {"language": "fsharp"}}, "source": "#!javascript\nx", "outputs": []},
              {"cell_type": "code", "metadata": {"dotnet_interactive": {"language": "F#"}}, "source": "x", "outputs": []},
              {"cell_type": "code", "metadata": {}, "source": ["\n", "#!c#\n", "x"], "outputs": []},
              {"cell_type": "code", "metadata": {}, "source": "#!mykernel\nx", "outputs": []},
              {"cell_type": "code", "metadata": {}, "source": "x", "outputs": []}
            ],
             "metadata": {"kernelspec": {"name": ".net-csharp"},
                          "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "fsharp", "items": [{"name": "mykernel", "aliases": []}]}}},
             "nbformat": 4, "nbformat_minor": 5}
            """, "order.ipynb");
        Assert.Equal(["pwsh", "fsharp", "csharp", "mykernel", "fsharp"], nb.Cells.Select(nb.KernelNameOf));

        var bySpec = Notebook.Parse("""{"cells": [{"cell_type": "code", "source": "x"}], "metadata": {"kernelspec": {"name": ".net-fsharp"}}, "nbformat": 4, "nbformat_minor": 2}""", "spec.ipynb");
        Assert.Equal("fsharp", bySpec.KernelNameOf(bySpec.Cells[0]));
        var bare = Notebook.Parse("""{"cells": [{"cell_type": "code", "source": "x"}], "nbformat": 4, "nbformat_minor": 2}""", "bare.ipynb");
        Assert.Equal("csharp", bare.KernelNameOf(bare.Cells[0]));
    }

    [Fact]
    public void KeepsIndentLineEndingsAndBomOfOtherWriters()
    {
        string twoSpaceCrlf = "{\r\n  \"cells\": [],\r\n  \"metadata\": {\r\n    \"x\": [\r\n      1,\r\n      \"\\u00e9\"\r\n    ]\r\n  },\r\n  \"nbformat\": 4,\r\n  \"nbformat_minor\": 2\r\n}";
        byte[] bytes = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(twoSpaceCrlf)];
        Assert.Equal(bytes, Notebook.Parse(bytes, "x.ipynb").ToBytes());

        string compact = """{"nbformat":4,"nbformat_minor":0,"cells":[{"cell_type":"markdown","metadata":{},"source":"# x"}],"metadata":{}}""";
        Assert.Equal(compact, Notebook.Parse(compact, "c.ipynb").ToJson());
    }

    [Fact]
    public void NewNotebooksArePolyglotCSharpFormat45()
    {
        var nb = NotebookBuilder.Create("md:# Hi", "var x = 1;\nx");
        var json = JsonNode.Parse(nb.ToJson())!.AsObject();
        Assert.Equal(4, (int)json["nbformat"]!);
        Assert.Equal(5, (int)json["nbformat_minor"]!);
        Assert.Equal(".net-csharp", (string)json["metadata"]!["kernelspec"]!["name"]!);
        Assert.Equal("csharp", (string)json["metadata"]!["polyglot_notebook"]!["kernelInfo"]!["defaultKernelName"]!);
        var code = json["cells"]![1]!.AsObject();
        Assert.Equal(["cell_type", "execution_count", "id", "metadata", "outputs", "source"], code.Select(p => p.Key));
        Assert.Equal(8, ((string)code["id"]!).Length);
        Assert.Equal(["var x = 1;\n", "x"], code["source"]!.AsArray().Select(s => (string)s!));
        Assert.EndsWith("}\n", nb.ToJson());
    }

    [Fact]
    public void UnknownMembersSurviveEdits()
    {
        var nb = Notebook.Load(TestPaths.Fixture("vscode-polyglot.ipynb"));
        nb.Cells[3].Source = "var quick = true;";
        nb.Cells.RemoveAt(1);
        var reread = Notebook.Parse(nb.ToBytes(), "edited.ipynb");
        Assert.Equal("iVBORw0KGgo=", (string)reread.Cells[0].Json["attachments"]!["image.png"]!["image/png"]!);
        Assert.Equal("abc123", (string)reread.Metadata["vscode"]!["interpreter"]!["hash"]!);
        Assert.Equal(2.5, (double)reread.Cells[2].Metadata["custom"]!["bar"]![1]!);
        Assert.Equal("var quick = true;", reread.Cells[2].Source);
        Assert.Equal(5, reread.Cells.Count);
    }

    [Theory]
    [InlineData("{\"cells\": [", "not valid JSON")]
    [InlineData("[1, 2]", "top level must be a JSON object")]
    [InlineData("{\"nbformat\": 3, \"nbformat_minor\": 0, \"cells\": []}", "nbformat 3 is not supported")]
    [InlineData("{\"nbformat\": \"4\", \"nbformat_minor\": 0, \"cells\": []}", "\"nbformat\" must be an integer")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0}", "\"cells\" is missing")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": {}}", "\"cells\" must be an array")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [{\"cell_type\": \"code\", \"source\": 5}]}", "cells[0].source must be a string or an array of strings")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [{\"cell_type\": \"heading\", \"source\": \"\"}]}", "cells[0].cell_type \"heading\"")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [{\"cell_type\": \"code\", \"source\": \"\", \"outputs\": [{\"output_type\": \"stream\", \"name\": \"stdout\", \"text\": 1}]}]}", "cells[0].outputs[0].text")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"tags\": [1]}}]}", "cells[0].metadata.tags[0] must be a string")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [], \"cells\": []}", "has the member \"cells\" twice")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [], \"metadata\": {\"kernelspec\": {\"name\": 1}}}", "metadata.kernelspec.name must be a string")]
    public void MalformedNotebooksNameTheFileAndTheProblem(string json, string problem)
    {
        var e = Assert.Throws<NotebookFormatException>(() => Notebook.Parse(json, "broken.ipynb"));
        Assert.StartsWith("broken.ipynb: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void MissingFileIsAFormatErrorNamingIt()
    {
        string path = Path.Combine(TestPaths.NewTempFolder(), "absent.ipynb");
        var e = Assert.Throws<NotebookFormatException>(() => Notebook.Load(path));
        Assert.Contains(path, e.Message);
    }

    // Random byte flips, truncations, insertions and deletions of a valid notebook: each mutant either loads (and then
    // writes and re-reads) or raises NotebookFormatException, never any other exception.
    [Fact]
    public void FuzzedNotebooksLoadOrThrowNotebookFormatException()
    {
        byte[] original = File.ReadAllBytes(TestPaths.Fixture("vscode-polyglot.ipynb"));
        byte[] interesting = "{}[]\":,0123456789-.eE tfnul\\\n\u00ff"u8.ToArray();
        var random = new Random(20261123);
        int loaded = 0, rejected = 0;
        for (int trial = 0; trial < 1500; trial++)
        {
            var bytes = new List<byte>(original);
            int edits = 1 + random.Next(4);
            for (int e = 0; e < edits && bytes.Count > 0; e++)
            {
                int at = random.Next(bytes.Count);
                switch (random.Next(5))
                {
                    case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                    case 1: bytes.RemoveRange(at, bytes.Count - at); break;
                    case 2: bytes.Insert(at, interesting[random.Next(interesting.Length)]); break;
                    case 3: bytes.RemoveRange(at, Math.Min(1 + random.Next(16), bytes.Count - at)); break;
                    default: bytes[at] = interesting[random.Next(interesting.Length)]; break;
                }
            }
            byte[] mutant = [.. bytes];
            try
            {
                var nb = Notebook.Parse(mutant, $"mutant{trial}.ipynb");
                foreach (var cell in nb.Cells)
                {
                    _ = nb.KernelNameOf(cell);
                    _ = cell.Source;
                    foreach (var output in cell.Outputs)
                        _ = (output.Text, output.Data, output.Traceback);
                }
                var again = Notebook.Parse(nb.ToBytes(), "rewritten.ipynb");
                Assert.Equal(nb.ToBytes(), again.ToBytes());
                loaded++;
            }
            catch (NotebookFormatException e)
            {
                Assert.Contains($"mutant{trial}.ipynb", e.Message);
                rejected++;
            }
        }
        Assert.True(loaded > 50 && rejected > 50, $"loaded {loaded}, rejected {rejected}: the mutations should exercise both paths");
    }
}
