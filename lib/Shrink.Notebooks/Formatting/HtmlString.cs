namespace Shrink.Notebooks.Formatting;

/// <summary>HTML to display as is (what <see cref="Display.HTML"/> returns); it displays as <c>text/html</c>.</summary>
/// <param name="Html">The markup.</param>
public sealed record HtmlString(string Html)
{
    /// <summary>The markup.</summary>
    public override string ToString() => Html;
}
