namespace Shrink.Data;

/// <summary>Which copy of a dataset to load.</summary>
public enum DataSource
{
    /// <summary>The full dataset when one is found (search order of <see cref="FashionMnist.LoadFull(string, string?)"/>), else the bundled subset.</summary>
    Auto,
    /// <summary>The full dataset only; an error listing every place searched when none is found.</summary>
    Full,
    /// <summary>The bundled subset only (<c>data/fashion-mnist-subset/</c>).</summary>
    Subset,
}

/// <summary>
/// Fashion-MNIST (Zalando, MIT licence): 28×28 grey images of 10 clothing classes, 60,000 for training and
/// 10,000 for testing, in IDX files. Images load as (N, 1, 28, 28) bytes; labels 0..9 name <see cref="ClassNames"/>.
/// <para>
/// Search order for the full set (each place must hold the split's two standard files
/// <c>train-images-idx3-ubyte</c> + <c>train-labels-idx1-ubyte</c> or <c>t10k-images-idx3-ubyte</c> +
/// <c>t10k-labels-idx1-ubyte</c>, raw or with <c>.gz</c>):
/// (a) the folder in the environment variable <c>SHRINK_FASHION_MNIST</c> — when it is set it must hold the files;
/// (b) <c>data/fashion-mnist/</c> under the repository root (the nearest folder above the current directory,
/// the application folder or the Shrink assembly that holds <c>Notebooks.sln</c>);
/// (c) <c>/usr/share/datasets/fashion-mnist</c> (Debian's package <c>dataset-fashion-mnist</c>).
/// <see cref="DataSource.Auto"/> then falls back to (d) the bundled subset <c>data/fashion-mnist-subset/</c>
/// (1000 training and 200 test images per class; see data/README.md).
/// The returned dataset's <see cref="ImageDataset.Origin"/> says which one was used.
/// </para>
/// </summary>
public static class FashionMnist
{
    /// <summary>Environment variable naming a folder with the full dataset.</summary>
    public const string EnvironmentVariable = "SHRINK_FASHION_MNIST";

    /// <summary>Folder of the full dataset under the repository root.</summary>
    public const string RepositoryFolder = "data/fashion-mnist";

    /// <summary>Folder of the bundled subset under the repository root.</summary>
    public const string SubsetFolder = "data/fashion-mnist-subset";

    /// <summary>Where Debian's package <c>dataset-fashion-mnist</c> installs the files.</summary>
    public const string SystemFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>The 10 class names, index = label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Loads a split ("train" or "test") from the place chosen by <paramref name="source"/> (see the class remarks for the search order).</summary>
    /// <exception cref="FileNotFoundException">No copy was found; the message lists every place searched.</exception>
    /// <exception cref="DatasetFormatException">A file was found but is malformed.</exception>
    public static ImageDataset Load(string split = "train", DataSource source = DataSource.Auto) =>
        Load(split, source, SearchPlaces.Current());

    internal static ImageDataset Load(string split, DataSource source, SearchPlaces places) => source switch
    {
        DataSource.Subset => LoadSubset(split, places),
        DataSource.Full => LoadFull(split, null, places),
        _ => LoadAuto(split, places),
    };

    /// <summary>The places searched: the environment variable's value, the repository root and the system folder (tests substitute their own).</summary>
    internal readonly record struct SearchPlaces(string? EnvironmentValue, string? RepositoryRoot, string SystemFolder)
    {
        public static SearchPlaces Current() =>
            new(Environment.GetEnvironmentVariable(EnvironmentVariable), Data.RepositoryRoot.Find(), FashionMnist.SystemFolder);

        public string NoRoot => $"no {Data.RepositoryRoot.Marker} found above {string.Join(" or ", Data.RepositoryRoot.StartFolders())}";
    }

    /// <summary>
    /// Loads the full split from <paramref name="folder"/>, or when null from the first of (a) <c>SHRINK_FASHION_MNIST</c>,
    /// (b) <c>data/fashion-mnist/</c> under the repository root, (c) <c>/usr/share/datasets/fashion-mnist</c> that holds it.
    /// </summary>
    /// <exception cref="FileNotFoundException">Not found; the message lists every place searched and what was missing.</exception>
    public static ImageDataset LoadFull(string split = "train", string? folder = null) => LoadFull(split, folder, SearchPlaces.Current());

    internal static ImageDataset LoadFull(string split, string? folder, SearchPlaces places)
    {
        CheckSplit(split);
        if (folder is not null)
        {
            var files = FindFiles(folder, split, out var why);
            if (files is null) throw new FileNotFoundException($"Fashion-MNIST {split}: {why}");
            return Read(split, files.Value, new DatasetOrigin(DatasetOriginKind.Folder, Path.GetFullPath(folder), $"full Fashion-MNIST from {Path.GetFullPath(folder)}"));
        }
        var searched = new List<string>();
        var found = SearchFull(split, searched, places);
        if (found is not null) return found;
        throw new FileNotFoundException($"Fashion-MNIST {split}: the full dataset was not found. Searched, in order:\n  " + string.Join("\n  ", searched)
            + "\nInstall Debian's package dataset-fashion-mnist, or put the four IDX files in a folder and set " + EnvironmentVariable + " to it (see data/README.md).");
    }

    /// <summary>Loads the bundled subset (1000 training / 200 test images per class) from <c>data/fashion-mnist-subset/</c> under the repository root.</summary>
    /// <exception cref="FileNotFoundException">The repository root or the subset files were not found.</exception>
    public static ImageDataset LoadSubset(string split = "train") => LoadSubset(split, SearchPlaces.Current());

