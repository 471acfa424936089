using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;


namespace Shrink.Notebooks.Parameters;

/// <summary>
/// One notebook parameter (<c>-p name=value</c>), typed the way papermill types command-line values
/// (<c>papermill/cli.py: _resolve_type</c>): <c>True</c>/<c>False</c> are booleans, then anything Python's
/// <c>int()</c> accepts is an integer, then anything <c>float()</c> accepts is a float, else the text is a string.
/// Two deliberate differences, both because the target is C#: lower-case <c>true</c>/<c>false</c> are booleans too
/// (so <c>-p quick=true</c> gives <c>var quick = true;</c>), and <c>None</c> is refused (papermill's C# translator
/// raises for it as well; use <c>-r name=None</c> for the string).
/// </summary>
public sealed partial record NotebookParameter
{
    NotebookParameter(string name, object value)
    {
        Name = name;
        Value = value;
    }

    /// <summary>The variable name (a C# identifier).</summary>
    public string Name { get; }

    /// <summary>The value: <see cref="bool"/>, <see cref="long"/>, <see cref="double"/> or <see cref="string"/>.</summary>
    public object Value { get; }

    [GeneratedRegex(@"^[+-]?\d+(_\d+)*$")]
    private static partial Regex PythonInt();

    [GeneratedRegex(@"^[+-]?((\d+(_\d+)*)(\.(\d+(_\d+)*)?)?|\.\d+(_\d+)*)([eE][+-]?\d+(_\d+)*)?$")]
    private static partial Regex PythonFloat();

    [GeneratedRegex(@"^[+-]?(inf|infinity|nan)$", RegexOptions.IgnoreCase)]
    private static partial Regex PythonSpecialFloat();

    /// <summary>A parameter with a value already typed (bool, any integer type, float/double, or string).</summary>
    public static NotebookParameter Create(string name, object value)
    {
        CheckName(name);
        object typed = value switch
        {
            bool or string or long or double => value,
            int or short or sbyte or byte or ushort or uint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
            float f => (double)f,
            _ => throw new ArgumentException($"parameter {name}: values must be bool, integer, floating-point or string (got {value.GetType().Name})", nameof(value)),
        };
        return new NotebookParameter(name, typed);
    }

    /// <summary>Parses <c>name=value</c> and types the value as papermill does (see the type's remarks).</summary>
    /// <exception cref="FormatException">No <c>=</c>, an invalid name, <c>None</c>, or an integer beyond a C# long.</exception>
    public static NotebookParameter Parse(string assignment)
    {
        var (name, text) = Split(assignment);
        return new NotebookParameter(name, ResolveType(name, text));
    }

    /// <summary>Parses <c>name=value</c> keeping the value as a string (papermill's <c>-r</c>).</summary>
    public static NotebookParameter ParseRaw(string assignment)
    {
        var (name, text) = Split(assignment);
        return new NotebookParameter(name, text);
    }

    static (string Name, string Text) Split(string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0)
            throw new FormatException($"parameter \"{assignment}\" must be written name=value (for example -p quick=true)");
        string name = assignment[..eq].Trim();
        CheckName(name);
        return (name, assignment[(eq + 1)..]);
    }

    static void CheckName(string name)
    {
        if (!SyntaxFacts.IsValidIdentifier(name))
            throw new FormatException($"parameter name \"{name}\" is not a C# identifier");
        if (SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None)
            throw new FormatException($"parameter name \"{name}\" is a C# keyword");
    }

    static object ResolveType(string name, string text)
    {
        if (text is "True" or "true") return true;
        if (text is "False" or "false") return false;
        if (text == "None")
            throw new FormatException($"parameter {name}=None: C# parameters cannot be null (papermill's C# translator refuses None too); use -r {name}=None for the string \"None\"");
        string stripped = text.Trim();
        if (PythonInt().IsMatch(stripped))
        {
            var big = BigInteger.Parse(stripped.Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            if (big < long.MinValue || big > long.MaxValue)
                throw new FormatException($"parameter {name}={text}: the integer does not fit in a C# long");
            return (long)big;
        }
        if (PythonFloat().IsMatch(stripped) && stripped.Any(char.IsDigit))
            return double.Parse(stripped.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture);
        if (PythonSpecialFloat().IsMatch(stripped))
        {
            bool negative = stripped.StartsWith('-');
            return stripped.TrimStart('+', '-').StartsWith("n", StringComparison.OrdinalIgnoreCase)
                ? double.NaN
                : negative ? double.NegativeInfinity : double.PositiveInfinity;
        }
        return text;
    }

    /// <summary>
    /// The value as papermill's <c>CSharpTranslator</c> writes it: <c>true</c>/<c>false</c>; integers as digits with
    /// an <c>L</c> suffix outside int32; floats as Python's <c>repr</c> (<c>0.001</c>, <c>100000.0</c>, <c>1e-05</c>);
    /// strings in double quotes with Python's <c>unicode_escape</c> escapes. Where papermill's text would not compile
    /// as C# this writes the C# equivalent instead: <c>\u00e9</c> for papermill's <c>\xe9</c>, and
    /// <c>double.NaN</c>/<c>double.PositiveInfinity</c>/<c>double.NegativeInfinity</c> for <c>nan</c>/<c>inf</c>.
    /// </summary>
    public string ToCSharpLiteral() => Value switch
    {
        bool b => b ? "true" : "false",
        long l => l > int.MaxValue || l < int.MinValue
            ? l.ToString(CultureInfo.InvariantCulture) + "L"
            : l.ToString(CultureInfo.InvariantCulture),
        double d when double.IsNaN(d) => "double.NaN",
        double d when double.IsPositiveInfinity(d) => "double.PositiveInfinity",
        double d when double.IsNegativeInfinity(d) => "double.NegativeInfinity",
        double d => PythonFloatText.Python(d),
        string s => StringLiteral(s),
        _ => throw new InvalidOperationException("unreachable"),
    };

    /// <summary><c>var name = literal;</c> (papermill's <c>CSharpTranslator.assign</c>).</summary>
    public string ToCSharpAssignment() => $"var {Name} = {ToCSharpLiteral()};";

    /// <summary>
    /// The value as it is recorded in <c>metadata.papermill.parameters</c> (a bool, long, double or string; non-finite
    /// floats as Python spells them, since JSON has no NaN or infinity).
    /// </summary>
    public object ToMetadataValue() => Value switch
    {
        double d when !double.IsFinite(d) => PythonFloatText.Python(d),
        _ => Value,
    };

    /// <summary>Python's <c>'"{}"'.format(s.encode('unicode_escape').decode().replace('"', '\\"'))</c>, made valid C#.</summary>
    internal static string StringLiteral(string s)
    {
        var sb = new StringBuilder("\"");
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            int cp = c;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                cp = char.ConvertToUtf32(c, s[i + 1]);
                i++;
            }
            switch (cp)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\t': sb.Append(@"\t"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                case >= 0x20 and < 0x7f: sb.Append((char)cp); break;
                case < 0x10000: sb.Append(@"\u").Append(cp.ToString("x4", CultureInfo.InvariantCulture)); break;
                default: sb.Append(@"\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture)); break;
            }
        }
        return sb.Append('"').ToString();
    }
}
