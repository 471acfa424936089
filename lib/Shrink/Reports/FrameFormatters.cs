using System.Runtime.CompilerServices;
using Deedle;
using Microsoft.DotNet.Interactive.Formatting;

namespace Shrink.Reports;

/// <summary>
/// Shows Deedle frames and <see cref="MeanStd"/> in .NET Interactive notebooks (VS Code, Jupyter, the headless runner):
/// <c>text/html</c> is <see cref="FrameTable.ToHtml"/>, <c>text/plain</c> is <see cref="FrameTable.ToText"/>, and a
/// <see cref="MeanStd"/> shows as <c>mean ± std</c>. Registered with <see cref="Formatter"/> when Shrink is first used
/// (a module initializer), so a notebook that loads Shrink needs no set-up cell.
/// </summary>
public static class FrameFormatters
{
#pragma warning disable CA2255 // a library's module initializer is the point here: formatters exist before a cell displays anything
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => Register();

    /// <summary>
    /// Registers the formatters (again): for any <see cref="IFrame"/> (every <c>Frame&lt;TRow, TColumn&gt;</c>) and for
    /// <see cref="MeanStd"/>, in <c>text/html</c> and <c>text/plain</c>. Call it after <see cref="Formatter.ResetToDefault"/>.
    /// </summary>
    public static void Register()
    {
        Formatter.Register(typeof(IFrame), (value, context) => { context.Writer.Write(FrameTable.ToHtml((IFrame)value)); return true; }, "text/html");
        Formatter.Register(typeof(IFrame), (value, context) => { context.Writer.Write(FrameTable.ToText((IFrame)value)); return true; }, "text/plain");
        Formatter.Register<MeanStd>((value, context) => { context.Writer.Write(HtmlText(value.ToString())); return true; }, "text/html");
        Formatter.Register<MeanStd>((value, context) => { context.Writer.Write(value.ToString()); return true; }, "text/plain");
    }

    private static string HtmlText(string text) => Shrink.Formatting.HtmlText.Encode(text);
}
