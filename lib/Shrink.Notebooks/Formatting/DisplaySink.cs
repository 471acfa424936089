namespace Shrink.Notebooks.Formatting;

/// <summary>Where <see cref="Display.display"/> sends bundles while a cell runs (set by the runner, one run at a time).</summary>
internal static class DisplaySink
{
    static volatile Action<MimeBundle>? _current;

    public static Action<MimeBundle>? Current
    {
        get => _current;
        set => _current = value;
    }
}
