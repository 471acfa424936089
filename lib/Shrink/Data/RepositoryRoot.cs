namespace Shrink.Data;

/// <summary>Finds the Shrink repository root: the nearest folder holding <c>Notebooks.sln</c>.</summary>
public static class RepositoryRoot
{
    /// <summary>The marker file that identifies the repository root.</summary>
    public const string Marker = "Notebooks.sln";

    /// <summary>
    /// The folders the search starts from, in order: the current directory, <see cref="AppContext.BaseDirectory"/>
    /// and the folder of the Shrink assembly (notebooks reference it under the repository's artifacts/).
    /// </summary>
    public static IReadOnlyList<string> StartFolders()
    {
        var starts = new List<string>();
        void Add(string? s)
        {
            if (string.IsNullOrEmpty(s)) return;
            try { s = Path.GetFullPath(s); } catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException or System.Security.SecurityException) { return; }
            if (!starts.Contains(s)) starts.Add(s);
        }
        try { Add(Directory.GetCurrentDirectory()); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        Add(AppContext.BaseDirectory);
        Add(Path.GetDirectoryName(typeof(RepositoryRoot).Assembly.Location));
        return starts;
    }

    /// <summary>The repository root found by walking up from each of <see cref="StartFolders"/>, or null.</summary>
    public static string? Find()
    {
        foreach (var start in StartFolders())
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, Marker))) return dir.FullName;
            }
        }
        return null;
    }
}
