using System.Globalization;

namespace Shrink.Data;

/// <summary>
/// Per-channel normalisation applied after scaling bytes to [0, 1]: <c>x = (v/255 − Mean[c]) / Std[c]</c>,
/// computed in float32 in that order (torchvision's <c>ToTensor()</c> then <c>Normalize(mean, std)</c>).
/// One mean/std pair applies to every channel.
/// </summary>
/// <param name="Mean">Per-channel mean of v/255 (one value, or one per channel).</param>
/// <param name="Std">Per-channel standard deviation of v/255, each &gt; 0.</param>
public sealed record Normalization(IReadOnlyList<float> Mean, IReadOnlyList<float> Std)
{
    /// <summary>
    /// Fashion-MNIST training-set statistics: mean 0.2860, std 0.3530 (population mean and standard deviation of all
    /// 47,040,000 pixels of the 60,000 training images scaled to [0, 1]: 0.28604, 0.35302). The bundled subset's own
    /// values are 0.2867, 0.3540; the full-set values are used for both so that models transfer.
    /// </summary>
    public static Normalization FashionMnist { get; } = new([0.2860f], [0.3530f]);

    /// <summary>
    /// CIFAR-10 training-set statistics per channel (R, G, B): mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435,
    /// 0.2616), the population standard deviation over all training pixels. (The often-quoted (0.2023, 0.1994,
    /// 0.2010) averages per-image standard deviations instead.)
    /// </summary>
    public static Normalization Cifar10 { get; } = new([0.4914f, 0.4822f, 0.4465f], [0.2470f, 0.2435f, 0.2616f]);

    /// <summary>
    /// The statistics of <paramref name="dataset"/> itself: per channel c, mean_c = E[v/255] and
    /// std_c = sqrt(E[(v/255)²] − mean_c²) over all its pixels (population standard deviation), from an exact byte histogram.
    /// </summary>
    public static Normalization Compute(ImageDataset dataset)
    {
        int c = dataset.Channels, plane = dataset.Height * dataset.Width;
        var hist = new long[c, 256];
        var px = dataset.Pixels;
        for (int i = 0; i < dataset.Count; i++)
            for (int ch = 0; ch < c; ch++)
                foreach (var v in px.Slice(i * dataset.ImageSize + ch * plane, plane)) hist[ch, v]++;
        var mean = new float[c];
        var std = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double n = 0, s = 0, s2 = 0;
            for (int v = 0; v < 256; v++)
            {
                double x = v / 255.0, k = hist[ch, v];
                n += k; s += k * x; s2 += k * x * x;
            }
            double m = n > 0 ? s / n : 0;
            mean[ch] = (float)m;
            std[ch] = (float)Math.Sqrt(Math.Max(n > 0 ? s2 / n - m * m : 0, 0));
        }
        return new Normalization(mean, std);
    }

    /// <summary>The normalised value of byte <paramref name="v"/> in channel <paramref name="channel"/>: (v/255 − Mean[c]) / Std[c] in float32.</summary>
    public float Apply(int channel, byte v)
    {
        float mean = Mean.Count == 1 ? Mean[0] : Mean[channel];
        float std = Std.Count == 1 ? Std[0] : Std[channel];
        return ((float)v / 255f - mean) / std;
    }

    /// <summary>Checks the record against a channel count.</summary>
    /// <exception cref="ArgumentException">Mean/Std lengths differ from 1 and from <paramref name="channels"/>, or a std is not positive.</exception>
    public void Validate(int channels)
    {
        if (Mean.Count != Std.Count || (Mean.Count != 1 && Mean.Count != channels))
            throw new ArgumentException($"Normalization: {Mean.Count} means and {Std.Count} stds for images with {channels} channels; give one pair or one per channel.");
        foreach (var s in Std)
            if (!(s > 0) || float.IsInfinity(s)) throw new ArgumentException($"Normalization: std {s} must be positive and finite.");
        foreach (var m in Mean)
            if (!float.IsFinite(m)) throw new ArgumentException($"Normalization: mean {m} must be finite.");
    }

    /// <summary>256-entry lookup tables, one per channel: table[c][v] = normalised value of byte v (v/255 without normalisation).</summary>
    internal static float[][] Tables(Normalization? n, int channels)
    {
        n?.Validate(channels);
        var tables = new float[channels][];
        for (int c = 0; c < channels; c++)
        {
            var t = new float[256];
            for (int v = 0; v < 256; v++) t[v] = n is null ? (float)v / 255f : n.Apply(c, (byte)v);
            tables[c] = t;
        }
        return tables;
    }

    /// <summary>Value equality on the numbers (not on list identity).</summary>
    public bool Equals(Normalization? other) =>
        other is not null && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var m in Mean) h.Add(m);
        foreach (var s in Std) h.Add(s);
        return h.ToHashCode();
    }

    /// <summary>E.g. "Normalization(mean [0.286], std [0.353])".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Normalization(mean [{string.Join(", ", Mean.Select(m => m.ToString("G4", CultureInfo.InvariantCulture)))}], std [{string.Join(", ", Std.Select(s => s.ToString("G4", CultureInfo.InvariantCulture)))}])");
}

/// <summary>
/// Random augmentation applied per sample to the byte image before normalisation, in torchvision's order:
/// <c>RandomCrop(H×W, padding = CropPadding)</c> (zero-pad by p on every side — pixel value 0, i.e. black, which
/// normalises to −mean/std —, then cut an H×W window at offsets dy, dx drawn uniformly from 0..2p), then
/// <c>RandomHorizontalFlip(0.5)</c>. Draws per batch of B, from the batch's own seeded generator, in this order: a (B, 2)
/// <c>torch.randint(0, 2p + 1)</c> of offsets (dy, dx) when p &gt; 0, then a (B) <c>torch.randint(0, 2)</c> of flips when
/// enabled. The choices are recorded per sample as <see cref="AugmentationDraw"/>s.
/// </summary>
/// <param name="CropPadding">Padding p of the random crop; 0 disables cropping (2 is usual for 28×28, 4 for 32×32).</param>
/// <param name="HorizontalFlip">Mirror left–right with probability ½.</param>
public sealed record Augmentation(int CropPadding = 0, bool HorizontalFlip = false)
{
    /// <summary>No augmentation.</summary>
    public static Augmentation None { get; } = new();

    /// <summary>The usual small-image recipe: random crop with padding <paramref name="padding"/> and random horizontal flip.</summary>
    public static Augmentation CropAndFlip(int padding = 2) => new(padding, true);

    /// <summary>True when this augmentation changes images.</summary>
    public bool IsActive => CropPadding > 0 || HorizontalFlip;
}
