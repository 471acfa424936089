namespace Shrink.Tests.Charts;

/// <summary>
/// Tests that render charts through the process-wide plotly.js embedding (PlotlyEmbedding.Shared) or set the
/// notebook session id in the AppDomain ("Shrink.Notebooks.SessionId"): they run alone, so no other test claims the
/// embedding or changes the session id between two of their renders.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NotebookSessionCollection
{
    public const string Name = "Notebook session (AppDomain data, plotly.js embedding)";

    private const string SessionIdKey = "Shrink.Notebooks.SessionId";

    /// <summary>Runs <paramref name="body"/> with the session id set to <paramref name="sessionId"/>, restoring the previous value after.</summary>
    public static void InSession(string? sessionId, Action body)
    {
        var previous = AppDomain.CurrentDomain.GetData(SessionIdKey);
        AppDomain.CurrentDomain.SetData(SessionIdKey, sessionId);
        try { body(); }
        finally { AppDomain.CurrentDomain.SetData(SessionIdKey, previous); }
    }
}
