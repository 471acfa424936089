namespace Shrink.Notebooks.Model;

/// <summary>
/// How a notebook's JSON text was laid out, so that writing it back reproduces the file byte for byte:
/// the indent unit (VS Code and Jupyter use one space), the line separator, a trailing line break, a BOM.
/// </summary>
/// <param name="Indent">The indent unit; empty for compact JSON with no line breaks.</param>
/// <param name="NewLine">The line separator between JSON lines.</param>
/// <param name="TrailingNewLine">Whether the file ends with a line separator after the closing brace.</param>
/// <param name="Utf8Bom">Whether the file starts with a UTF-8 byte order mark.</param>
public sealed record JsonTextStyle(string Indent, string NewLine, bool TrailingNewLine, bool Utf8Bom)
{
    /// <summary>The style VS Code (and Jupyter) write: one-space indent, "\n", a trailing line break, no BOM.</summary>
    public static JsonTextStyle VsCode { get; } = new(" ", "\n", true, false);

    /// <summary>Infers the style of a JSON text (already decoded, BOM removed).</summary>
    internal static JsonTextStyle Detect(ReadOnlySpan<byte> utf8, bool bom)
    {
        int firstBreak = utf8.IndexOf((byte)'\n');
        if (firstBreak < 0)
            return new JsonTextStyle("", "\n", false, bom);
        string newLine = firstBreak > 0 && utf8[firstBreak - 1] == (byte)'\r' ? "\r\n" : "\n";
        int i = firstBreak + 1;
        int start = i;
        while (i < utf8.Length && (utf8[i] == (byte)' ' || utf8[i] == (byte)'\t'))
            i++;
        string indent = i > start ? System.Text.Encoding.ASCII.GetString(utf8[start..i]) : " ";
        var trimmed = utf8;
        bool trailing = trimmed.Length > 0 && trimmed[^1] == (byte)'\n';
        return new JsonTextStyle(indent, newLine, trailing, bom);
    }
}
