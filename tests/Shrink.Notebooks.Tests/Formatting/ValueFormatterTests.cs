using Shrink.Notebooks.Formatting;

namespace Shrink.Notebooks.Tests.Formatting;

public class ValueFormatterTests
{
    [Fact]
    public void ConventionFormattersGiveEveryAcceptedMimeTypePreferredFirst()
    {
        var bundle = ValueFormatter.Format(new Gauge(0.5));
        Assert.Equal(["text/html", "text/plain", "application/json"], bundle.MimeTypes);
        Assert.Equal("<meter value=\"0.5\"></meter>", bundle["text/html"]);
        Assert.Equal("gauge 0.5", bundle["text/plain"]);
        Assert.Equal("{\"value\": 0.5}", bundle["application/json"]);
    }

    [Fact]
    public void BaseTypeAttributeAppliesAndFormattersAreCachedPerType()
    {
        var derived = ValueFormatter.Format(new DerivedGauge(2));
        Assert.Equal("gauge 2", derived["text/plain"]);
        int calls = GaugeFormatterSource.CreateCalls;
        ValueFormatter.Format(new DerivedGauge(3));
        ValueFormatter.Format(new DerivedGauge(4));
        Assert.Equal(calls, GaugeFormatterSource.CreateCalls);
    }

    [Fact]
    public void TextPlainFallsBackToToStringAndRequestedMimeTypesFilter()
    {
        var bundle = ValueFormatter.Format(new HtmlOnly());
        Assert.Equal(["text/html", "text/plain"], bundle.MimeTypes);
        Assert.Equal("html-only", bundle["text/plain"]);
        Assert.Equal(["text/plain"], ValueFormatter.Format(new Gauge(1), ["text/plain"]).MimeTypes);
        Assert.Equal(["text/plain"], ValueFormatter.Format(new HtmlOnly(), ["image/png"]).MimeTypes);
    }

    [Fact]
    public void NullStringsSequencesAndHtml()
    {
        Assert.Equal("<null>", ValueFormatter.Format(null)["text/plain"]);
        Assert.Equal(["text/plain"], ValueFormatter.Format("<b>x</b>").MimeTypes);
        Assert.Equal("[ 1, 2, 3 ]", ValueFormatter.Format(new List<int> { 1, 2, 3 })["text/plain"]);
        Assert.Equal("[ a, [ 1.5 ] ]", ValueFormatter.Format(new object[] { "a", new[] { 1.5 } })["text/plain"]);
        Assert.EndsWith(", 19, ... ]", ValueFormatter.Format(Enumerable.Range(0, 100).ToArray())["text/plain"]);
        Assert.Equal("<b>x</b>", ValueFormatter.Format(Display.HTML("<b>x</b>"))["text/html"]);
    }
}
