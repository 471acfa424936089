using System.Text;
using Shrink.Notebooks.Formatting;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// Collects a cell's outputs in the order they happen: console text (consecutive writes to the same stream merge into
/// one <c>stream</c> output), displayed values and errors. Thread-safe: cell code may write from worker threads.
/// </summary>
internal sealed class OutputCollector
{
    readonly object _lock = new();
    readonly List<object> _items = [];   // StreamItem | MimeBundle | NotebookOutput (error)

    sealed class StreamItem(string name)
    {
        public string Name { get; } = name;
        public StringBuilder Text { get; } = new();
    }

    /// <summary>A writer that appends to the <c>stdout</c> or <c>stderr</c> stream output.</summary>
    public TextWriter CreateWriter(string streamName) => new CaptureWriter(this, streamName);

    public void Write(string streamName, string text)
    {
        if (text.Length == 0)
            return;
        lock (_lock)
        {
            if (_items.Count > 0 && _items[^1] is StreamItem last && last.Name == streamName)
                last.Text.Append(text);
            else
            {
                var item = new StreamItem(streamName);
                item.Text.Append(text);
                _items.Add(item);
            }
        }
    }

    public void Display(MimeBundle bundle)
    {
        lock (_lock)
            _items.Add(bundle);
    }

    public void Error(NotebookOutput error)
    {
        lock (_lock)
            _items.Add(error);
    }

    public IReadOnlyList<NotebookOutput> ToOutputs()
    {
        lock (_lock)
            return _items.Select(item => item switch
            {
                StreamItem s => NotebookOutput.Stream(s.Name, s.Text.ToString()),
                MimeBundle b => NotebookOutput.DisplayData(b),
                NotebookOutput o => o,
                _ => throw new InvalidOperationException("unknown output item"),
            }).ToList();
    }

    sealed class CaptureWriter(OutputCollector owner, string streamName) : TextWriter
    {
        public override Encoding Encoding => Encoding.UTF8;
        public override void Write(char value) => owner.Write(streamName, value.ToString());
        public override void Write(string? value) => owner.Write(streamName, value ?? "");
        public override void Write(char[] buffer, int index, int count) => owner.Write(streamName, new string(buffer, index, count));
        public override void Write(ReadOnlySpan<char> buffer) => owner.Write(streamName, new string(buffer));
        public override void WriteLine(string? value) => owner.Write(streamName, (value ?? "") + CoreNewLineStr);
        string CoreNewLineStr => new(CoreNewLine);
    }
}
