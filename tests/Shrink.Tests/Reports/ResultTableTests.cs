using Shrink.Reports;

namespace Shrink.Tests.Reports;

public class ResultTableTests
{
    [Fact]
    public void MeanStdUsesTheSampleStdAndRoundsToItsSecondDigit()
    {
        var m = MeanStd.Of(new[] { 0.90, 0.92, 0.94 });
        Assert.Equal(0.92, m.Mean, 12);
        Assert.Equal(0.02, m.Std, 12);        // sample std (n − 1): sqrt((0.0004 + 0 + 0.0004) / 2)
        Assert.Equal(3, m.Count);
        Assert.Equal("0.920 ± 0.020", m.ToString());
        Assert.Equal("0.92 ± 0.02", m.ToString("0.00", null));
        Assert.Equal("12.3 ± 1.5", new MeanStd(12.34, 1.5, 2).ToString());
        Assert.Equal("1234 ± 25", new MeanStd(1234.4, 25, 2).ToString());
        Assert.Equal("0.5 ± 0", MeanStd.Of(new[] { 0.5f }).ToString());
        Assert.Equal("NaN ± NaN", MeanStd.Of(new[] { 0.5, double.NaN }).ToString());
        Assert.Equal("0.9123 ± 0.0041", MeanStd.Format(new[] { 0.9082, 0.9123, 0.9164 }));
        Assert.Throws<ArgumentException>(() => MeanStd.Of(Array.Empty<double>()));
    }

    [Fact]
    public void TextTableIsAligned()
    {
        var t = new ResultTable("method", "top-1", "sparsity", "params") { Title = "Fashion-MNIST, 3 seeds" };
        t.AddRow("dense", new MeanStd(0.9123, 0.0041, 3), 0.0, 120_000);
        t.AddRow("IMP (rewind)", new MeanStd(0.9071, 0.012, 3), 0.9, 12_000);
        Assert.Equal(
            "Fashion-MNIST, 3 seeds\n" +
            "method                  top-1  sparsity  params\n" +
            "------------  ---------------  --------  ------\n" +
            "dense         0.9123 ± 0.0041         0  120000\n" +
            "IMP (rewind)    0.907 ± 0.012       0.9   12000",
            t.ToString());
    }

    [Fact]
    public void ColumnFormatsApplyToNumbersAndMeanStd()
    {
        var t = new ResultTable("lr", "acc").SetFormat("acc", "P1").SetFormat("lr", "E1");
        t.AddRow(0.001, 0.91234);
        t.AddRow(0.0003f, new MeanStd(0.5, 0.01, 2));
        Assert.Equal("1.0E-003", t.FormatCell(0, 0));
        Assert.Equal("91.2 %", t.FormatCell(0, 1));
        Assert.Equal("3.0E-004", t.FormatCell(1, 0));
        Assert.Equal("50.0 % ± 1.0 %", t.FormatCell(1, 1));
        Assert.Throws<ArgumentException>(() => t.SetFormat("nope", "F2"));
    }

    private sealed record Run(string Method, double Accuracy, int Epochs);

    [Fact]
    public void FromRecordsAndAnonymousObjectsKeepsDeclarationOrder()
    {
        var fromRecords = ResultTable.From(new[] { new Run("kd", 0.88, 10), new Run("ce", 0.86, 10) });
        Assert.Equal(["Method", "Accuracy", "Epochs"], fromRecords.Columns);
        Assert.Equal(2, fromRecords.RowCount);
        Assert.Equal("kd", fromRecords[0, "Method"]);
        Assert.Equal(0.86, fromRecords[1, 1]);

        var anon = ResultTable.From(new[] { new { seed = 1, acc = 0.5f, note = "ok" }, new { seed = 2, acc = float.NaN, note = (string)null! } });
        Assert.Equal(["seed", "acc", "note"], anon.Columns);
        Assert.Equal("0.5", anon.FormatCell(0, 1));
        Assert.Equal("NaN", anon.FormatCell(1, 1));
        Assert.Equal("", anon.FormatCell(1, 2));

        var objects = ResultTable.From(new object[] { new Run("a", 1, 1) });
        Assert.Equal(3, objects.Columns.Count);
        Assert.Throws<ArgumentException>(() => ResultTable.From(Array.Empty<object>()));
    }

    [Fact]
    public void FromColumnsChecksLengths()
    {
        var t = ResultTable.FromColumns(("alpha", new[] { 0.1, 0.5 }), ("acc", new[] { 0.8f, 0.85f }), ("name", new[] { "a", "b" }));
        Assert.Equal(2, t.RowCount);
        Assert.Equal("0.85", t.FormatCell(1, 1));
        Assert.Equal("b", t[1, "name"]);
        var e = Assert.Throws<ArgumentException>(() => ResultTable.FromColumns(("a", new[] { 1, 2 }), ("b", new[] { 1 })));
        Assert.Contains("column 'b' has 1 values but 'a' has 2", e.Message);
    }

    [Fact]
    public void RowsAndColumnsAreValidated()
    {
        Assert.Throws<ArgumentException>(() => new ResultTable());
        Assert.Throws<ArgumentException>(() => new ResultTable("a", "a"));
        var e = Assert.Throws<ArgumentException>(() => new ResultTable("a", "b").AddRow(1));
        Assert.Contains("got 1 cells for 2 columns (a, b)", e.Message);
        Assert.Throws<ArgumentException>(() => new ResultTable("a")[0, "b"]);
    }

    [Fact]
    public void HtmlTableEscapesAndAlignsNumbersRight()
    {
        var t = new ResultTable("name", "value");
        t.AddRow("<b>", 1.5);
        var html = t.ToHtml();
        Assert.Contains("<td style=\"text-align:left\">&lt;b&gt;</td>", html);
        Assert.Contains("<td style=\"text-align:right\">1.5</td>", html);
        Assert.Contains("<th style=\"text-align:right\">value</th>", html);
        Assert.DoesNotContain("<caption>", html);
    }

    [Fact]
    public void StandardErrorOfTheDifferenceAndTheNoiseRule()
    {
        var a = MeanStd.Of([1.0, 3.0]);          // mean 2, std √2
        var b = MeanStd.Of([0.0, 0.0, 3.0]);     // mean 1, std √3
        Assert.Equal(Math.Sqrt(2.0 / 2 + 3.0 / 3), MeanStd.StandardErrorOfDifference(a, b), 12);
        Assert.Equal(0, MeanStd.StandardErrorOfDifference(MeanStd.Of([5.0]), MeanStd.Of([4.0])));
        Assert.Equal("within seed noise", MeanStd.NoiseVerdict(2.0, 1.0));
        Assert.Equal("a gain beyond seed noise", MeanStd.NoiseVerdict(2.01, 1.0));
        Assert.Equal("a loss beyond seed noise", MeanStd.NoiseVerdict(-2.01, 1.0));
    }
}
