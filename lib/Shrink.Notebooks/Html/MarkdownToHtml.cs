using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Shrink.Notebooks.Html;

/// <summary>
/// A small Markdown-to-HTML converter for notebook prose: ATX headings, paragraphs, emphasis and strong emphasis,
/// strikethrough, inline code and fenced code blocks, bullet and numbered lists (nested by indentation), block quotes,
/// horizontal rules, pipe tables, links and images. TeX math (<c>$…$</c>, <c>$$…$$</c>) is kept as text, protected
/// from emphasis. Raw HTML in the Markdown is escaped, not passed through.
/// </summary>
public static partial class MarkdownToHtml
{
    [GeneratedRegex(@"^(#{1,6})\s+(.*?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^\s{0,3}((\*\s*){3,}|(-\s*){3,}|(_\s*){3,})$")]
    private static partial Regex Rule();

    [GeneratedRegex(@"^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$")]
    private static partial Regex ListItem();

    [GeneratedRegex(@"^\s*(```+|~~~+)\s*([^`\s]*)")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")]
    private static partial Regex TableSeparator();

    /// <summary>Converts Markdown to an HTML fragment.</summary>
    public static string Convert(string markdown)
    {
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        var sb = new StringBuilder();
        Blocks(lines, sb);
        return sb.ToString();
    }

    static void Blocks(IReadOnlyList<string> lines, StringBuilder sb)
    {
        int i = 0;
        while (i < lines.Count)
        {
            string line = lines[i];
            if (string.IsNullOrWhiteSpace(line)) { i++; continue; }

            if (Fence().Match(line) is { Success: true } fence)
            {
                string marker = fence.Groups[1].Value;
                string language = fence.Groups[2].Value;
                var code = new List<string>();
                i++;
                while (i < lines.Count && !lines[i].TrimStart().StartsWith(marker, StringComparison.Ordinal))
                    code.Add(lines[i++]);
                i++;
                sb.Append("<pre><code").Append(language.Length > 0 ? $" class=\"language-{Escape(language)}\"" : "").Append('>')
                  .Append(Escape(string.Join("\n", code))).Append("</code></pre>\n");
                continue;
            }
            if (line.Trim() == "$$" || (line.TrimStart().StartsWith("$$", StringComparison.Ordinal) && !line.Trim()[2..].Contains("$$")))
            {
                var math = new List<string> { line };
                i++;
                while (i < lines.Count && !lines[i].Contains("$$"))
                    math.Add(lines[i++]);
                if (i < lines.Count) math.Add(lines[i++]);
                sb.Append("<div class=\"math\">").Append(Escape(string.Join("\n", math))).Append("</div>\n");
                continue;
            }
            if (Heading().Match(line) is { Success: true } h)
            {
                int level = h.Groups[1].Length;
                sb.Append($"<h{level}>").Append(Inline(h.Groups[2].Value)).Append($"</h{level}>\n");
                i++;
                continue;
            }
            if (Rule().IsMatch(line))
            {
                sb.Append("<hr>\n");
                i++;
                continue;
            }
            if (line.TrimStart().StartsWith('>'))
            {
                var quoted = new List<string>();
                while (i < lines.Count && lines[i].TrimStart().StartsWith('>'))
                {
                    string q = lines[i++].TrimStart()[1..];
                    quoted.Add(q.StartsWith(' ') ? q[1..] : q);
                }
                sb.Append("<blockquote>\n");
                Blocks(quoted, sb);
                sb.Append("</blockquote>\n");
                continue;
            }
            if (ListItem().IsMatch(line))
            {
                i = List(lines, i, sb);
                continue;
            }
            if (line.Contains('|') && i + 1 < lines.Count && TableSeparator().IsMatch(lines[i + 1]) && lines[i + 1].Contains('-'))
            {
                i = Table(lines, i, sb);
                continue;
            }
            var paragraph = new List<string>();
            while (i < lines.Count && !string.IsNullOrWhiteSpace(lines[i]) && !StartsBlock(lines[i]))
                paragraph.Add(lines[i++].Trim());
            if (paragraph.Count == 0)
                paragraph.Add(lines[i++].Trim());
            sb.Append("<p>").Append(Inline(string.Join("\n", paragraph))).Append("</p>\n");
        }
    }

    static bool StartsBlock(string line) =>
        Heading().IsMatch(line) || Fence().IsMatch(line) || Rule().IsMatch(line) || ListItem().IsMatch(line)
        || line.TrimStart().StartsWith('>') || line.Trim() == "$$";

    static int List(IReadOnlyList<string> lines, int i, StringBuilder sb)
    {
        var first = ListItem().Match(lines[i]);
        int indent = first.Groups[1].Length;
        bool ordered = char.IsDigit(first.Groups[2].Value[0]);
        string start = ordered ? first.Groups[2].Value.TrimEnd('.', ')') : "1";
        sb.Append(ordered ? (start == "1" ? "<ol>\n" : $"<ol start=\"{start}\">\n") : "<ul>\n");
        while (i < lines.Count)
        {
            var m = ListItem().Match(lines[i]);
            if (!m.Success || m.Groups[1].Length != indent || char.IsDigit(m.Groups[2].Value[0]) != ordered)
                break;
            var text = new List<string> { m.Groups[3].Value };
            var nested = new List<string>();
            i++;
            while (i < lines.Count)
            {
                string next = lines[i];
                if (string.IsNullOrWhiteSpace(next))
                {
                    if (i + 1 < lines.Count && Indentation(lines[i + 1]) > indent) { nested.Add(""); i++; continue; }
                    break;
                }
                int ind = Indentation(next);
                if (ind <= indent)
                    break;
                if (nested.Count > 0 || ListItem().IsMatch(next))
                    nested.Add(next);
                else
                    text.Add(next.Trim());
                i++;
            }
            sb.Append("<li>").Append(Inline(string.Join("\n", text)));
            if (nested.Count > 0)
            {
                sb.Append('\n');
                int cut = nested.Where(l => l.Trim().Length > 0).Min(Indentation);
                Blocks(nested.Select(l => l.Length >= cut ? l[cut..] : l.TrimStart()).ToList(), sb);
            }
            sb.Append("</li>\n");
            while (i < lines.Count && string.IsNullOrWhiteSpace(lines[i]) && i + 1 < lines.Count
                   && ListItem().Match(lines[i + 1]) is { Success: true } again && again.Groups[1].Length == indent)
                i++;
        }
        sb.Append(ordered ? "</ol>\n" : "</ul>\n");
        return i;
    }

    static int Indentation(string line) => line.Length - line.TrimStart().Length;

    static int Table(IReadOnlyList<string> lines, int i, StringBuilder sb)
    {
        static List<string> Cells(string row)
        {
            string t = row.Trim();
            if (t.StartsWith('|')) t = t[1..];
            if (t.EndsWith('|') && !t.EndsWith("\\|", StringComparison.Ordinal)) t = t[..^1];
            return t.Split('|').Select(c => c.Trim()).ToList();
        }
        var header = Cells(lines[i]);
        var align = Cells(lines[i + 1]).Select(c => c.StartsWith(':') && c.EndsWith(':') ? "center" : c.EndsWith(':') ? "right" : c.StartsWith(':') ? "left" : null).ToList();
        string Attr(int col) => col < align.Count && align[col] is string a ? $" style=\"text-align:{a}\"" : "";
        sb.Append("<table>\n<thead><tr>");
        for (int c = 0; c < header.Count; c++)
            sb.Append($"<th{Attr(c)}>").Append(Inline(header[c])).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        i += 2;
        while (i < lines.Count && lines[i].Contains('|') && !string.IsNullOrWhiteSpace(lines[i]))
        {
            var row = Cells(lines[i++]);
            sb.Append("<tr>");
            for (int c = 0; c < header.Count; c++)
                sb.Append($"<td{Attr(c)}>").Append(c < row.Count ? Inline(row[c]) : "").Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody>\n</table>\n");
        return i;
    }

    [GeneratedRegex(@"(`+)(.+?)\1", RegexOptions.Singleline)]
    private static partial Regex CodeSpan();

    [GeneratedRegex(@"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\d)")]
    private static partial Regex InlineMath();

    [GeneratedRegex(@"\\([\\`*_{}\[\]()#+\-.!|~$<>])")]
    private static partial Regex BackslashEscape();

    [GeneratedRegex(@"!\[([^\]]*)\]\(([^)\s]+)(?:\s+&quot;([^&]*)&quot;)?\)")]
    private static partial Regex Image();

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)\s]+)(?:\s+&quot;([^&]*)&quot;)?\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")]
    private static partial Regex Strong();

    [GeneratedRegex(@"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\*)|(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")]
    private static partial Regex Emphasis();

    [GeneratedRegex(@"~~(?=\S)(.+?)(?<=\S)~~")]
    private static partial Regex Strike();

    [GeneratedRegex("\u0001(\\d+)\u0002")]
    private static partial Regex Placeholder();

    /// <summary>Inline Markdown (one paragraph's text) to HTML.</summary>
    public static string Inline(string text)
    {
        var protectedParts = new List<string>();
        string Protect(string html)
        {
            protectedParts.Add(html);
            return $"\u0001{protectedParts.Count - 1}\u0002";
        }
        text = text.Replace("\u0001", "").Replace("\u0002", "");
        text = CodeSpan().Replace(text, m => Protect("<code>" + Escape(m.Groups[2].Value.Trim()) + "</code>"));
        text = BackslashEscape().Replace(text, m => Protect(Escape(m.Groups[1].Value)));
        text = InlineMath().Replace(text, m => Protect("<span class=\"math\">" + Escape(m.Value) + "</span>"));
        text = Escape(text);
        text = Image().Replace(text, m => Protect($"<img src=\"{SafeUrl(m.Groups[2].Value)}\" alt=\"{m.Groups[1].Value}\"{Title(m.Groups[3])}>"));
        text = Link().Replace(text, m => $"<a href=\"{SafeUrl(m.Groups[2].Value)}\"{Title(m.Groups[3])}>{m.Groups[1].Value}</a>");
        text = Strong().Replace(text, m => $"<strong>{m.Groups[2].Value}</strong>");
        text = Emphasis().Replace(text, m => $"<em>{(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)}</em>");
        text = Strike().Replace(text, m => $"<del>{m.Groups[1].Value}</del>");
        text = text.Replace("  \n", "<br>\n");
        for (int pass = 0; pass < 3 && text.Contains('\u0001'); pass++)
            text = Placeholder().Replace(text, m => protectedParts[int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)]);
        return text;
    }

    static string Title(Group g) => g.Success ? $" title=\"{g.Value}\"" : "";

    static string SafeUrl(string escapedUrl)
    {
        string url = WebUtility.HtmlDecode(escapedUrl).Trim();
        if (url.StartsWith("javascript:", StringComparison.OrdinalIgnoreCase) || url.StartsWith("vbscript:", StringComparison.OrdinalIgnoreCase))
            return "#";
        return Escape(url);
    }

    /// <summary>HTML-escapes text (&amp;, &lt;, &gt;, &quot;).</summary>
    public static string Escape(string text) =>
        text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
