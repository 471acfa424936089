using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Data;

/// <summary>
/// One mini-batch: <see cref="Images"/> (B, C, H, W) float32, <see cref="Labels"/> (B) and the dataset
/// <see cref="Indices"/> of its samples (for looking up cached teacher logits and the like), plus <see cref="Targets"/>,
/// the labels as an int64 tensor on the images' device (what <c>cross_entropy</c> takes).
/// Deconstructs as <c>var (x, y) = batch</c>.
/// <para>
/// Lifetime: the consumer owns a batch's tensors. A <see cref="DataLoader"/> makes them on its background thread (or,
/// for <see cref="DataLoader.GetBatch"/>, outside the caller's dispose scope), so no <see cref="DisposeScope"/> of the
/// training step frees them: dispose the batch when done with it (<c>using (batch) { … }</c>, or
/// <c>using var b = batch;</c>), which frees <see cref="Images"/> and <see cref="Targets"/> at once; a batch nobody
/// disposes is freed by the GC's finalizer later (fine on the CPU, wasteful on a GPU). Keeping a batch (e.g. a fixed
/// evaluation batch) is safe as long as it is not disposed. A copy made with <c>with</c> shares the tensors.
/// </para>
/// </summary>
/// <param name="Images">(B, C, H, W) float32 images after augmentation and normalisation.</param>
/// <param name="Labels">B labels.</param>
/// <param name="Indices">B dataset indices, in batch order.</param>
public sealed record Batch(Tensor Images, int[] Labels, int[] Indices) : IDisposable
{
    private Tensor? _targets;

    /// <summary>Number of samples B.</summary>
    public int Size => Labels.Length;

    /// <summary>
    /// (B) int64 labels on <see cref="Images"/>' device. The loader makes it with the images; for a batch built by hand it
    /// is made from <see cref="Labels"/> on first use (outside any dispose scope, freed by <see cref="Dispose"/>).
    /// </summary>
    public Tensor Targets
    {
        get
        {
            if (_targets is { } t) return t;
            var made = tensor(Array.ConvertAll(Labels, static y => (long)y), ScalarType.Int64, Images.device).DetachFromDisposeScope();   // (B)
            var existing = Interlocked.CompareExchange(ref _targets, made, null);
            if (existing is null) return made;
            made.Dispose();
            return existing;
        }
        init => _targets = value;
    }

    /// <summary>The epoch the loader made this batch for (−1 when the batch was not made by a <see cref="DataLoader"/>).</summary>
    public int Epoch { get; init; } = -1;

    /// <summary>The batch's position in its epoch, 0-based (−1 when the batch was not made by a <see cref="DataLoader"/>).</summary>
    public int BatchIndex { get; init; } = -1;

    /// <summary>
    /// The augmentation each sample received, in batch order (identity draws when the loader does not augment); null when
    /// the batch was not made by a <see cref="DataLoader"/>. <see cref="DataLoader.Replay"/> re-renders an image from it.
    /// </summary>
    public AugmentationDraw[]? Augmentations { get; init; }

    /// <summary>Deconstructs into images and labels: <c>foreach (var (x, y) in loader.Enumerate(epoch))</c>.</summary>
    public void Deconstruct(out Tensor images, out int[] labels) { images = Images; labels = Labels; }

    /// <summary>Frees <see cref="Images"/> and <see cref="Targets"/> (if made). Idempotent.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Interlocked.Exchange(ref _targets, null)?.Dispose();
    }
}

