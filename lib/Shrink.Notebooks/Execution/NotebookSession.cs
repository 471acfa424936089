namespace Shrink.Notebooks.Execution;

/// <summary>
/// The notebook-session convention shared with libraries that render into notebooks (Shrink's charts): before a
/// notebook's first cell the runner stores a new GUID string with
/// <c>AppDomain.CurrentDomain.SetData("Shrink.Notebooks.SessionId", id)</c>, and restores the previous value when the
/// run ends. A library that must emit something once per notebook (charts embed plotly.js in their first output
/// only) compares this id with the one it last emitted for; a new id means a new notebook. Libraries read it by name
/// with <c>AppDomain.CurrentDomain.GetData</c>, with no reference to this assembly.
/// </summary>
public static class NotebookSession
{
    /// <summary>The AppDomain data key: <c>Shrink.Notebooks.SessionId</c>.</summary>
    public const string SessionIdKey = "Shrink.Notebooks.SessionId";

    /// <summary>The id of the notebook run in progress, or null outside one.</summary>
    public static string? CurrentId => AppDomain.CurrentDomain.GetData(SessionIdKey) as string;
}
