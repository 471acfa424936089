using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Tests.Model;

public class DibFormatTests
{
    [Fact]
    public void ReadsCellsKernelsAndMeta()
    {
        var nb = Notebook.Load(TestPaths.Fixture("sample.dib"));
        Assert.Equal(["markdown", "code", "code", "code", "code"], nb.Cells.Select(c => c.CellType));
        Assert.Equal("# Title\n\nSome text.", nb.Cells[0].Source);
        Assert.Equal("var x = 1;\n#!who\nx", nb.Cells[1].Source);            // unknown #!magic stays in the cell
        Assert.Equal("Console.WriteLine(x);", nb.Cells[2].Source);
        Assert.Equal(["markdown", "csharp", "csharp", "kql-db", "fsharp"], nb.Cells.Select(nb.KernelNameOf));
        Assert.Equal("kql-db", (string)nb.KernelInfo!["items"]![1]!["name"]!);
        Assert.Equal("csharp", (string)nb.Cells[1].Metadata["polyglot_notebook"]!["kernelName"]!);
        Assert.Equal("csharp", (string)nb.Cells[1].Metadata["dotnet_interactive"]!["language"]!);
        Assert.Equal(5, nb.FormatMinor);
    }

    [Fact]
    public void TextBeforeTheFirstSeparatorGoesToTheDefaultKernel()
    {
        var nb = Notebook.ParseDib("\r\nvar a = 1;\r\n\r\n#!markdown\r\n\r\n*hi*\r\n", "x.dib");
        Assert.Equal(2, nb.Cells.Count);
        Assert.Equal("var a = 1;", nb.Cells[0].Source);
        Assert.Equal("csharp", nb.KernelNameOf(nb.Cells[0]));
        Assert.Equal("*hi*", nb.Cells[1].Source);
    }

    [Fact]
    public void BadMetaBlockIsAFormatError()
    {
        var e = Assert.Throws<NotebookFormatException>(() => Notebook.ParseDib("#!meta\n\n{\"kernelInfo\": 3}\n\n#!csharp\n\nx", "bad.dib"));
        Assert.Contains("bad.dib", e.Message);
        Assert.Contains("kernelInfo must be an object", e.Message);
    }
}
