using System.Text;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Parameters;

/// <summary>
/// Papermill's parameter injection (<c>papermill/parameterize.py</c>), exactly: a new code cell tagged
/// <c>injected-parameters</c> whose source is <c>// Parameters</c> followed by one <c>var name = value;</c> line per
/// parameter replaces an existing <c>injected-parameters</c> cell in place; otherwise it goes right after the first
/// cell tagged <c>parameters</c>; with no such cell it goes at the top (with a warning). The values are recorded in
/// <c>metadata.papermill.parameters</c>. C# script semantics make it work: the injected <c>var x</c> shadows the
/// default declared in the <c>parameters</c> cell. Microsoft.DotNet.Interactive.Documents has no papermill support, so
/// this works on its cell list and metadata dictionaries directly (tags through <see cref="NotebookCells"/>).
/// </summary>
public static class ParameterInjector
{
    /// <summary>The tag of the cell holding the defaults.</summary>
    public const string ParametersTag = "parameters";

    /// <summary>The tag of the injected cell.</summary>
    public const string InjectedTag = "injected-parameters";

    /// <summary>The injected cell's source (papermill's <c>Translator.codify</c>): a comment line, then one line per parameter.</summary>
    public static string Codify(IEnumerable<NotebookParameter> parameters)
    {
        var sb = new StringBuilder("// Parameters\n");
        foreach (var p in Deduplicate(parameters))
            sb.Append(p.ToCSharpAssignment()).Append('\n');
        return sb.ToString();
    }

    /// <summary>Later values of the same name win, keeping the name's first position (a Python dict's behaviour).</summary>
    static List<NotebookParameter> Deduplicate(IEnumerable<NotebookParameter> parameters)
    {
        var list = new List<NotebookParameter>();
        foreach (var p in parameters)
        {
            int i = list.FindIndex(q => q.Name == p.Name);
            if (i >= 0) list[i] = p; else list.Add(p);
        }
        return list;
    }

    /// <summary>
    /// Injects <paramref name="parameters"/> into <paramref name="notebook"/> (nothing happens for an empty list, as in
    /// papermill); <paramref name="name"/> names the notebook in warnings. Returns the injected cell's index and any
    /// warnings.
    /// </summary>
    public static InjectionResult Inject(InteractiveDocument notebook, string name, IReadOnlyList<NotebookParameter> parameters)
    {
        if (parameters.Count == 0)
            return new InjectionResult(-1, []);
        var unique = Deduplicate(parameters);
        var warnings = new List<string>();
        var cells = notebook.Elements;
        var cell = NotebookCells.NewCode(Codify(unique), KernelNames.CSharp, InjectedTag);

        int injected = IndexOf(cells, InjectedTag);
        int defaults = IndexOf(cells, ParametersTag);
        int index;
        if (injected >= 0)
        {
            cells.RemoveAt(injected);
            index = injected;
        }
        else if (defaults >= 0)
            index = defaults + 1;
        else
        {
            index = 0;
            warnings.Add($"{name} has no cell tagged \"{ParametersTag}\"; the parameters cell was injected at the top");
        }
        cells.Insert(index, cell);

        if (defaults >= 0)
        {
            string defaultsSource = cells[defaults].Contents;
            foreach (var p in unique)
                if (!Regex.IsMatch(defaultsSource, $@"\b{Regex.Escape(p.Name)}\b"))
                    warnings.Add($"{name}: parameter \"{p.Name}\" does not appear in the \"{ParametersTag}\" cell (a new variable, not an override)");
        }

        if (notebook.Metadata.TryGetValue("papermill", out var existing) && existing is IDictionary<string, object> papermill)
            papermill["parameters"] = Recorded(unique);
        else
            notebook.Metadata["papermill"] = new Dictionary<string, object> { ["parameters"] = Recorded(unique) };
        return new InjectionResult(index, warnings);
    }

    static Dictionary<string, object> Recorded(List<NotebookParameter> parameters) =>
        parameters.ToDictionary(p => p.Name, p => p.ToMetadataValue());

    static int IndexOf(IList<InteractiveDocumentElement> cells, string tag)
    {
        for (int i = 0; i < cells.Count; i++)
            if (cells[i].IsCode() && cells[i].HasTag(tag))
                return i;
        return -1;
    }
}

/// <summary>Where the parameters cell went and what to warn about.</summary>
/// <param name="CellIndex">0-based index of the injected cell, or -1 when nothing was injected.</param>
/// <param name="Warnings">Messages for the user (no <c>parameters</c> cell, unknown parameter names).</param>
public sealed record InjectionResult(int CellIndex, IReadOnlyList<string> Warnings);
