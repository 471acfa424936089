using System.Reflection;
using Shrink.Formatting;
using Shrink.Tests.Charts;
using Shrink.Torch;
using static TorchSharp.torch;

namespace Shrink.Tests.Formatting;

/// <summary>TensorPreview renders through the convention the notebook hosts use (papers/notebook-format.md §5).</summary>
public class ConventionFormatterTests
{
    public ConventionFormatterTests() => TorchNative.EnsureLoaded();

    [Theory]
    [InlineData(typeof(TensorPreview))]
    public void TypesCarryAConventionFormatterSourcePreferringHtml(Type type)
    {
        var attr = type.GetCustomAttributes(true).Single(a => a.GetType().Name == "TypeFormatterSourceAttribute");
        Assert.False(attr.GetType().IsPublic, "the attribute stays internal (matched by name)");
        var (formatters, preferred) = ConventionFormatter.Discover(type);
        Assert.Equal(["text/html", "text/plain"], preferred!);
        Assert.Equal(["text/html", "text/plain"], formatters.Select(f => f.MimeType).ToArray());
        Assert.All(formatters, f => Assert.True(f.Type.IsAssignableFrom(type)));
    }

    [Theory]
    [InlineData(typeof(TensorFormatterSource))]
    public void FormatterShapesMatchTheConvention(Type sourceType)
    {
        Assert.True(sourceType.IsPublic);
        Assert.NotNull(sourceType.GetConstructor(Type.EmptyTypes));
        var create = sourceType.GetMethod("CreateTypeFormatters")!;
        Assert.Empty(create.GetParameters());
        // exactly one public method named Format, (object, TextWriter) -> bool: GetMethod must not be ambiguous
        var format = typeof(TypeFormatter).GetMethod("Format")!;
        Assert.Equal(typeof(bool), format.ReturnType);
        Assert.Equal([typeof(object), typeof(TextWriter)], format.GetParameters().Select(p => p.ParameterType).ToArray());
        Assert.Single(typeof(TypeFormatter).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static), m => m.Name == "Format");
        Assert.Equal(typeof(string), typeof(TypeFormatter).GetProperty("MimeType")!.PropertyType);
        Assert.Equal(typeof(Type), typeof(TypeFormatter).GetProperty("Type")!.PropertyType);
    }

    [Fact]
    public void FormatterDeclinesOtherTypes()
    {
        var (formatters, _) = ConventionFormatter.Discover(typeof(TensorPreview));
        using var w = new StringWriter();
        Assert.False(formatters[0].Format("not a tensor", w));
        Assert.Equal("", w.ToString());
    }

    [Fact]
    public void TensorRendersShapePreviewAndText()
    {
        var t = arange(6, dtype: float32).reshape(2, 3);
        var bundle = ConventionFormatter.FormatBundle(t.Preview());
        var html = bundle.Get("text/html");
        Assert.Contains("Tensor[2, 3] float32 cpu", html);
        Assert.Contains("min 0  mean 2.5  max 5", html);
        Assert.Contains("<td style=\"text-align:right\">5</td>", html);
        Assert.Equal(3, html.Split("<tr>").Length - 1);   // a header row and two value rows
        Assert.Equal(t.Preview().ToString(), bundle.Get("text/plain"));
        Assert.StartsWith("Tensor[2, 3] float32 cpu\n[[0, 1, 2]", bundle.Get("text/plain"));
    }

    [Fact]
    public void LargeTensorPreviewElidesTheMiddle()
    {
        var t = arange(3 * 40 * 50, dtype: float32).reshape(3, 40, 50);
        var html = ConventionFormatter.FormatBundle(t.Preview()).Get("text/html");
        Assert.Contains("Tensor[3, 40, 50] float32 cpu", html);
        Assert.Contains("slice [0, :, :]", html);
        Assert.Contains("⋮", html);
        Assert.Contains("…", html);
        Assert.Contains(">1999<", html);        // the last element of the first slice (row 39, column 49)
        Assert.DoesNotContain(">2000<", html);  // the second slice is not shown
        Assert.DoesNotContain(">25<", html);    // a middle column is elided
        Assert.True(html.Length < 10_000);
    }

    [Fact]
    public void TensorFlagsScalarsAndOtherDtypes()
    {
        var p = tensor(new[] { 1f, float.NaN }).requires_grad_();
        var html = ConventionFormatter.FormatBundle(p.Preview()).Get("text/html");
        Assert.Contains("requires_grad", html);
        Assert.Contains("NaN 1", html);
        var s = ConventionFormatter.FormatBundle(tensor(7f).Preview()).Get("text/html");
        Assert.Contains("<code>7</code>", s);
        var labels = ConventionFormatter.FormatBundle(tensor(new long[] { 3, 1, 4 }).Preview()).Get("text/html");
        Assert.Contains("Tensor[3] int64 cpu", labels);
        Assert.Contains("min 1  mean 2.6667  max 4", labels);
    }

    [Fact]
    public void DisposedTensorSaysSo()
    {
        var t = ones(2, 2);
        var preview = t.Preview();
        t.Dispose();
        Assert.Contains("disposed", ConventionFormatter.FormatBundle(preview).Get("text/html"));
        Assert.Equal("Tensor (disposed)", preview.ToString());
    }
}
