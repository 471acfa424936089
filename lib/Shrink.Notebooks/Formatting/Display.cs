namespace Shrink.Notebooks.Formatting;

/// <summary>
/// The helpers notebook code calls by simple name, as in the Polyglot C# kernel: <c>display(x)</c> and
/// <c>HTML("…")</c>. The runner imports this class into every script session (<c>using static</c>) and references
/// this assembly, so notebooks never <c>#r</c> the runner; in VS Code the same calls bind to .NET Interactive's
/// <c>Kernel.display</c> and <c>Kernel.HTML</c> instead.
/// </summary>
public static class Display
{
    /// <summary>
    /// Shows <paramref name="value"/> as a <c>display_data</c> output of the running cell, formatted as the trailing
    /// expression of a cell would be (see <see cref="ValueFormatter"/>). With <paramref name="mimeTypes"/>, only those
    /// representations are kept (<c>text/plain</c> when none of them is available). Outside a notebook run the plain
    /// text goes to the console.
    /// </summary>
#pragma warning disable IDE1006 // lower-case name: it matches .NET Interactive's display()
    public static void display(object? value, params string[] mimeTypes)
#pragma warning restore IDE1006
    {
        var bundle = ValueFormatter.Format(value, mimeTypes);
        if (DisplaySink.Current is { } sink)
            sink(bundle);
        else
            Console.Out.WriteLine(bundle["text/plain"]);
    }

    /// <summary>Marks a string as HTML: displaying the result gives a <c>text/html</c> output.</summary>
    public static HtmlString HTML(string html) => new(html);
}
