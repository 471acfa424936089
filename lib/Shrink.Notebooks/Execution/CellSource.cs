using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// A C# cell's source prepared for Roslyn: the magic commands the runner understands are taken out (their lines
/// become blank, so line numbers in diagnostics stay those of the cell), and the ones it cannot honour are reported.
/// <list type="bullet">
/// <item><c>#!csharp</c> (or <c>#!c#</c>) on the first line: dropped.</item>
/// <item><c>#!time</c> at the top of the cell: time the cell and print "Wall time: …ms" on stdout, as .NET Interactive does.</item>
/// <item><c>#r "nuget:…"</c> and <c>#i "nuget:…"</c>: refused (no package restore here).</item>
/// <item>any other <c>#!magic</c> line: refused as unsupported.</item>
/// </list>
/// <c>#r "path.dll"</c> and <c>#load</c> stay in the code for Roslyn, which resolves them against the notebook's folder.
/// </summary>
internal sealed partial class CellSource
{
    /// <summary>The message for <c>#r "nuget:…"</c>, shared by the runner and its tests.</summary>
    public const string NuGetUnavailable =
        "NuGet packages cannot be restored here: the Shrink.Notebooks runner has no package restore (build machines are offline). " +
        "Our notebooks reference the built library instead: #r \"../artifacts/bin/Shrink/release/Shrink.dll\" " +
        "(built by `dotnet build -c Release lib/Shrink`).";

    CellSource(string code, bool timed, IReadOnlyList<(int Line, string Message)> problems)
    {
        Code = code;
        Timed = timed;
        Problems = problems;
    }

    /// <summary>The code to compile (same number of lines as the cell).</summary>
    public string Code { get; }

    /// <summary>Whether the cell starts with <c>#!time</c>.</summary>
    public bool Timed { get; }

    /// <summary>Magic commands that cannot run here: 1-based line within the cell and a message.</summary>
    public IReadOnlyList<(int Line, string Message)> Problems { get; }

    [GeneratedRegex(@"^\s*#[ri]\s+""\s*nuget\s*:", RegexOptions.IgnoreCase)]
    private static partial Regex NuGetDirective();

    public static CellSource Prepare(string source, JsonObject? kernelInfo = null)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        bool timed = false;
        bool atTop = true;
        var problems = new List<(int, string)>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            string trimmed = line.Trim();
            if (trimmed.Length == 0)
                continue;
            if (line.StartsWith("#!", StringComparison.Ordinal))
            {
                string magic = trimmed[2..].Split(' ', 2)[0];
                if (atTop && KernelNames.IsKnown(magic, kernelInfo) && KernelNames.Canonical(magic, kernelInfo) == KernelNames.CSharp && trimmed.Length == magic.Length + 2)
                    lines[i] = "";
                else if (atTop && trimmed == "#!time")
                {
                    timed = true;
                    lines[i] = "";
                }
                else
                    problems.Add((i + 1, $"the magic command `{trimmed}` is not supported by the Shrink.Notebooks runner (it understands #!time and #!csharp at the top of a cell)"));
                continue;
            }
            atTop = false;
            if (NuGetDirective().IsMatch(line))
                problems.Add((i + 1, $"`{trimmed}`: {NuGetUnavailable}"));
        }
        return new CellSource(string.Join("\n", lines), timed, problems);
    }
}

