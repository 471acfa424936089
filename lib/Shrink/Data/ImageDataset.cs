using System.Globalization;
using System.Runtime.InteropServices;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Data;

/// <summary>Where a dataset's files were found.</summary>
public enum DatasetOriginKind
{
    /// <summary>Built in memory (a subset of another dataset, synthetic data, a test).</summary>
    Memory,
    /// <summary>A folder given explicitly by the caller.</summary>
    Folder,
    /// <summary>The folder named by an environment variable (e.g. <c>SHRINK_FASHION_MNIST</c>).</summary>
    EnvironmentVariable,
    /// <summary>A folder under the repository's <c>data/</c> (e.g. <c>data/fashion-mnist/</c>).</summary>
    Repository,
    /// <summary>A system-wide installation (e.g. Debian's <c>dataset-fashion-mnist</c> under /usr/share/datasets).</summary>
    SystemPackage,
    /// <summary>The small subset bundled with the repository (<c>data/fashion-mnist-subset/</c>).</summary>
    BundledSubset,
}

/// <summary>Where a dataset came from: the kind of place, the folder, and a sentence a notebook can print.</summary>
/// <param name="Kind">The kind of place.</param>
/// <param name="Folder">The folder the files were read from (or "memory").</param>
/// <param name="Description">A human-readable sentence, e.g. "full Fashion-MNIST from /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist)".</param>
public sealed record DatasetOrigin(DatasetOriginKind Kind, string Folder, string Description)
{
    /// <summary>True for the bundled subset (results on it are not comparable with full-dataset numbers).</summary>
    public bool IsSubset => Kind == DatasetOriginKind.BundledSubset;

    /// <summary>An in-memory origin with the given description.</summary>
    public static DatasetOrigin InMemory(string description) => new(DatasetOriginKind.Memory, "memory", description);

    /// <summary>The <see cref="Description"/>.</summary>
    public override string ToString() => Description;
}

