namespace Shrink.Experiments;

/// <summary>
/// The folder of one run: <c>{root}/{RunName.For(hparams)}/</c> holding <c>hparams.json</c> and whatever the stage
/// writes (a <see cref="Shrink.Training.Trainer"/> writes <c>checkpoint.safetensors</c>, <c>model.safetensors</c>,
/// <c>result.json</c>, <c>log.jsonl</c>). Because the name is a hash of the non-default hyperparameters, running the
/// same configuration again finds the same folder, and a stage that sees its finished artifact there reuses it instead
/// of recomputing it (open_lth's runner). Converts implicitly to its path string.
/// <code>
/// var folder = RunFolder.For("runs", new TeacherRun { Dim = 96 });
/// var result = trainer.Fit(model, train, test, folder);
/// </code>
/// </summary>
public sealed class RunFolder
{
    /// <summary>File name of the saved hyperparameters.</summary>
    public const string HparamsFileName = "hparams.json";

    private RunFolder(string path, Hparams? hparams)
    {
        Path = path;
        Hparams = hparams;
    }

    /// <summary>The full path of the folder.</summary>
    public string Path { get; }

    /// <summary>The folder's name (for folders made by <see cref="For"/>, <see cref="RunName.For"/> of <see cref="Hparams"/>).</summary>
    public string Name => System.IO.Path.GetFileName(Path);

    /// <summary>The hyperparameters the folder was made for (null for <see cref="At"/>).</summary>
    public Hparams? Hparams { get; }

    /// <summary>
    /// The run folder of <paramref name="hparams"/> under <paramref name="root"/>: creates <c>{root}/{RunName.For(hparams)}</c>
    /// and writes <c>hparams.json</c> (atomically) when absent; when present, checks that it describes the same
    /// configuration (<see cref="RunName.Canonical"/>).
    /// </summary>
    /// <exception cref="RunFileException">The existing <c>hparams.json</c> is unreadable or describes other hyperparameters (a hash collision or a hand edit).</exception>
    public static RunFolder For(string root, Hparams hparams)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(hparams);
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(root, RunName.For(hparams)));
        Directory.CreateDirectory(path);
        var file = System.IO.Path.Combine(path, HparamsFileName);
        var expected = RunName.Canonical(hparams);
        if (System.IO.File.Exists(file))
        {
            var stored = RunName.Canonical(HparamsFile.Load(file, hparams.GetType()));
            if (stored != expected)
                throw new RunFileException(file, $"describes {stored}, but this folder was opened for {expected}. Delete the folder if it is stale.");
        }
        else HparamsFile.Save(file, hparams);
        return new RunFolder(path, hparams);
    }

    /// <summary>A run folder at an explicit path (created when missing), without hyperparameters of its own.</summary>
    public static RunFolder At(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(full);
        return new RunFolder(full, null);
    }

    /// <summary>The path of <paramref name="fileName"/> inside the folder.</summary>
    public string File(string fileName) => System.IO.Path.Combine(Path, fileName);

    /// <summary>True when <paramref name="fileName"/> exists in the folder.</summary>
    public bool Contains(string fileName) => System.IO.File.Exists(File(fileName));

    /// <summary>The folder's path (null for a null folder).</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(folder))]
    public static implicit operator string?(RunFolder? folder) => folder?.Path;

    /// <summary>The folder's path.</summary>
    public override string ToString() => Path;
}
