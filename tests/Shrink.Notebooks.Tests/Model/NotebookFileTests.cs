using System.Text;
using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Tests.Model;

public class NotebookFileTests
{
    // Fixtures/vscode-polyglot.ipynb was written as VS Code's ipynb serializer writes (make-vscode-fixture.js); its last
    // cell is raw, which Documents cannot represent, so the reading tests use the notebook without it.
    static string FixtureWithoutRawCell()
    {
        var json = JsonNode.Parse(File.ReadAllText(TestPaths.Fixture("vscode-polyglot.ipynb")))!;
        json["cells"]!.AsArray().RemoveAt(5);
        return json.ToJsonString();
    }

    [Fact]
    public void ReadsCellsOutputsTagsAndPolyglotMetadata()
    {
        var nb = NotebookFile.Parse(FixtureWithoutRawCell(), "vscode-polyglot.ipynb");
        Assert.Equal(5, nb.Elements.Count);
        Assert.Equal("csharp", nb.DefaultKernelName());
        Assert.True(nb.Elements[0].IsMarkdown());
        Assert.Equal("# A heading — with é and 🙂\n\nThis is a Markdown cell with <b>html</b> & an [link](https://example.com).", nb.Elements[0].Contents);
        Assert.Equal(4, nb.Elements[1].ExecutionOrder);
        Assert.Equal("A return value", nb.Elements[1].Outputs[0].Get("text/plain"));
        Assert.Equal("output\r\ntab\there\r\n", Assert.IsType<TextElement>(nb.Elements[2].Outputs[0]).Text);
        Assert.Equal(["parameters"], nb.Elements[3].Tags());
        var error = Assert.IsType<ErrorElement>(nb.Elements[3].Outputs[1]);
        Assert.Equal(3, error.StackTrace.Length);
        Assert.Equal(["markdown", "csharp", "csharp", "csharp", "fsharp"], nb.Elements.Select(c => c.KernelNameIn(nb)));
        Assert.Equal(0, nb.Elements[4].ExecutionOrder);
    }

    [Fact]
    public void RawCellsAreRefusedWithAReason()
    {
        var e = Assert.Throws<NotebookFormatException>(() => NotebookFile.Load(TestPaths.Fixture("vscode-polyglot.ipynb")));
        Assert.Contains("vscode-polyglot.ipynb: cells[5] is a raw cell", e.Message);
    }

    [Fact]
    public void KernelsComeFromCellMetadataElseTheNotebookDefault()
    {
        var nb = NotebookFile.Parse("""
            {"cells": [
              {"cell_type": "code", "metadata": {"polyglot_notebook": {"kernelName": "pwsh"}, "dotnet_interactive": {"language": "fsharp"}}, "source": "x", "outputs": []},
              {"cell_type": "code", "metadata": {"dotnet_interactive": {"language": "C#"}}, "source": "x", "outputs": []},
              {"cell_type": "code", "metadata": {}, "source": "x", "outputs": []}
            ],
             "metadata": {"kernelspec": {"name": ".net-csharp"}, "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "fsharp"}}},
             "nbformat": 4, "nbformat_minor": 5}
            """, "order.ipynb");
        Assert.Equal(["pwsh", "csharp", "fsharp"], nb.Elements.Select(c => c.KernelNameIn(nb)));

        var bySpec = NotebookFile.Parse("""{"cells": [{"cell_type": "code", "source": "x"}], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 2}""", "spec.ipynb");
        Assert.Equal("python3", bySpec.Elements[0].KernelNameIn(bySpec));
        var bare = NotebookFile.Parse("""{"cells": [{"cell_type": "code", "source": "x"}], "nbformat": 4, "nbformat_minor": 2}""", "bare.ipynb");
        Assert.Equal("csharp", bare.Elements[0].KernelNameIn(bare));
    }

    [Fact]
    public void WrittenNotebooksAreNbformat45AndReadBackTheSame()
    {
        var nb = NotebookBuilder.Create("md:# Hi", "params:var x = 1;", "claims:x");
        nb.Metadata["papermill"] = new Dictionary<string, object> { ["parameters"] = new Dictionary<string, object> { ["quick"] = true } };
        string text = NotebookFile.ToIpynb(nb);
        var json = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(4, (int)json["nbformat"]!);
        Assert.Equal(5, (int)json["nbformat_minor"]!);
        Assert.Equal(".net-csharp", (string)json["metadata"]!["kernelspec"]!["name"]!);
        Assert.All(json["cells"]!.AsArray(), c => Assert.Equal(8, ((string)c!["id"]!).Length));
        Assert.Equal(["var x = 1;"], json["cells"]![1]!["source"]!.AsArray().Select(s => (string)s!));

        var back = NotebookFile.Parse(text, "back.ipynb");
        Assert.Equal(nb.Elements.Select(c => (c.Contents, c.KernelNameIn(nb), string.Join(",", c.Tags()), c.Id)),
            back.Elements.Select(c => (c.Contents, c.KernelNameIn(back), string.Join(",", c.Tags()), c.Id)));
        Assert.True((bool)((IDictionary<string, object>)((IDictionary<string, object>)back.Metadata["papermill"])["parameters"])["quick"]);
    }