/// <summary>
/// An in-memory image classification dataset: N images of shape (C, H, W) stored as bytes (0..255), integer
/// labels in 0..K−1 and K class names.
/// <para>
/// Pixels stay bytes (a quarter of the memory of float32: 47 MB for Fashion-MNIST's 60,000 training images)
/// and become float32 tensors per batch: <c>x = (v/255 − mean_c)/std_c</c> with a 256-entry table per
/// channel (see <see cref="Normalization"/>), which costs far less than a training step.
/// </para>
/// </summary>
public sealed class ImageDataset
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    /// <summary>
    /// Wraps <paramref name="pixels"/> (N·C·H·W bytes, row-major (N, C, H, W)) and <paramref name="labels"/> (N values in
    /// 0..classNames.Count−1) without copying; the caller must not modify them afterwards.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes disagree or a label is out of range.</exception>
    public ImageDataset(string name, byte[] pixels, int[] labels, int channels, int height, int width,
        IReadOnlyList<string> classNames, DatasetOrigin? origin = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (channels < 1 || height < 1 || width < 1)
            throw new ArgumentException($"ImageDataset '{name}': image shape ({channels}, {height}, {width}) must be positive.");
        long imageSize = (long)channels * height * width;
        if (imageSize * labels.Length != pixels.LongLength)
            throw new ArgumentException($"ImageDataset '{name}': {pixels.LongLength} pixel bytes do not hold {labels.Length} images of shape ({channels}, {height}, {width}) ({imageSize * labels.Length} bytes).");
        if (classNames.Count < 1) throw new ArgumentException($"ImageDataset '{name}': at least one class name is needed.");
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classNames.Count)
                throw new ArgumentException($"ImageDataset '{name}': label {labels[i]} at index {i} is outside 0..{classNames.Count - 1}.");
        Name = name;
        _pixels = pixels;
        _labels = labels;
        Channels = channels; Height = height; Width = width;
        ImageSize = (int)imageSize;
        ClassNames = classNames.ToArray();
        Origin = origin ?? DatasetOrigin.InMemory(name);
    }

    /// <summary>A short name, e.g. "Fashion-MNIST train".</summary>
    public string Name { get; }

    /// <summary>Where the data came from (print it in notebooks: the full set and the subset give different numbers).</summary>
    public DatasetOrigin Origin { get; }

    /// <summary>Number of images N.</summary>
    public int Count => _labels.Length;

    /// <summary>Channels C (1 for Fashion-MNIST, 3 for CIFAR-10).</summary>
    public int Channels { get; }

    /// <summary>Height H in pixels.</summary>
    public int Height { get; }

    /// <summary>Width W in pixels.</summary>
    public int Width { get; }

    /// <summary>C·H·W, the bytes in one image.</summary>
    public int ImageSize { get; }

    /// <summary>Class names, index = label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Number of classes K.</summary>
    public int NumClasses => ClassNames.Count;

    /// <summary>The labels, one per image, in 0..K−1.</summary>
    public IReadOnlyList<int> Labels => _labels;

    /// <summary>All pixels as bytes, row-major (N, C, H, W).</summary>
    public ReadOnlySpan<byte> Pixels => _pixels;

    internal byte[] PixelArray => _pixels;
    internal int[] LabelArray => _labels;

    /// <summary>The C·H·W bytes of image <paramref name="index"/>.</summary>
    public ReadOnlySpan<byte> ImageBytes(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"Image index {index} outside 0..{Count - 1} of {Name}.");
        return _pixels.AsSpan(index * ImageSize, ImageSize);
    }

    /// <summary>Channel <paramref name="channel"/> of image <paramref name="index"/> as raw pixel values 0 … 255, <c>[row, column]</c> with row 0 at the top (for <c>Chart.Image</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index or the channel is out of range.</exception>
    public float[,] ImageGrid(int index, int channel = 0)
    {
        if ((uint)channel >= (uint)Channels) throw new ArgumentOutOfRangeException(nameof(channel), $"{Name}: channel {channel} of {Channels}.");
        var bytes = ImageBytes(index);
        var grid = new float[Height, Width];
        int o = channel * Height * Width;
        for (int r = 0; r < Height; r++)
            for (int c = 0; c < Width; c++) grid[r, c] = bytes[o + r * Width + c];
        return grid;
    }

    /// <summary>
    /// Image <paramref name="index"/> as a float32 tensor (C, H, W): v/255, then normalised when <paramref name="normalization"/>
    /// is given; on <paramref name="device"/> (the CPU when null), in the current dispose scope.
    /// </summary>
    public Tensor Image(int index, Normalization? normalization = null, Device? device = null)
    {
        using var batch = ToTensor([index], normalization, device);   // (1, C, H, W)
        return batch.reshape(Channels, Height, Width);                 // (C, H, W)
    }

    /// <summary>
    /// The images at <paramref name="indices"/> as a float32 tensor (n, C, H, W): x = v/255 when
    /// <paramref name="normalization"/> is null, else (v/255 − mean_c)/std_c; on <paramref name="device"/> (the CPU when
    /// null), created in the current dispose scope, if any.
    /// </summary>
    public Tensor ToTensor(ReadOnlySpan<int> indices, Normalization? normalization = null, Device? device = null)
    {
        var tables = Normalization.Tables(normalization, Channels);
        TorchNative.EnsureLoaded();
        return Render(indices, tables, 0, [], device);
    }

    /// <summary>
    /// The images at <paramref name="indices"/> rendered into a new float32 tensor (n, C, H, W) — normalised by
    /// <paramref name="tables"/>, shifted by <paramref name="draws"/> inside a zero border of <paramref name="pad"/> —
    /// on <paramref name="device"/> (the CPU when null), in the current dispose scope.
    /// </summary>
    internal Tensor Render(ReadOnlySpan<int> indices, float[][] tables, int pad, ReadOnlySpan<AugmentationDraw> draws, Device? device)
    {
        var cpu = empty([indices.Length, Channels, Height, Width], ScalarType.Float32, CPU);   // (n, C, H, W)
        try
        {
            RenderInto(cpu, indices, tables, pad, draws);
            if (device is null || device.type == DeviceType.CPU) return cpu;
            var moved = cpu.to(device);   // (n, C, H, W) on the device
            cpu.Dispose();
            return moved;
        }
        catch
        {
            cpu.Dispose();
            throw;
        }
    }

    /// <summary>All images as one float32 tensor (N, C, H, W); see <see cref="ToTensor(ReadOnlySpan{int}, Normalization?, Device?)"/>.</summary>
    public Tensor ToTensor(Normalization? normalization = null, Device? device = null)
    {
        var all = new int[Count];
        for (int i = 0; i < all.Length; i++) all[i] = i;
        return ToTensor(all, normalization, device);
    }

    /// <summary>
    /// Renders the images at <paramref name="indices"/> into <paramref name="images"/>, a contiguous float32 CPU tensor
    /// (n, C, H, W), through the per-channel <paramref name="tables"/>, cropping from the image zero-padded by
    /// <paramref name="pad"/> at <paramref name="draws"/>[i] (empty: the identity for every image); see <see cref="DataLoader.Render(ReadOnlySpan{byte}, int, int, int, float[][], int, int, int, bool, Span{float})"/>.
    /// Works in slices of at most 256 MB, so the tensor may exceed a span's 2 GB.
    /// </summary>
    internal void RenderInto(Tensor images, ReadOnlySpan<int> indices, float[][] tables, int pad, ReadOnlySpan<AugmentationDraw> draws)
    {
        int n = indices.Length;
        if (n == 0) return;
        int perSlice = Math.Max(1, (1 << 28) / (sizeof(float) * ImageSize));
        for (int start = 0; start < n; start += perSlice)
        {
            int count = Math.Min(perSlice, n - start);
            using var slice = images.narrow(0, start, count);   // (count, C, H, W), contiguous
            var dst = MemoryMarshal.Cast<byte, float>(slice.bytes);
            for (int i = 0; i < count; i++)
            {
                var d = draws.IsEmpty ? AugmentationDraw.Identity(pad) : draws[start + i];
                DataLoader.Render(ImageBytes(indices[start + i]), Channels, Height, Width, tables, pad, d.Dy, d.Dx, d.Flip,
                    dst.Slice(i * ImageSize, ImageSize));
            }
        }
    }

    /// <summary>The labels at <paramref name="indices"/>.</summary>
    public int[] LabelsAt(ReadOnlySpan<int> indices)
    {
        var y = new int[indices.Length];
        for (int i = 0; i < y.Length; i++)
        {
            int ix = indices[i];
            if ((uint)ix >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"Image index {ix} outside 0..{Count - 1} of {Name}.");
            y[i] = _labels[ix];
        }
        return y;
    }

    /// <summary>Number of images per class, index = label.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[NumClasses];
        foreach (var y in _labels) counts[y]++;
        return counts;
    }

    /// <summary>A new dataset holding copies of the images at <paramref name="indices"/>, in that order.</summary>
    public ImageDataset Subset(ReadOnlySpan<int> indices, string? name = null)
    {
        var pixels = GC.AllocateUninitializedArray<byte>(indices.Length * ImageSize);
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            ImageBytes(indices[i]).CopyTo(pixels.AsSpan(i * ImageSize, ImageSize));
            labels[i] = _labels[indices[i]];
        }
        string n = name ?? $"{Name} (subset of {indices.Length})";
        return new ImageDataset(n, pixels, labels, Channels, Height, Width, ClassNames,
            Origin with { Description = $"{Origin.Description}; {indices.Length} of its {Count} images" });
    }

    /// <summary>The first <paramref name="count"/> images (all when count ≥ N).</summary>
    public ImageDataset Take(int count)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), $"Take({count}): count must be ≥ 0.");
        count = Math.Min(count, Count);
        var ix = new int[count];
        for (int i = 0; i < count; i++) ix[i] = i;
        return Subset(ix, $"{Name} (first {count})");
    }

    /// <summary>
    /// A stratified subset: the first <paramref name="perClass"/> images of each class in dataset order (fewer for a
    /// class that has fewer), keeping their relative order. Deterministic, no randomness.
    /// </summary>
    public ImageDataset TakePerClass(int perClass)
    {
        if (perClass < 0) throw new ArgumentOutOfRangeException(nameof(perClass), $"TakePerClass({perClass}): count must be ≥ 0.");
        var taken = new int[NumClasses];
        var ix = new List<int>();
        for (int i = 0; i < Count; i++)
            if (taken[_labels[i]] < perClass) { taken[_labels[i]]++; ix.Add(i); }
        return Subset(ix.ToArray(), $"{Name} ({perClass} per class)");
    }

    /// <summary>
    /// The images of the classes <paramref name="classes"/> (original labels, in the order given), relabelled
    /// c_j → j: the result has K' = classes.Count classes named after the chosen ones, and keeps the images' dataset
    /// order. Use it to split one dataset into tasks with disjoint label sets, e.g. an upstream task on six classes and
    /// a downstream task on the other four. Deterministic, no randomness.
    /// </summary>
    /// <exception cref="ArgumentException">No class given, a class outside 0 … K − 1, or a class given twice.</exception>
    public ImageDataset SelectClasses(IReadOnlyList<int> classes, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count == 0) throw new ArgumentException($"SelectClasses on {Name}: at least one class is needed.", nameof(classes));
        var newLabel = new int[NumClasses];
        Array.Fill(newLabel, -1);
        for (int j = 0; j < classes.Count; j++)
        {
            int c = classes[j];
            if ((uint)c >= (uint)NumClasses)
                throw new ArgumentException($"SelectClasses on {Name}: class {c} is outside 0..{NumClasses - 1}.", nameof(classes));
            if (newLabel[c] >= 0) throw new ArgumentException($"SelectClasses on {Name}: class {c} ({ClassNames[c]}) is given twice.", nameof(classes));
            newLabel[c] = j;
        }
        var ix = new List<int>();
        for (int i = 0; i < Count; i++)
            if (newLabel[_labels[i]] >= 0) ix.Add(i);
        var pixels = GC.AllocateUninitializedArray<byte>(ix.Count * ImageSize);
        var labels = new int[ix.Count];
        for (int i = 0; i < ix.Count; i++)
        {
            ImageBytes(ix[i]).CopyTo(pixels.AsSpan(i * ImageSize, ImageSize));
            labels[i] = newLabel[_labels[ix[i]]];
        }
        var names = classes.Select(c => ClassNames[c]).ToArray();
        string n = name ?? $"{Name} ({string.Join(", ", names)})";
        return new ImageDataset(n, pixels, labels, Channels, Height, Width, names,
            Origin with { Description = $"{Origin.Description}; classes {string.Join(", ", classes)} relabelled 0..{classes.Count - 1}, {ix.Count} of its {Count} images" });
    }

    /// <summary>E.g. "Fashion-MNIST train: 10000 images 1×28×28, 10 classes — bundled subset data/fashion-mnist-subset …".</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name}: {Count} images {Channels}×{Height}×{Width}, {NumClasses} classes — {Origin.Description}");
}
