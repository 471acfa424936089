using Deedle;
using Shrink.Reports;

namespace Shrink.Tests.Reports;

public class FrameTableTests
{
    private static Frame<string, string> Summary() => ResultFrames.Summary(
        ResultFrames.PerSeed([0, 1, 2], ("no KD", [80.0, 81.0, 82.0]), ("Hinton KD", [84.0, 85.0, 86.0]), ("DeiT soft", [81.0, 82.0, 83.0])), "no KD");

    [Fact]
    public void SummaryAsAlignedText()
    {
        Assert.Equal(
            "           seeds  mean ± std  Δ vs baseline  SE(Δ)  verdict\n" +
            "---------  -----  ----------  -------------  -----  ------------------------\n" +
            "no KD          3  81.0 ± 1.0              —      —  baseline\n" +
            "Hinton KD      3  85.0 ± 1.0              4  0.816  a gain beyond seed noise\n" +
            "DeiT soft      3  82.0 ± 1.0              1  0.816  within seed noise",
            FrameTable.ToText(Summary()));
    }

    [Fact]
    public void PerSeedFrameShowsTheSeedsAsRowKeys()
    {
        Assert.Equal(
            "   no KD  Hinton KD\n" +
            "-  -----  ---------\n" +
            "0   80.0       84.0\n" +
            "1   81.0       85.0\n" +
            "2   81.5       86.2",
            FrameTable.ToText(ResultFrames.PerSeed([0, 1, 2], ("no KD", [80.0, 81.0, 81.5]), ("Hinton KD", [84.0, 85.0, 86.2]))));
    }

    [Fact]
    public void CellsFollowTheNumberRules()
    {
        Assert.Equal("0.9123 ± 0.0041", FrameTable.FormatValue(new MeanStd(0.9123, 0.0041, 3)));
        Assert.Equal("0.1235", FrameTable.FormatValue(0.123456));
        Assert.Equal("12", FrameTable.FormatValue(12.0));
        Assert.Equal("120,000", FrameTable.FormatValue(120_000L));
        Assert.Equal("1234", FrameTable.FormatValue(1234));
        Assert.Equal("1.235E+05", FrameTable.FormatValue(123_456.7));
        Assert.Equal("0.5", FrameTable.FormatValue(0.5f));
        Assert.Equal("—", FrameTable.FormatValue(double.NaN));
        Assert.Equal("—", FrameTable.FormatValue(null));
        Assert.Equal("-Infinity", FrameTable.FormatValue(double.NegativeInfinity));
        Assert.True(FrameTable.IsNumber(new MeanStd(1, 0, 1)));
        Assert.False(FrameTable.IsNumber("1"));
    }

    [Fact]
    public void AColumnOfRealsSharesItsDecimals()
    {
        var f = ResultFrames.Table(["a", "b", "c", "d"],
            ("ratio", new[] { 0.5593, 2.207, 1.0, 1.006 }),                  // median ≈ 1: two decimals
            ("weights %", new[] { 100.0, 51.2, 10.74, 20.0 }),               // median ≈ 20: one decimal
            ("loss", new[] { 1e-6, 0.5, 2.0, 3.0 }),                         // spans > 10⁴: each with 4 significant digits
            ("MFLOPs", new[] { 18.69, 10.62, 4.854, double.NaN }));          // median 10.62: one decimal; NaN is missing
        Assert.Equal(
            "   ratio  weights %   loss  MFLOPs\n" +
            "-  -----  ---------  -----  ------\n" +
            "a   0.56      100.0  1E-06    18.7\n" +
            "b   2.21       51.2    0.5    10.6\n" +
            "c   1.00       10.7      2     4.9\n" +
            "d   1.01       20.0      3       —",
            FrameTable.ToText(f));
    }

    [Fact]
    public void HtmlIsSelfContainedEscapedAndAligned()
    {
        var html = FrameTable.ToHtml(Summary());
        Assert.StartsWith("<table class=\"shrink-frame\"", html);
        Assert.EndsWith("</table>", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain("<style", html);
        Assert.Contains("<th style=\"padding:2px 10px;border-bottom:1px solid #888;text-align:right\">mean ± std</th>", html);
        Assert.Contains("<th style=\"padding:2px 10px;border-bottom:1px solid #888;text-align:left\">verdict</th>", html);
        Assert.Contains("<th style=\"padding:2px 10px;text-align:left;font-weight:600\">Hinton KD</th>", html);
        Assert.Contains("<td style=\"padding:2px 10px;text-align:right\">85.0 ± 1.0</td>", html);
        Assert.Contains("<td style=\"padding:2px 10px;text-align:right\">—</td>", html);   // the baseline's Δ
        Assert.Contains("<td style=\"padding:2px 10px;text-align:left\">a gain beyond seed noise</td>", html);
        Assert.Equal(4, html.Split("<tr>").Length - 1);                                   // a header and three methods

        var escaped = FrameTable.ToHtml(ResultFrames.Table(["<b>"], ("a & b", new[] { "x < y" })));
        Assert.Contains(">&lt;b&gt;</th>", escaped);
        Assert.Contains(">a &amp; b</th>", escaped);
        Assert.Contains(">x &lt; y</td>", escaped);
    }

    [Fact]
    public void LongFramesShowTheirEnds()
    {
        var rows = Enumerable.Range(0, 250).ToArray();
        var f = ResultFrames.Table(rows, ("x", rows.Select(r => r * 2.0).ToArray()));
        var text = FrameTable.ToText(f);
        var lines = text.Split('\n');
        Assert.Equal(2 + FrameTable.MaxRows + 1 + 1, lines.Length);   // header, rule, 90 + … + 10 rows, the note
        Assert.Contains("\n 89  178\n  …    …\n240  480\n", text);   // numbers (and the … row) right-aligned
        Assert.EndsWith("249  498\n250 rows × 1 columns", text);
        Assert.Contains("250 rows × 1 columns</div>", FrameTable.ToHtml(f));
    }
}
