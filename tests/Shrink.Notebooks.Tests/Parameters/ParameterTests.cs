using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Execution;
using Shrink.Notebooks.Model;
using Shrink.Notebooks.Parameters;

namespace Shrink.Notebooks.Tests.Parameters;

public class ParameterTests
{
    // Expected literals are what papermill's CSharpTranslator writes for the value papermill's CLI resolves
    // (_resolve_type: True/False, int(), float(), else str), except where marked: there papermill's text is not C#.
    [Theory]
    [InlineData("true", "true")]                          // lower case: C# spelling (papermill: the string "true")
    [InlineData("True", "true")]
    [InlineData("False", "false")]
    [InlineData("3", "3")]
    [InlineData(" 42 ", "42")]
    [InlineData("-7", "-7")]
    [InlineData("+007", "7")]
    [InlineData("1_000", "1000")]
    [InlineData("2147483647", "2147483647")]
    [InlineData("2147483648", "2147483648L")]
    [InlineData("-2147483649", "-2147483649L")]
    [InlineData("0.001", "0.001")]
    [InlineData("1e5", "100000.0")]
    [InlineData("1E-5", "1e-05")]
    [InlineData("1e16", "1e+16")]
    [InlineData("1e15", "1000000000000000.0")]
    [InlineData(".5", "0.5")]
    [InlineData("3.", "3.0")]
    [InlineData("-2.50", "-2.5")]
    [InlineData("nan", "double.NaN")]                      // papermill: nan
    [InlineData("-Infinity", "double.NegativeInfinity")]   // papermill: -inf
    [InlineData("vit_nano_patch7_28", "\"vit_nano_patch7_28\"")]
    [InlineData("say \"hi\"\\now", "\"say \\\"hi\\\"\\\\now\"")]
    [InlineData("tab\there", "\"tab\\there\"")]
    [InlineData("ĉ 🙂", "\"\\u0109 \\U0001f642\"")]
    [InlineData("é", "\"\\u00e9\"")]                       // papermill: "\xe9", which C# would read as a longer hex escape
    [InlineData("", "\"\"")]
    [InlineData("1e", "\"1e\"")]
    [InlineData("0x10", "\"0x10\"")]
    public void ValuesAreTypedAndWrittenAsPapermillWritesThem(string text, string literal)
    {
        var p = NotebookParameter.Parse("v=" + text);
        Assert.Equal(literal, p.ToCSharpLiteral());
        Assert.Equal($"var v = {literal};", p.ToCSharpAssignment());
    }

    [Fact]
    public void RawParametersStayStrings()
    {
        Assert.Equal("\"True\"", NotebookParameter.ParseRaw("v=True").ToCSharpLiteral());
        Assert.Equal("\"None\"", NotebookParameter.ParseRaw("v=None").ToCSharpLiteral());
        Assert.Equal("\"b=c\"", NotebookParameter.Parse("a=b=c").ToCSharpLiteral());
    }