    internal static ImageDataset LoadSubset(string split, SearchPlaces places)
    {
        CheckSplit(split);
        var searched = new List<string>();
        var found = TrySubset(split, searched, places);
        return found ?? throw new FileNotFoundException($"Fashion-MNIST {split}: the bundled subset was not found: {searched[0]}");
    }

    /// <summary>Standard file names of a split: (images, labels) without the optional ".gz".</summary>
    public static (string Images, string Labels) FileNames(string split)
    {
        CheckSplit(split);
        string prefix = split == "train" ? "train" : "t10k";
        return ($"{prefix}-images-idx3-ubyte", $"{prefix}-labels-idx1-ubyte");
    }

    private static ImageDataset LoadAuto(string split, SearchPlaces places)
    {
        CheckSplit(split);
        var searched = new List<string>();
        var found = SearchFull(split, searched, places) ?? TrySubset(split, searched, places);
        if (found is not null) return found;
        throw new FileNotFoundException($"Fashion-MNIST {split}: no copy was found. Searched, in order:\n  " + string.Join("\n  ", searched)
            + "\nRun from inside the repository (for the bundled subset), install Debian's package dataset-fashion-mnist, or set " + EnvironmentVariable + " (see data/README.md).");
    }

    private static ImageDataset? SearchFull(string split, List<string> searched, SearchPlaces places)
    {
        // (a) environment variable: when set, it must be right.
        var env = places.EnvironmentValue;
        if (!string.IsNullOrWhiteSpace(env))
        {
            var files = FindFiles(env, split, out var why);
            if (files is null)
                throw new FileNotFoundException($"Fashion-MNIST {split}: {EnvironmentVariable} is set to '{env}' but {why} Unset it to use the default search order.");
            var full = Path.GetFullPath(env);
            return Read(split, files.Value, new DatasetOrigin(DatasetOriginKind.EnvironmentVariable, full, $"full Fashion-MNIST from {full} ({EnvironmentVariable})"));
        }
        searched.Add($"(a) environment variable {EnvironmentVariable}: not set");

        // (b) data/fashion-mnist/ under the repository root.
        var root = places.RepositoryRoot;
        if (root is null)
            searched.Add($"(b) {RepositoryFolder}/ under the repository root: {places.NoRoot}");
        else
        {
            var folder = Path.Combine(root, RepositoryFolder);
            var files = FindFiles(folder, split, out var why);
            if (files is not null)
                return Read(split, files.Value, new DatasetOrigin(DatasetOriginKind.Repository, folder, $"full Fashion-MNIST from {folder}"));
            searched.Add($"(b) {folder}: {why}");
        }

        // (c) Debian's package.
        {
            var sys = places.SystemFolder;
            var files = FindFiles(sys, split, out var why);
            if (files is not null)
                return Read(split, files.Value, new DatasetOrigin(DatasetOriginKind.SystemPackage, sys, $"full Fashion-MNIST from {sys} (Debian package dataset-fashion-mnist)"));
            searched.Add($"(c) {sys} (Debian package dataset-fashion-mnist): {why}");
        }
        return null;
    }

    private static ImageDataset? TrySubset(string split, List<string> searched, SearchPlaces places)
    {
        var root = places.RepositoryRoot;
        if (root is null)
        {
            searched.Add($"(d) bundled subset {SubsetFolder}/: {places.NoRoot}");
            return null;
        }
        var folder = Path.Combine(root, SubsetFolder);
        var files = FindFiles(folder, split, out var why);
        if (files is null) { searched.Add($"(d) bundled subset {folder}: {why}"); return null; }
        return Read(split, files.Value, new DatasetOrigin(DatasetOriginKind.BundledSubset, folder,
            $"bundled subset {folder} (first 1000 train / 200 test images per class of Fashion-MNIST)"));
    }

    private static ImageDataset Read(string split, (string Images, string Labels) files, DatasetOrigin origin)
    {
        var name = $"Fashion-MNIST {split}" + (origin.IsSubset ? " (subset)" : "");
        return IdxReader.ReadDataset(files.Images, files.Labels, ClassNames, name, origin);
    }

    /// <summary>The split's two files in <paramref name="folder"/> (each raw or .gz, raw preferred), or null with the reason.</summary>
    private static (string Images, string Labels)? FindFiles(string folder, string split, out string why)
    {
        if (!Directory.Exists(folder)) { why = $"folder {folder} does not exist."; return null; }
        var (imagesName, labelsName) = FileNames(split);
        string? images = Pick(folder, imagesName), labels = Pick(folder, labelsName);
        if (images is null || labels is null)
        {
            var missing = new List<string>();
            if (images is null) missing.Add($"{imagesName}(.gz)");
            if (labels is null) missing.Add($"{labelsName}(.gz)");
            why = $"folder {folder} lacks {string.Join(" and ", missing)}.";
            return null;
        }
        why = "";
        return (images, labels);
    }

    private static string? Pick(string folder, string name)
    {
        foreach (var candidate in new[] { name, name + ".gz", name.Replace("-idx", ".idx", StringComparison.Ordinal), name.Replace("-idx", ".idx", StringComparison.Ordinal) + ".gz" })
        {
            var p = Path.Combine(folder, candidate);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    private static void CheckSplit(string split)
    {
        if (split is not ("train" or "test"))
            throw new ArgumentException($"Fashion-MNIST split must be \"train\" or \"test\", got \"{split}\".", nameof(split));
    }
}
