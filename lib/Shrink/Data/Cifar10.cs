namespace Shrink.Data;

/// <summary>
/// CIFAR-10 (Krizhevsky 2009), binary version: 32×32 colour images of 10 classes, 50,000 for training in
/// <c>data_batch_1.bin</c> … <c>data_batch_5.bin</c> and 10,000 for testing in <c>test_batch.bin</c>.
/// Nothing is downloaded: get <c>cifar-10-binary.tar.gz</c> from https://www.cs.toronto.edu/~kriz/cifar.html and
/// extract it (see data/README.md). Images load as (N, 3, 32, 32) bytes; use <see cref="Normalization.Cifar10"/>.
/// </summary>
public static class Cifar10
{
    /// <summary>The 10 class names, index = label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>Files of a split: the five data batches for "train", <c>test_batch.bin</c> for "test".</summary>
    public static IReadOnlyList<string> FileNames(string split) => split switch
    {
        "train" => ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
        "test" => ["test_batch.bin"],
        _ => throw new ArgumentException($"CIFAR-10 split must be \"train\" or \"test\", got \"{split}\".", nameof(split)),
    };

    /// <summary>
    /// Loads a split from <paramref name="folder"/> (the extracted <c>cifar-10-batches-bin</c> folder, or a folder
    /// containing it). All of the split's files must be present.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file of the split is missing (the message lists which).</exception>
    /// <exception cref="DatasetFormatException">A file is malformed (bad length, label outside 0..9).</exception>
    public static ImageDataset Load(string folder, string split = "train")
    {
        var names = FileNames(split);
        var dir = folder;
        if (!File.Exists(Path.Combine(dir, names[0])) && File.Exists(Path.Combine(folder, "cifar-10-batches-bin", names[0])))
            dir = Path.Combine(folder, "cifar-10-batches-bin");
        var paths = names.Select(n => Path.Combine(dir, n)).ToArray();
        var missing = paths.Where(p => !File.Exists(p)).ToArray();
        if (missing.Length > 0)
            throw new FileNotFoundException($"CIFAR-10 {split}: missing {string.Join(", ", missing)} (expected the binary version's files in {Path.GetFullPath(dir)}).", missing[0]);

        var counts = paths.Select(Cifar10Reader.CountRecords).ToArray();
        long total = counts.Sum(c => (long)c);
        if (total * Cifar10Reader.ImageBytes > Array.MaxLength)
            throw new DatasetFormatException(paths[0], $"the split's {total} records do not fit in one array.");
        var pixels = GC.AllocateUninitializedArray<byte>((int)total * Cifar10Reader.ImageBytes);
        var labels = new int[total];
        int start = 0;
        for (int f = 0; f < paths.Length; f++)
        {
            Cifar10Reader.ReadInto(paths[f], counts[f],
                pixels.AsSpan(start * Cifar10Reader.ImageBytes, counts[f] * Cifar10Reader.ImageBytes), labels.AsSpan(start, counts[f]));
            start += counts[f];
        }
        var full = Path.GetFullPath(dir);
        return new ImageDataset($"CIFAR-10 {split}", pixels, labels, 3, 32, 32, ClassNames,
            new DatasetOrigin(DatasetOriginKind.Folder, full, $"CIFAR-10 binary version from {full}"));
    }
}
