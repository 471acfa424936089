using Shrink.Notebooks.Cli;

namespace Shrink.Notebooks.Tests;

/// <summary>Where the repository, the fixtures and the built Shrink library are.</summary>
internal static class TestPaths
{
    /// <summary>The repository root (the folder holding Notebooks.sln).</summary>
    public static string RepositoryRoot { get; } = NotebookCli.FindRepositoryRoot(AppContext.BaseDirectory);

    /// <summary>The build configuration folder name of this test run ("release" or "debug").</summary>
    public static string Configuration { get; } = Path.GetFileName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));

    /// <summary>Shrink.dll built in the same configuration as the tests.</summary>
    public static string ShrinkDll { get; } = Path.Combine(RepositoryRoot, "artifacts", "bin", "Shrink", Configuration, "Shrink.dll");

    /// <summary>A file under Fixtures/ (copied next to the tests).</summary>
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>A new empty folder under the system temp folder.</summary>
    public static string NewTempFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "shrink-nb-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