    [Fact]
    public void SavingWritesThroughATemporaryFile()
    {
        string folder = TestPaths.NewTempFolder();
        string path = Path.Combine(folder, "n.ipynb");
        NotebookFile.Save(NotebookBuilder.Create("1"), path);
        Assert.Equal("1", NotebookFile.Load(path).Elements[0].Contents);
        Assert.Equal(["n.ipynb"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void DibFilesSplitAtKernelSeparators()
    {
        var nb = NotebookFile.Load(TestPaths.Fixture("sample.dib"));
        Assert.Equal(["markdown", "csharp", "csharp", "kql-db", "fsharp"], nb.Elements.Select(c => c.KernelNameIn(nb)));
        Assert.Equal("# Title\n\nSome text.", nb.Elements[0].Contents.Trim());
        Assert.Equal("var x = 1;\n#!who\nx", nb.Elements[1].Contents.Trim().Replace("\r\n", "\n"));   // a magic command stays in its cell
        Assert.Equal("Console.WriteLine(x);", nb.Elements[2].Contents.Trim());
    }

    [Theory]
    [InlineData("{\"cells\": [", "not valid JSON at line 1")]
    [InlineData("# a markdown file\n", "not valid JSON at line 1")]
    [InlineData("[1, 2]", "top level must be a JSON object")]
    [InlineData("{\"nbformat\": 3, \"nbformat_minor\": 0, \"cells\": []}", "nbformat 3 is not supported")]
    [InlineData("{\"nbformat\": \"4\", \"nbformat_minor\": 0, \"cells\": []}", "\"nbformat\" must be an integer")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0}", "\"cells\" is missing")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": {}}", "\"cells\" must be an array")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [{\"cell_type\": \"code\", \"source\": 5}]}", "cells[0].source must be a string or an array of strings")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [{\"cell_type\": \"heading\", \"source\": \"\"}]}", "cells[0].cell_type \"heading\"")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [{\"cell_type\": \"code\", \"source\": \"\", \"outputs\": [{\"output_type\": \"stream\", \"name\": \"stdout\", \"text\": 1}]}]}", "cells[0].outputs[0].text")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [{\"cell_type\": \"code\", \"source\": \"\", \"metadata\": {\"tags\": [1]}}]}", "cells[0].metadata.tags[0] must be a string")]
    [InlineData("{\"nbformat\": 4, \"nbformat_minor\": 0, \"cells\": [], \"metadata\": {\"kernelspec\": {\"name\": 1}}}", "metadata.kernelspec.name must be a string")]
    public void MalformedNotebooksNameTheFileAndTheProblem(string json, string problem)
    {
        var e = Assert.Throws<NotebookFormatException>(() => NotebookFile.Parse(json, "broken.ipynb"));
        Assert.StartsWith("broken.ipynb: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void MissingFileIsAFormatErrorNamingIt()
    {
        string path = Path.Combine(TestPaths.NewTempFolder(), "absent.ipynb");
        var e = Assert.Throws<NotebookFormatException>(() => NotebookFile.Load(path));
        Assert.Contains(path, e.Message);
    }

    // Random byte flips, truncations, insertions and deletions of a valid notebook: each mutant either loads (and then
    // writes and re-reads) or raises NotebookFormatException, never any other exception.
    [Fact]
    public void FuzzedNotebooksLoadOrThrowNotebookFormatException()
    {
        byte[] original = Encoding.UTF8.GetBytes(FixtureWithoutRawCell());
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
                var nb = NotebookFile.Parse(mutant, $"mutant{trial}.ipynb");
                foreach (var cell in nb.Elements)
                {
                    _ = cell.KernelNameIn(nb);
                    _ = cell.Tags();
                    foreach (var output in cell.Outputs)
                        _ = output.Bundle();
                }
                string written = NotebookFile.ToIpynb(nb);
                Assert.Equal(written, NotebookFile.ToIpynb(NotebookFile.Parse(written, "rewritten.ipynb")));
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
