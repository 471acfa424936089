using System.Text.Json;
using Shrink.Training;

namespace Shrink.Tests.Training;

public class StepTests
{
    [Theory]
    [InlineData("10ep", 10, 0)]
    [InlineData("500it", 0, 500)]
    [InlineData("2ep100it", 2, 100)]
    [InlineData("0ep", 0, 0)]
    [InlineData("0it", 0, 0)]
    [InlineData("  3ep  ", 3, 0)]
    [InlineData("007it", 0, 7)]
    [InlineData("1ep0it", 1, 0)]
    public void ParsesOpenLthGrammar(string text, int epochs, int iterations)
    {
        var s = Step.Parse(text);
        Assert.Equal(epochs, s.Epochs);
        Assert.Equal(iterations, s.Iterations);
        Assert.Equal(Step.Create(epochs, iterations), s);
    }

    [Theory]
    [InlineData("10ep", "10ep")]
    [InlineData("500it", "500it")]
    [InlineData("2ep100it", "2ep100it")]
    [InlineData("0ep", "0it")]
    [InlineData("1ep0it", "1ep")]
    public void ToStringIsCanonicalAndRoundTrips(string text, string canonical)
    {
        var s = Step.Parse(text);
        Assert.Equal(canonical, s.ToString());
        Assert.Equal(s, Step.Parse(s.ToString()));
        Assert.Equal(canonical, $"{s}");
    }

    [Fact]
    public void ToIterationsUsesTheEpochLength()
    {
        Assert.Equal(1000, Step.Parse("10ep").ToIterations(100));
        Assert.Equal(500, Step.Parse("500it").ToIterations(100));
        Assert.Equal(500, Step.Parse("500it").ToIterations(0));   // no epochs: the epoch length is irrelevant
        Assert.Equal(2 * 37 + 100, Step.Parse("2ep100it").ToIterations(37));
        Assert.Equal(0, Step.Zero.ToIterations(10));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Step.Parse("2ep").ToIterations(0));
        Assert.Contains("2ep", e.Message);
        Assert.Throws<OverflowException>(() => Step.Parse("2000000000ep").ToIterations(10));
    }

    [Fact]
    public void EqualityIsStructural()
    {
        Assert.Equal(Step.FromEpochs(3), Step.Parse("3ep"));
        Assert.Equal(Step.FromIterations(3), (Step)"3it");
        Assert.NotEqual(Step.FromEpochs(1), Step.FromIterations(100));
        Assert.True(Step.Parse("2ep5it") == Step.Create(2, 5));
        Assert.Equal(Step.Parse("2ep5it").GetHashCode(), Step.Create(2, 5).GetHashCode());
        Assert.True(Step.Zero.IsZero);
        Assert.Equal(default, Step.Zero);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("10")]
    [InlineData("ep")]
    [InlineData("it")]
    [InlineData("10 ep")]
    [InlineData("10epochs")]
    [InlineData("-1ep")]
    [InlineData("+1ep")]
    [InlineData("1.5ep")]
    [InlineData("10EP")]
    [InlineData("100it2ep")]
    [InlineData("1ep2ep")]
    [InlineData("1epit")]
    [InlineData("99999999999it")]
    public void BadStringsGiveAClearError(string text)
    {
        var e = Assert.Throws<FormatException>(() => Step.Parse(text));
        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains("\"2ep100it\"", e.Message);
        Assert.False(Step.TryParse(text, out _));
        Assert.Throws<FormatException>(() => { Step s = text; });
    }

    [Fact]
    public void NegativeCountsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Step.FromEpochs(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Step.Create(1, -1));
    }

    [Fact]
    public void JsonIsTheString()
    {
        var json = JsonSerializer.Serialize(Step.Parse("2ep100it"));
        Assert.Equal("\"2ep100it\"", json);
        Assert.Equal(Step.Create(2, 100), JsonSerializer.Deserialize<Step>(json));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Step>("\"ten epochs\""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Step>("10"));
    }
}