    [Theory]
    [InlineData("quick", "name=value")]
    [InlineData("=3", "name=value")]
    [InlineData("2x=3", "not a C# identifier")]
    [InlineData("class=3", "is a C# keyword")]
    [InlineData("x=None", "cannot be null")]
    [InlineData("x=99999999999999999999", "does not fit in a C# long")]
    public void BadAssignmentsAreRefusedClearly(string assignment, string message)
    {
        var e = Assert.Throws<FormatException>(() => NotebookParameter.Parse(assignment));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void CodifyMatchesPapermill()
    {
        // papermill: translate_parameters(".net-csharp", "C#", {"quick": True, "lr": 0.001, "n": 3000000000, "name": 'a "b"\n', "seed": -1})
        var source = ParameterInjector.Codify(
        [
            NotebookParameter.Parse("quick=True"), NotebookParameter.Parse("lr=0.001"), NotebookParameter.Parse("n=3000000000"),
            NotebookParameter.Create("name", "a \"b\"\n"), NotebookParameter.Parse("seed=-1"),
        ]);
        Assert.Equal("// Parameters\nvar quick = true;\nvar lr = 0.001;\nvar n = 3000000000L;\nvar name = \"a \\\"b\\\"\\n\";\nvar seed = -1;\n", source);
    }

    [Fact]
    public void InjectedCellGoesRightAfterTheParametersCellAndIsRecorded()
    {
        var nb = NotebookBuilder.Create("md:# T", "#r \"x.dll\"", "params:bool quick = false;\nint seed = 0;", "Run(quick);");
        var result = ParameterInjector.Inject(nb, "t.ipynb", [NotebookParameter.Parse("quick=true"), NotebookParameter.Parse("seed=1"), NotebookParameter.Parse("quick=false")]);
        Assert.Equal(3, result.CellIndex);
        Assert.Empty(result.Warnings);
        var injected = nb.Elements[3];
        Assert.Equal(["injected-parameters"], injected.Tags());
        Assert.Equal("// Parameters\nvar quick = false;\nvar seed = 1;\n", injected.Contents);     // a later value wins in the first position
        Assert.Equal("Run(quick);", nb.Elements[4].Contents);
        var recorded = (IDictionary<string, object>)((IDictionary<string, object>)nb.Metadata["papermill"])["parameters"];
        Assert.Equal(["quick", "seed"], recorded.Select(p => p.Key));
        Assert.False((bool)recorded["quick"]);
        Assert.Equal(1L, (long)recorded["seed"]);

        // Written as papermill writes it: the cell's source as lines, tagged, with the values in metadata.papermill.
        var json = System.Text.Json.Nodes.JsonNode.Parse(NotebookFile.ToIpynb(nb))!;
        var cell = json["cells"]![3]!;
        Assert.Equal(["// Parameters\n", "var quick = false;\n", "var seed = 1;\n"], cell["source"]!.AsArray().Select(s => (string)s!));
        Assert.Equal("injected-parameters", (string)cell["metadata"]!["tags"]![0]!);
        Assert.Equal(1, (int)json["metadata"]!["papermill"]!["parameters"]!["seed"]!);
    }

    [Fact]
    public void AnEarlierInjectedCellIsReplacedWhereItIs()
    {
        var nb = NotebookBuilder.Create("params:int a = 1;", "a", "// Parameters\nvar a = 2;\n", "a * 10");
        nb.Elements[2].Metadata!["tags"] = new object[] { "injected-parameters" };
        var result = ParameterInjector.Inject(nb, "t.ipynb", [NotebookParameter.Parse("a=5")]);
        Assert.Equal(2, result.CellIndex);
        Assert.Equal(4, nb.Elements.Count);
        Assert.Equal("// Parameters\nvar a = 5;\n", nb.Elements[2].Contents);
        Assert.Single(nb.Elements, c => c.HasTag("injected-parameters"));
    }

    [Fact]
    public void WithoutAParametersCellTheCellGoesOnTopWithAWarning()
    {
        var nb = NotebookBuilder.Create("var a = 1;");
        var result = ParameterInjector.Inject(nb, "t.ipynb", [NotebookParameter.Parse("b=2")]);
        Assert.Equal(0, result.CellIndex);
        Assert.Contains(result.Warnings, w => w.Contains("t.ipynb has no cell tagged \"parameters\""));
        Assert.Equal("// Parameters\nvar b = 2;\n", nb.Elements[0].Contents);
        Assert.Empty(ParameterInjector.Inject(NotebookBuilder.Create("x"), "x.ipynb", []).Warnings);
    }

    [Fact]
    public void UnknownParameterNamesAreWarnedAbout()
    {
        var nb = NotebookBuilder.Create("params:bool quick = false;");
        var result = ParameterInjector.Inject(nb, "t.ipynb", [NotebookParameter.Parse("quik=true")]);
        Assert.Contains(result.Warnings, w => w.Contains("\"quik\" does not appear"));
    }

    [Fact]
    public async Task InjectedValuesShadowTheDefaultsWhenRun()
    {
        var nb = NotebookBuilder.Create("params:bool quick = false;\nint size = 10;\nstring name = \"x\";", "$\"{quick} {size} {name}\"");
        var result = await NotebookRunner.RunAsync(nb, TestPaths.NewTempFolder(),
            [NotebookParameter.Parse("quick=true"), NotebookParameter.Parse("name=vit \"tiny\"")]);
        Assert.True(result.Succeeded);
        Assert.Equal("True 10 vit \"tiny\"", NotebookBuilder.Plain(result.Notebook.Elements[2]));
        Assert.Equal(3, result.Notebook.Elements.Count(c => c.IsCode()));
        Assert.Equal(2, nb.Elements.Count);   // the notebook passed in is untouched
    }
}
