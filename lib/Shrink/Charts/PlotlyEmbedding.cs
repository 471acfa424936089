namespace Shrink.Charts;

/// <summary>
/// Decides which chart output carries the 3.6 MB plotly.js. A notebook's outputs share one page (VS Code renders all
/// outputs into one webview DOM, JupyterLab into one document; an HTML export concatenates them), so plotly.js is inlined in the FIRST
/// chart of a session only and later charts reuse <c>window.Plotly</c> (their script waits for it briefly).
/// <para>
/// Session convention (the contract with the notebook runner, Shrink.Notebooks): at the start of each notebook the
/// runner calls <c>AppDomain.CurrentDomain.SetData("Shrink.Notebooks.SessionId", guidString)</c>. This class remembers
/// for which session id it last embedded plotly.js and embeds it again when the id changes, so every executed
/// notebook file is self-contained even when one process runs many notebooks. With no id set (null) — a .NET Interactive
/// kernel in Jupyter or VS Code, one process per notebook — plotly.js is embedded once per process.
/// </para>
/// </summary>
internal sealed class PlotlyEmbedding
{
    /// <summary>The <see cref="AppDomain"/> data key under which the runner stores the current session id.</summary>
    public const string SessionIdKey = "Shrink.Notebooks.SessionId";

    /// <summary>The process-wide instance the formatters use, reading the session id from the current AppDomain.</summary>
    public static PlotlyEmbedding Shared { get; } = new(() => AppDomain.CurrentDomain.GetData(SessionIdKey));

    private readonly Func<object?> _sessionId;
    private readonly Lock _gate = new();
    private bool _embedded;
    private string? _embeddedFor;

    /// <summary>An instance reading the current session id from <paramref name="sessionId"/> (tests pass their own).</summary>
    public PlotlyEmbedding(Func<object?> sessionId) => _sessionId = sessionId;

    /// <summary>
    /// True when the chart being rendered must carry plotly.js: nothing was embedded yet, or the session id changed
    /// since. Records the claim, so the next call in the same session returns false.
    /// </summary>
    public bool ClaimLibrary()
    {
        var id = _sessionId()?.ToString();
        lock (_gate)
        {
            if (_embedded && string.Equals(id, _embeddedFor, StringComparison.Ordinal)) return false;
            _embedded = true;
            _embeddedFor = id;
            return true;
        }
    }

    /// <summary>Forgets the last embedding: the next <see cref="ClaimLibrary"/> returns true.</summary>
    public void Reset()
    {
        lock (_gate) { _embedded = false; _embeddedFor = null; }
    }
}
