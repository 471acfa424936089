namespace Shrink.Tests;

/// <summary>
/// A new, empty folder under the system temp folder (<c>shrink-{prefix}-{guid}</c>) for one test or test class, deleted
/// with everything in it on <see cref="Dispose"/> (best effort: a file still open elsewhere leaves the folder behind).
/// </summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"shrink-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="name"/> inside the folder and returns its path.</summary>
    public string Write(string name, byte[] bytes)
    {
        var p = File(name);
        System.IO.File.WriteAllBytes(p, bytes);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
