using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Shrink.Notebooks.Tests.Jupyter;

/// <summary>
/// The top-level <c>environment.yml</c> (conda) parses and lists what the README's Jupyter route needs (a front end,
/// Jupyter's client, papermill) and every third-party module that the repository's Python scripts import, each with a
/// version constraint.
/// </summary>
public class EnvironmentFileTests
{
    // Conda package names the Jupyter route needs: JupyterLab and Notebook to open the suite, jupyter_client for
    // `jupyter kernelspec` (which `dotnet interactive jupyter install` calls), nbformat + nbclient for headless runs
    // (scripts/jupyter_run.py), papermill for its parameter convention.
    private static readonly string[] JupyterRoute = ["python", "jupyterlab", "notebook", "jupyter_client", "nbformat", "nbclient", "papermill"];

    // Python modules whose conda package has another name.
    private static readonly Dictionary<string, string> PackageOfModule = new(StringComparer.Ordinal) { ["torch"] = "pytorch" };

    // Standard-library modules (not packages) that the scripts may import.
    private static readonly HashSet<string> StandardLibrary = new(StringComparer.Ordinal)
    {
        "__future__", "argparse", "array", "base64", "collections", "contextlib", "copy", "csv", "dataclasses", "datetime",
        "functools", "glob", "gzip", "hashlib", "io", "itertools", "json", "logging", "math", "os", "pathlib", "platform",
        "random", "re", "shutil", "struct", "subprocess", "sys", "tempfile", "textwrap", "time", "typing", "unittest",
        "urllib", "warnings", "zlib",
    };

    [Fact]
    public void ParsesAndListsTheJupyterRoute()
    {
        var (name, channels, packages) = Load();
        Assert.False(string.IsNullOrWhiteSpace(name), "environment.yml has no 'name'");
        Assert.Contains("conda-forge", channels);
        foreach (var package in JupyterRoute)
            Assert.True(packages.ContainsKey(package), $"environment.yml does not list {package}, which the README's Jupyter route needs");
        Assert.True(packages["python"].StartsWith('=') || packages["python"].StartsWith(">=", StringComparison.Ordinal),
            $"environment.yml pins python loosely or not at all: '{packages["python"]}'");
    }

    [Fact]
    public void EveryPackageHasAVersionConstraint()
    {
        var (_, _, packages) = Load();
        var unpinned = packages.Where(p => p.Value.Length == 0).Select(p => p.Key).ToList();
        Assert.True(unpinned.Count == 0, $"environment.yml lists packages without a version: {string.Join(", ", unpinned)}");
    }

    [Fact]
    public void ListsWhatThePythonScriptsImport()
    {
        var (_, _, packages) = Load();
        var scripts = Directory.GetFiles(Path.Combine(TestPaths.RepositoryRoot, "tests", "golden"), "*.py")
            .Append(Path.Combine(TestPaths.RepositoryRoot, "scripts", "jupyter_run.py"))
            .Where(File.Exists).ToList();
        Assert.NotEmpty(scripts);
        var missing = new List<string>();
        foreach (var script in scripts)
            foreach (var module in ImportedModules(File.ReadAllText(script)))
            {
                if (StandardLibrary.Contains(module)) continue;
                string package = PackageOfModule.GetValueOrDefault(module, module);
                if (!packages.ContainsKey(package))
                    missing.Add($"{Path.GetRelativePath(TestPaths.RepositoryRoot, script)} imports {module} (conda package {package})");
            }
        Assert.True(missing.Count == 0, "environment.yml misses what the scripts import (add the package, or the module to " +
                                        "StandardLibrary in this test if it is one):\n" + string.Join("\n", missing));
    }

    // Top-level module names of `import a, b.c` and `from a.b import c` lines (indented ones included).
    private static IEnumerable<string> ImportedModules(string source)
    {
        foreach (Match m in Regex.Matches(source, @"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b|import[ \t]+([^\n#;]+))", RegexOptions.Multiline))
        {
            if (m.Groups[1].Success)
                yield return m.Groups[1].Value.Split('.')[0];
            else
                foreach (var part in m.Groups[2].Value.Split(','))
                {
                    var module = part.Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
                    if (module is not null && !module.StartsWith('(')) yield return module.Split('.')[0];
                }
        }
    }

    // (name, channels, package → version constraint text, "" when none) of environment.yml.
    private static (string? Name, List<string> Channels, Dictionary<string, string> Packages) Load()
    {
        string path = Path.Combine(TestPaths.RepositoryRoot, "environment.yml");
        Assert.True(File.Exists(path), $"{path} is missing");
        var yaml = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(path))) yaml.Load(reader);
        Assert.True(yaml.Documents.Count == 1, $"environment.yml holds {yaml.Documents.Count} YAML documents, expected 1");
        var root = Assert.IsType<YamlMappingNode>(yaml.Documents[0].RootNode);
        string? name = (Child(root, "name") as YamlScalarNode)?.Value;
        var channels = (Child(root, "channels") as YamlSequenceNode)?.Children
            .OfType<YamlScalarNode>().Select(c => c.Value ?? "").ToList() ?? [];
        var dependencies = Assert.IsType<YamlSequenceNode>(Child(root, "dependencies"));
        var packages = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in dependencies.Children)
        {
            // A nested `- pip: [...]` list is allowed by conda; its entries are pip's, not conda packages.
            if (item is not YamlScalarNode { Value: { } spec }) continue;
            var m = Regex.Match(spec.Trim(), @"^(?:[\w.-]+::)?([A-Za-z0-9_.-]+)\s*(.*)$");
            Assert.True(m.Success, $"environment.yml: cannot read the dependency '{spec}'");
            Assert.True(packages.TryAdd(m.Groups[1].Value, m.Groups[2].Value.Trim()), $"environment.yml lists {m.Groups[1].Value} twice");
        }
        return (name, channels, packages);
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;
}
