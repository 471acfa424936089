using System.Text;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// Turns the kernel's events for one cell into notebook outputs, in the order they happened, as a Jupyter front end
/// shows them: standard output and error become <c>stream</c> outputs (consecutive writes to one stream merge), a
/// <c>DisplayedValueProduced</c> becomes <c>display_data</c> and a later <c>DisplayedValueUpdated</c> with the same
/// value id replaces its data, a <c>ReturnValueProduced</c> becomes <c>execute_result</c>. Each keeps the formatted
/// values the kernel produced (MIME type → text); a return value also gets <c>text/plain</c> when the kernel gave only
/// HTML, since Jupyter expects a plain rendering of every result.
/// </summary>
internal sealed class CellOutputs
{
    readonly List<InteractiveDocumentOutputElement> _outputs = [];
    readonly Dictionary<string, DisplayElement> _displays = new(StringComparer.Ordinal);
    readonly int _executionOrder;

    public CellOutputs(int executionOrder) => _executionOrder = executionOrder;

    /// <summary>The outputs so far.</summary>
    public IReadOnlyList<InteractiveDocumentOutputElement> Outputs => _outputs;

    /// <summary>Takes one event of the cell's command; events that are not outputs are ignored.</summary>
    public void Add(KernelEvent e)
    {
        switch (e)
        {
            case StandardOutputValueProduced o:
                Stream("stdout", Text(o));
                break;
            case StandardErrorValueProduced o:
                Stream("stderr", Text(o));
                break;
            case DisplayedValueUpdated u when u.ValueId is not null && _displays.TryGetValue(u.ValueId, out var shown):
                shown.Data.Clear();
                foreach (var (mime, value) in Bundle(u))
                    shown.Data[mime] = value;
                break;
            case DisplayedValueProduced d:
                var display = new DisplayElement(Bundle(d));
                if (d.ValueId is not null)
                    _displays[d.ValueId] = display;
                _outputs.Add(display);
                break;
            case ReturnValueProduced r:
                var result = new ReturnValueElement { ExecutionOrder = _executionOrder };
                foreach (var (mime, value) in Bundle(r))
                    result.Data[mime] = value;
                if (!result.Data.ContainsKey(PlainTextFormatter.MimeType))
                    result.Data[PlainTextFormatter.MimeType] = r.Value.ToDisplayString(PlainTextFormatter.MimeType);
                _outputs.Add(result);
                break;
        }
    }

    /// <summary>Appends an error output.</summary>
    public void Add(ErrorElement error) => _outputs.Add(error);

    void Stream(string name, string text)
    {
        if (text.Length == 0)
            return;
        if (_outputs.Count > 0 && _outputs[^1] is TextElement last && last.Name == name)
            _outputs[^1] = new TextElement(last.Text + text, name);
        else
            _outputs.Add(new TextElement(text, name));
    }

    static string Text(DisplayEvent e)
    {
        var sb = new StringBuilder();
        foreach (var value in e.FormattedValues)
            sb.Append(value.Value);
        return sb.ToString();
    }

    static Dictionary<string, object> Bundle(DisplayEvent e)
    {
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var value in e.FormattedValues)
            data[value.MimeType] = value.Value;
        return data;
    }
}