/// <summary>
/// Mini-batches of an <see cref="ImageDataset"/> (PyTorch's <c>DataLoader</c>): optional seeded shuffling per epoch,
/// drop-last, seeded augmentation (<see cref="Augmentation"/>) and per-channel <see cref="Normalization"/>, prepared on a
/// background thread with a bounded prefetch queue, delivered on the loader's <see cref="Device"/>.
/// <para>
/// Determinism: epoch e's order is <c>torch.randperm(N)</c> drawn from <c>Seed.Generator(seed, "DATA", e, 0)</c>; batch
/// b's augmentation draws come from its own <c>Seed.Generator(seed, "DATA", e, b + 1)</c> (see <see cref="Seed"/>). So
/// the same seed gives the same batches and augmentation bits for every epoch, whatever the prefetch depth or thread
/// timing, and batches can be fetched at random with <see cref="GetBatch"/>; different epochs give different orders.
/// Without shuffling the order is 0..N−1 every epoch.
/// </para>
/// <para>
/// Lifetime contract: every batch's tensors are newly allocated outside any dispose scope (producer thread, or detached
/// from the caller's scope), owned by the consumer, who disposes the <see cref="Batch"/> when done (or leaves it to the
/// GC); nothing is reused behind your back. Batches prepared ahead but never consumed (the loop was left early) are
/// disposed by the loader. (Preparing a 128-image 28×28 batch takes well under a millisecond, small against a training
/// step, so buffer reuse is not worth the aliasing risk.)
/// </para>
/// <code>
/// var train = FashionMnist.Load("train");
/// var loader = new DataLoader(train, batchSize: 128, shuffle: true, seed: 1, dropLast: true,
///     normalization: Normalization.FashionMnist, augmentation: Augmentation.CropAndFlip(2), device: Devices.Parse("auto"));
/// for (int epoch = 0; epoch &lt; epochs; epoch++)
///     foreach (var batch in loader.Enumerate(epoch))
///     {
///         using (batch)
///         using (var scope = torch.NewDisposeScope()) { var loss = cross_entropy(model.forward(batch.Images), batch.Targets); /* step */ }
///     }
/// </code>
/// </summary>
public sealed class DataLoader
{
    private readonly float[][] _tables;

