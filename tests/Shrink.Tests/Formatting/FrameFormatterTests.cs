using Deedle;
using Microsoft.DotNet.Interactive.Formatting;
using Shrink.Reports;

namespace Shrink.Tests.Formatting;

/// <summary>Deedle frames and MeanStd through .NET Interactive's Formatter, as a notebook kernel shows them.</summary>
public class FrameFormatterTests
{
    private static Frame<string, string> Summary() => ResultFrames.Summary(
        ResultFrames.PerSeed([0, 1, 2], ("no KD", [80.0, 81.0, 82.0]), ("Hinton KD", [84.0, 85.0, 86.0])), "no KD");

    [Fact]
    public void ASummaryFrameShowsAsHtmlTableAndAlignedText()
    {
        var s = Summary();   // Shrink's module initializer has registered the formatters by now
        var html = Formatter.ToDisplayString(s, "text/html");
        Assert.Equal(FrameTable.ToHtml(s), html);
        Assert.Contains(">85.0 ± 1.0</td>", html);
        Assert.Contains(">a gain beyond seed noise</td>", html);
        var text = Formatter.ToDisplayString(s, "text/plain");
        Assert.Equal(FrameTable.ToText(s), text);
        Assert.StartsWith("           seeds  mean ± std  Δ vs baseline  SE(Δ)  verdict\n", text);
    }

    [Fact]
    public void AnyDeedleFrameUsesTheSameFormatter()
    {
        FrameFormatters.Register();
        var records = Frame.FromRecords(new[] { new { method = "dense", acc = 0.9123 }, new { method = "IMP", acc = 0.9071 } });
        Assert.Equal(
            "   method    acc\n" +
            "-  ------  -----\n" +
            "0  dense   0.912\n" +
            "1  IMP     0.907",
            Formatter.ToDisplayString(records, "text/plain"));
        Assert.StartsWith("<table class=\"shrink-frame\"", Formatter.ToDisplayString(records.IndexRows<string>("method"), "text/html"));
    }

    [Fact]
    public void MeanStdShowsAsMeanPlusMinusStd()
    {
        FrameFormatters.Register();
        var m = new MeanStd(0.9123, 0.0041, 3);
        Assert.Equal("0.9123 ± 0.0041", Formatter.ToDisplayString(m, "text/plain"));
        Assert.Equal("0.9123 ± 0.0041", Formatter.ToDisplayString(m, "text/html"));
    }
}
