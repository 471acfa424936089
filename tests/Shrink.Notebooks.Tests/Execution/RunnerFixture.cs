using Microsoft.DotNet.Interactive.Documents;
using Shrink.Notebooks.Execution;
using Shrink.Notebooks.Model;

namespace Shrink.Notebooks.Tests.Execution;

/// <summary>
/// Runs one notebook that exercises most of the runner once (the kernel's first compile costs seconds), with
/// <c>KeepGoing</c>, in its own temp folder; the tests in <see cref="RunnerTests"/> inspect its cells.
/// </summary>
public sealed class RunnerFixture
{
    /// <summary>The code cells, by name; each test looks its cell up by name.</summary>
    public static readonly (string Name, string Source)[] Cells =
    [
        ("params", "int n = 3;"),
        ("state", "var doubled = n * 2;"),
        ("expression", "doubled"),
        ("statement", "doubled.ToString();"),
        ("void-expression", "Console.Write(\"\")"),
        ("console", "Console.WriteLine(\"out 1\");\nConsole.Error.WriteLine(\"err 1\");\ndisplay(\"shown\");\ndisplay(HTML(\"<b>bold</b>\"));\nConsole.Write(\"out 2\");"),
        ("convention", $"#r \"{typeof(RunnerFixture).Assembly.Location}\"\nnew Shrink.Notebooks.Tests.Formatting.Gauge(0.25)"),
        ("compile-error", "var ok = 1;\nvar broken = ok + missing;"),
        ("define", "int Divide(int a, int b) => a / b;"),
        ("throw", "var x = 1;\n\nthrow new InvalidOperationException(\"boom\");"),
        ("throw-in-earlier-cell", "var y = 0;\nvar q = Divide(1, y);"),
        ("time", "#!time\nvar t = 1;"),
        ("unknown-magic", "// comment\n#!frobnicate"),
        ("fsharp", "let a = 1"),
        // TorchSharp.dll (and libtorch's natives) sit beside Shrink.dll: the #r of Shrink.dll alone must resolve them, at
        // compile time (the cell names TorchSharp's types) and at run time (touching a Shrink type loads the natives).
        ("relative-r", "#r \"{RELATIVE_SHRINK}\"\nShrink.Torch.TorchNative.EnsureLoaded();\nTorchSharp.torch.ones(2, 2).sum().item<float>()"),
        ("cwd", "System.IO.File.ReadAllText(\"data.txt\") + \"|\" + Environment.CurrentDirectory"),
        ("session", "AppDomain.CurrentDomain.GetData(\"Shrink.Notebooks.SessionId\")"),
        ("await-void", "await Task.Delay(1)"),
        ("await-value", "await Task.FromResult(5)"),
        ("null", "(object)null"),
        ("after-failures", "n + doubled"),
    ];

    public RunnerFixture()
    {
        Folder = TestPaths.NewTempFolder();
        File.WriteAllText(Path.Combine(Folder, "data.txt"), "hello");
        var nb = NotebookBuilder.Create("md:# Fixture");
        foreach (var (name, source) in Cells)
        {
            var cell = name == "params"
                ? NotebookCells.NewCode(source, KernelNames.CSharp, "parameters")
                : NotebookCells.NewCode(source.Replace("{RELATIVE_SHRINK}", Path.GetRelativePath(Folder, TestPaths.ShrinkDll).Replace('\\', '/')),
                    name == "fsharp" ? "fsharp" : KernelNames.CSharp);
            nb.Add(cell);
        }
        Path_ = NotebookBuilder.Save(nb, Folder, "fixture.ipynb");
        SourceBytes = File.ReadAllBytes(Path_);

        DirectoryBefore = Environment.CurrentDirectory;
        ConsoleOutBefore = Console.Out;
        Result = NotebookRunner.RunAsync(Path_, options: new NotebookRunOptions { KeepGoing = true }).GetAwaiter().GetResult();
        DirectoryAfter = Environment.CurrentDirectory;
        ConsoleOutAfter = Console.Out;
        SessionAfter = NotebookSession.CurrentId;
    }

    public string Folder { get; }
    public string Path_ { get; }
    public byte[] SourceBytes { get; }
    public NotebookRunResult Result { get; }
    public string DirectoryBefore { get; }
    public string DirectoryAfter { get; }
    public TextWriter ConsoleOutBefore { get; }
    public TextWriter ConsoleOutAfter { get; }
    public string? SessionAfter { get; }

    /// <summary>The executed cell with the given name.</summary>
    public InteractiveDocumentElement Cell(string name) => Result.Notebook.Elements[Index(name)];

    /// <summary>The run result of the cell with the given name.</summary>
    public CellRunResult CellResult(string name) => Result.Cells.Single(c => c.CellIndex == Index(name));

    /// <summary>The 1-based code cell number of the named cell.</summary>
    public static int CodeNumber(string name) => Array.FindIndex(Cells, c => c.Name == name) + 1;

    static int Index(string name) => CodeNumber(name);   // 0-based index: the markdown cell comes first; no injection
}
