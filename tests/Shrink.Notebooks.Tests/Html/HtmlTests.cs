using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Html;

namespace Shrink.Notebooks.Tests.Html;

public class HtmlTests
{
    [Fact]
    public void MarkdownBlocksAndInlines()
    {
        string html = MarkdownToHtml.Convert(
            "# Title *one*\n\nA **bold** and _em_ word, `a<b>` code, [link](https://x.org/?a=1&b=2) and $a_i * b_j$ math.\nSame paragraph.\n\n" +
            "- one\n- two\n  - nested\n\n1. first\n2. second\n\n```csharp\nvar x = 1 < 2;\n```\n\n> quoted\n\n---\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n<script>alert(1)</script>\n");
        Assert.Contains("<h1>Title <em>one</em></h1>", html);
        Assert.Contains("<strong>bold</strong> and <em>em</em> word, <code>a&lt;b&gt;</code> code", html);
        Assert.Contains("<a href=\"https://x.org/?a=1&amp;b=2\">link</a>", html);
        Assert.Contains("<span class=\"math\">$a_i * b_j$</span> math.\nSame paragraph.</p>", html);
        Assert.Contains("<ul>\n<li>one</li>\n<li>two\n<ul>\n<li>nested</li>\n</ul>\n</li>\n</ul>", html);
        Assert.Contains("<ol>\n<li>first</li>\n<li>second</li>\n</ol>", html);
        Assert.Contains("<pre><code class=\"language-csharp\">var x = 1 &lt; 2;</code></pre>", html);
        Assert.Contains("<blockquote>\n<p>quoted</p>\n</blockquote>", html);
        Assert.Contains("<hr>", html);
        Assert.Contains("<th>a</th><th style=\"text-align:right\">b</th>", html);
        Assert.Contains("<td>1</td><td style=\"text-align:right\">2</td>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("href=\"#\"", MarkdownToHtml.Convert("[x](javascript:alert(1))"));
    }

    [Fact]
    public void ExportShowsCodeWithItsOutputs()
    {
        var nb = NotebookBuilder.Create("md:## Intro", "var x = \"<tag>\";");
        var code = nb.Elements[1];
        code.ExecutionOrder = 3;
        code.Outputs.Add(new TextElement("a < b\n", "stdout"));
        code.Outputs.Add(new DisplayElement(new Dictionary<string, object> { ["text/html"] = "<div id=\"chart\"><script>var plotly = 1;</script></div>", ["text/plain"] = "chart" }));
        code.Outputs.Add(new DisplayElement(new Dictionary<string, object> { ["image/png"] = new object[] { "iVBORw0K\n", "Ggo=" }, ["text/plain"] = "img" }));
        code.Outputs.Add(new DisplayElement(new Dictionary<string, object> { ["text/plain"] = "1 < 2" }));
        code.Outputs.Add(new ErrorElement("code cell 1 (notebook cell 2), line 1: boom", "System.Exception", ["code cell 1 (notebook cell 2), line 1: boom", "\u001b[31m   at X\u001b[0m"]));

        string html = HtmlExporter.Export(nb, "My <notebook>");
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<title>My &lt;notebook&gt;</title>", html);
        Assert.Contains("<h2>Intro</h2>", html);
        Assert.Contains("<div class=\"prompt\">[3]:</div><pre class=\"source\"><code class=\"language-csharp\">var x = &quot;&lt;tag&gt;&quot;;</code></pre>", html);
        Assert.Contains("<pre class=\"output stream stdout\">a &lt; b\n</pre>", html);
        Assert.Contains("<div id=\"chart\"><script>var plotly = 1;</script></div>", html);
        Assert.Contains("<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"\">", html);
        Assert.Contains("<pre>1 &lt; 2</pre>", html);
        Assert.Contains("<pre class=\"output error\">System.Exception: code cell 1 (notebook cell 2), line 1: boom\n   at X</pre>", html);
        Assert.EndsWith("</html>\n", html);
    }
}