    /// <summary>Creates a loader; nothing is computed until batches are requested.</summary>
    /// <param name="dataset">The images and labels.</param>
    /// <param name="batchSize">Samples per batch B ≥ 1.</param>
    /// <param name="shuffle">Reshuffle every epoch (seeded); otherwise dataset order.</param>
    /// <param name="seed">Seed of the shuffle and of the augmentation.</param>
    /// <param name="dropLast">Drop the final batch when it has fewer than B samples.</param>
    /// <param name="normalization">Per-channel normalisation after scaling to [0, 1]; null keeps v/255.</param>
    /// <param name="augmentation">Random crop / flip; null or <see cref="Augmentation.None"/> for none.</param>
    /// <param name="prefetch">Batches prepared ahead on a background thread (0 = prepare on the calling thread).</param>
    /// <param name="device">Where batches are delivered (images and targets); null for the CPU.</param>
    /// <exception cref="ArgumentException">Bad batch size, prefetch, normalisation or padding.</exception>
    public DataLoader(ImageDataset dataset, int batchSize, bool shuffle = false, ulong seed = 0, bool dropLast = false,
        Normalization? normalization = null, Augmentation? augmentation = null, int prefetch = 2, Device? device = null)
    {
        TorchNative.EnsureLoaded();
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize < 1) throw new ArgumentException($"DataLoader: batch size must be ≥ 1, got {batchSize}.", nameof(batchSize));
        if (prefetch < 0 || prefetch > 64) throw new ArgumentException($"DataLoader: prefetch must be in 0..64, got {prefetch}.", nameof(prefetch));
        augmentation ??= Augmentation.None;
        if (augmentation.CropPadding < 0 || augmentation.CropPadding > Math.Min(dataset.Height, dataset.Width))
            throw new ArgumentException($"DataLoader: crop padding {augmentation.CropPadding} must be in 0..{Math.Min(dataset.Height, dataset.Width)} for {dataset.Height}×{dataset.Width} images.", nameof(augmentation));
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        Normalization = normalization;
        Augmentation = augmentation;
        Prefetch = prefetch;
        Device = device ?? CPU;
        _tables = Normalization.Tables(normalization, dataset.Channels);
    }

    /// <summary>The dataset batches are drawn from.</summary>
    public ImageDataset Dataset { get; }

    /// <summary>Samples per batch B.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>Seed of the shuffle and augmentation.</summary>
    public ulong Seed { get; }

    /// <summary>Whether an incomplete final batch is dropped.</summary>
    public bool DropLast { get; }

    /// <summary>The normalisation applied, or null for v/255.</summary>
    public Normalization? Normalization { get; }

    /// <summary>The augmentation applied.</summary>
    public Augmentation Augmentation { get; }

    /// <summary>Batches prepared ahead of the consumer.</summary>
    public int Prefetch { get; }

    /// <summary>The device batches (and <see cref="Replay"/>'s images) are delivered on.</summary>
    public Device Device { get; }

    /// <summary>The first stream number after the seed of every data stream ("DATA"), keeping them apart from other streams of the run's seed.</summary>
    internal const ulong Stream = 0x44415441;

    /// <summary>Batches per epoch: ⌊N/B⌋ with drop-last, else ⌈N/B⌉.</summary>
    public int Count => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>Samples per epoch: <see cref="Count"/>·B with drop-last, else N.</summary>
    public int SamplesPerEpoch => DropLast ? Count * BatchSize : Dataset.Count;

    /// <summary>The dataset indices in epoch <paramref name="epoch"/>'s order (a seeded permutation when shuffling).</summary>
    public int[] Order(int epoch)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), $"Epoch {epoch} must be ≥ 0.");
        if (!Shuffle)
        {
            var o = new int[Dataset.Count];
            for (int i = 0; i < o.Length; i++) o[i] = i;
            return o;
        }
        using var g = Shrink.Torch.Seed.Generator(Seed, Stream, (ulong)epoch, 0);
        using var perm = randperm(Dataset.Count, generator: g);   // (N) int64
        return Array.ConvertAll(perm.data<long>().ToArray(), static i => (int)i);
    }

    /// <summary>
    /// Batch <paramref name="index"/> of epoch <paramref name="epoch"/>, prepared on the calling thread (same bits as
    /// <see cref="Enumerate"/>). The caller owns it (see <see cref="Batch"/>); it is in no dispose scope.
    /// </summary>
    public Batch GetBatch(int epoch, int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"Batch {index} outside 0..{Count - 1}.");
        return Make(Order(epoch), epoch, index);
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/>, in order; the consumer owns (disposes) each one it receives. With
    /// <see cref="Prefetch"/> &gt; 0 a background thread prepares up to that many batches ahead; leaving the loop early
    /// stops it and disposes the batches it prepared that were never handed out. An exception on that thread is
    /// rethrown to the consumer.
    /// </summary>
    public IEnumerable<Batch> Enumerate(int epoch = 0)
    {
        var order = Order(epoch);   // validates epoch eagerly
        return Prefetch == 0 ? Sequential(order, epoch) : Prefetched(order, epoch);
    }

    private IEnumerable<Batch> Sequential(int[] order, int epoch)
    {
        for (int b = 0; b < Count; b++) yield return Make(order, epoch, b);
    }

    private IEnumerable<Batch> Prefetched(int[] order, int epoch)
    {
        using var queue = new BlockingCollection<Batch>(Prefetch);
        using var cancel = new CancellationTokenSource();
        Exception? failure = null;
        var producer = Task.Factory.StartNew(() =>
        {
            try
            {
                for (int b = 0; b < Count && !cancel.IsCancellationRequested; b++)
                {
                    var batch = Make(order, epoch, b);
                    try { queue.Add(batch, cancel.Token); }
                    catch { batch.Dispose(); throw; }
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested) { }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable())
                yield return batch;
            producer.Wait();
            if (failure is not null) ExceptionDispatchInfo.Capture(failure).Throw();
        }
        finally
        {
            cancel.Cancel();
            producer.Wait();
            while (queue.TryTake(out var unused)) unused.Dispose();   // prepared but never handed out
        }
    }

    /// <summary>Prepares batch <paramref name="b"/> of an epoch whose order is <paramref name="order"/>, outside any dispose scope.</summary>
    private Batch Make(int[] order, int epoch, int b)
    {
        int start = b * BatchSize;
        int size = Math.Min(BatchSize, order.Length - start);
        var indices = order.AsSpan(start, size).ToArray();
        var labels = Dataset.LabelsAt(indices);
        var draws = Draw(epoch, b, size);
        var images = RenderBatch(indices, draws, Augmentation.CropPadding).DetachFromDisposeScope();   // (B, C, H, W) on Device
        Tensor targets;
        try
        {
            targets = tensor(Array.ConvertAll(labels, static y => (long)y), ScalarType.Int64, Device).DetachFromDisposeScope();   // (B)
        }
        catch { images.Dispose(); throw; }
        return new Batch(images, labels, indices) { Targets = targets, Epoch = epoch, BatchIndex = b, Augmentations = draws };
    }

    /// <summary>
    /// The augmentation draws of batch <paramref name="b"/> of epoch <paramref name="epoch"/>: from
    /// <c>Seed.Generator(seed, "DATA", epoch, b + 1)</c>, first a (B, 2) tensor of crop offsets (dy, dx) uniform in
    /// 0..2p (when p &gt; 0), then B flip bits (when flipping). Identity draws when the loader does not augment.
    /// </summary>
    private AugmentationDraw[] Draw(int epoch, int b, int size)
    {
        int pad = Augmentation.CropPadding;
        var draws = new AugmentationDraw[size];
        if (!Augmentation.IsActive)
        {
            Array.Fill(draws, AugmentationDraw.Identity(pad));
            return draws;
        }
        using var g = Shrink.Torch.Seed.Generator(Seed, Stream, (ulong)epoch, (ulong)b + 1);
        long[] offsets = [], flips = [];
        if (pad > 0)
        {
            using var o = randint(0, 2 * pad + 1, [size, 2], ScalarType.Int64, generator: g);   // (B, 2)
            offsets = o.data<long>().ToArray();
        }
        if (Augmentation.HorizontalFlip)
        {
            using var f = randint(0, 2, [size], ScalarType.Int64, generator: g);   // (B)
            flips = f.data<long>().ToArray();
        }
        for (int i = 0; i < size; i++)
            draws[i] = new AugmentationDraw(
                pad > 0 ? (int)offsets[2 * i] : pad,
                pad > 0 ? (int)offsets[2 * i + 1] : pad,
                flips.Length > 0 && flips[i] != 0);
        return draws;
    }

    /// <summary>
    /// Re-renders the samples at <paramref name="indices"/> with the augmentation choices <paramref name="draws"/> (e.g.
    /// stored in a teacher-logit cache, or taken from <see cref="Batch.Augmentations"/>), this loader's crop padding and
    /// normalisation: the same bits as the batch image the loader made with those draws (a stored flip is applied whatever
    /// the loader's own flip setting). Returns (n, C, H, W) on <see cref="Device"/>, created in the current dispose scope, if any.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length, or an offset is outside 0..2p for this loader's padding p.</exception>
    public Tensor Replay(ReadOnlySpan<int> indices, ReadOnlySpan<AugmentationDraw> draws)
    {
        if (indices.Length != draws.Length)
            throw new ArgumentException($"DataLoader.Replay: {indices.Length} indices but {draws.Length} augmentation draws.");
        int pad = Augmentation.CropPadding;
        for (int i = 0; i < indices.Length; i++)
        {
            var d = draws[i];
            if ((uint)d.Dy > (uint)(2 * pad) || (uint)d.Dx > (uint)(2 * pad))
                throw new ArgumentException($"DataLoader.Replay: draw {d} of sample {indices[i]} has an offset outside 0..{2 * pad} (this loader pads by {pad}).");
        }
        return RenderBatch(indices, draws, pad);
    }

    /// <summary>The images at <paramref name="indices"/> rendered with <paramref name="draws"/>, (n, C, H, W) on <see cref="Device"/>, in the current dispose scope.</summary>
    private Tensor RenderBatch(ReadOnlySpan<int> indices, ReadOnlySpan<AugmentationDraw> draws, int pad) =>
        Dataset.Render(indices, _tables, pad, draws, Device);

    /// <summary>
    /// Writes one (C, H, W) image: out[c, y, x'] = table[c][padded(c, y + dy, x + dx)] with x' = W−1−x when
    /// <paramref name="flip"/> else x, where padded is the image zero-padded by <paramref name="pad"/> on every side
    /// (outside pixels are byte 0). dy = dx = pad (and no flip) is the identity.
    /// </summary>
    internal static void Render(ReadOnlySpan<byte> src, int channels, int height, int width, float[][] tables,
        int pad, int dy, int dx, bool flip, Span<float> dst)
    {
        int plane = height * width;
        bool identity = dy == pad && dx == pad && !flip;
        for (int c = 0; c < channels; c++)
        {
            var table = tables[c];
            var s = src.Slice(c * plane, plane);
            var d = dst.Slice(c * plane, plane);
            if (identity)
            {
                for (int i = 0; i < plane; i++) d[i] = table[s[i]];
                continue;
            }
            float zero = table[0];
            int ox = dx - pad;  // source column = x + ox
            for (int y = 0; y < height; y++)
            {
                int sy = y + dy - pad;
                var row = d.Slice(y * width, width);
                if ((uint)sy >= (uint)height) { row.Fill(zero); continue; }
                var srow = s.Slice(sy * width, width);
                for (int x = 0; x < width; x++)
                {
                    int sx = x + ox;
                    float v = (uint)sx < (uint)width ? table[srow[sx]] : zero;
                    row[flip ? width - 1 - x : x] = v;
                }
            }
        }
    }
}
