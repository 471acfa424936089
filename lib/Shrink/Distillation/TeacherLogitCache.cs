using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Shrink.Data;
using Shrink.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Distillation;

/// <summary>
/// Precomputed teacher outputs, one record per (epoch, sample), so a student is distilled with no teacher forward pass
/// at all (TinyViT's "fast distillation"; LIB-KD's "precomputed logits"). Each record holds what TinyViT's
/// <c>save_logits.py</c> stores — the augmentation of that sample in that epoch (here the exact
/// <see cref="AugmentationDraw"/>, 4 bytes) followed by the top-k class indices (uint16) and probabilities (fp16) — or,
/// with <see cref="TeacherCacheValues.Float32Logits"/>, all C logits as float32.
/// <para>
/// <b>Dense targets</b> (<see cref="Targets(int, ReadOnlySpan{int}, double, TorchSharp.torch.Device)"/>): for fp16 probabilities, TinyViT's rule
/// t_c = v_j at the stored indices c = i_j, and t_c = (1 − Σ_j v_j)/(C − k) elsewhere (exact up to fp16 when k = C); a
/// temperature τ ≠ 1 is applied afterwards as t_c^(1/τ)/Σ t^(1/τ) (= softmax(z/τ) when the stored values are exact).
/// For float32 logits, the targets are <see cref="DistillationLoss.Targets"/> of the stored logits: bit for bit those of
/// a live teacher on the same batch (the stored float32 values are the teacher's logits, and the same softmax runs on the
/// same device).
/// </para>
/// <para>
/// <b>Device</b>: the first lookup for a device uploads the records' values once (float32 logits (E·N, C), or the top-k
/// probabilities (E·N, k) with their int64 class indices) to that device; targets are then gathered and rebuilt there
/// (<c>index_select</c>, <c>scatter_</c>), so a GPU run reads no teacher data from the host per step beyond the row
/// numbers. <see cref="Targets(Batch, double)"/> uses the device of the batch's images.
/// </para>
/// <para>
/// <b>Augmentation replay</b>: a cache filled through an augmenting <see cref="DataLoader"/> stores each sample's draw per
/// epoch; <see cref="Replay"/> re-renders the augmented image, and <see cref="Targets(Batch, double)"/> checks that a
/// training batch received exactly the stored augmentation before using the record. An un-augmented cache
/// (<see cref="Epochs"/> = 1, no augmentation) serves every epoch from its single record per sample.
/// </para>
/// <para>
/// <b>File format</b> (little-endian), version 1:
/// <code>
/// 0   8  magic "SHRKTLC1"          8  4  version = 1          12 4  header length H
/// 16  4  classes C   20 4  top-k k   24 4  samples N   28 4  epochs E
/// 32  1  values (0 fp16 probabilities, 1 float32 logits)  33 3  zero
/// 36  4  crop padding p   40 1  horizontal flip (0/1)  41 3  zero
/// 44 32  dataset fingerprint (SHA-256 of shape, labels and pixels, <see cref="Fingerprint"/>)
/// 76  2  teacher-name length, UTF-8 bytes;  2  input-description length, UTF-8 bytes
///    32  SHA-256 of bytes [0, here)                 = H bytes of header
/// H      E·N records of R bytes, epoch-major (record (e, i) at H + (e·N + i)·R):
///        uint32 packed draw (0 = no record: the sample was not in that epoch), then
///        k × uint16 indices + k × fp16 values  (R = 4 + 4k)   or   C × float32 logits  (R = 4 + 4C)
/// end−32 SHA-256 of the records
/// </code>
/// Files are written atomically (temporary file + rename). <see cref="Load"/> validates everything — lengths, fields,
/// both checksums, every record (indices in range and distinct, probabilities in [0, 1] summing to at most 1, logits
/// finite) — and optionally that the cache fits the intended use (<see cref="TeacherCacheExpectation"/>) before anything
/// is used; any problem raises <see cref="TeacherCacheFormatException"/> naming the file.
/// </para>
/// </summary>
public sealed class TeacherLogitCache
{
    /// <summary>The file magic.</summary>
    public static ReadOnlySpan<byte> Magic => "SHRKTLC1"u8;

    /// <summary>The format version this class writes and reads.</summary>
    public const uint FormatVersion = 1;

    private const int FixedHeader = 76, HashSize = 32;
    private const float ProbabilitySumTolerance = 1e-2f;

    private readonly byte[] _records;
    private readonly int _recordSize;
    private Tensor? _deviceValues, _deviceIndices;   // the records' values on _deviceValues.device (see DeviceTables)

    private TeacherLogitCache(string path, string teacherName, string inputDescription, int numClasses, int topK, int numSamples, int epochs,
        TeacherCacheValues values, Augmentation augmentation, byte[] fingerprint, byte[] records, long teacherForwardPasses)
    {
        Path = path; TeacherName = teacherName; InputDescription = inputDescription;
        NumClasses = numClasses; TopK = topK; NumSamples = numSamples; Epochs = epochs;
        Values = values; Augmentation = augmentation; _fingerprint = fingerprint; _records = records;
        _recordSize = RecordSize(values, numClasses, topK);
        TeacherForwardPasses = teacherForwardPasses;
    }

    private readonly byte[] _fingerprint;

    /// <summary>The file the cache lives in.</summary>
    public string Path { get; }

    /// <summary>The teacher's name (e.g. its run name), as stored.</summary>
    public string TeacherName { get; }

    /// <summary>How the teacher's inputs were made (normalisation, augmentation and, when augmenting, the loader's seed, batch size, shuffle and drop-last), as stored.</summary>
    public string InputDescription { get; }

    /// <summary>Number of classes C.</summary>
    public int NumClasses { get; }

    /// <summary>Classes stored per record k (C for logits).</summary>
    public int TopK { get; }

    /// <summary>Number of samples N of the dataset.</summary>
    public int NumSamples { get; }

    /// <summary>Number of epochs E with records.</summary>
    public int Epochs { get; }

    /// <summary>What the records hold.</summary>
    public TeacherCacheValues Values { get; }

    /// <summary>The augmentation the teacher's inputs received (<see cref="Augmentation.None"/> for an un-augmented cache).</summary>
    public Augmentation Augmentation { get; }

    /// <summary>The dataset fingerprint (lowercase hex SHA-256, <see cref="Fingerprint"/>).</summary>
    public string DatasetFingerprint => Convert.ToHexStringLower(_fingerprint);

    /// <summary>Teacher forward passes (images) spent filling this cache in this process: the images run through the teacher by <see cref="Fill"/>, 0 for a cache that was loaded.</summary>
    public long TeacherForwardPasses { get; }

    /// <summary>True when one record per sample serves every epoch (no augmentation, one epoch).</summary>
    public bool IsEpochIndependent => Epochs == 1 && !Augmentation.IsActive;

    /// <summary>Bytes of one record.</summary>
    public static int RecordSize(TeacherCacheValues values, int numClasses, int topK) =>
        values == TeacherCacheValues.Float32Logits ? 4 + 4 * numClasses : 4 + 4 * topK;

    /// <summary>
    /// The dataset fingerprint: lowercase hex SHA-256 over N, C, H, W, K (int32 little-endian), the labels (int32
    /// little-endian) and the pixel bytes. Two datasets with the same images and labels in the same order share it.
    /// </summary>
    public static string Fingerprint(ImageDataset dataset) => Convert.ToHexStringLower(FingerprintBytes(dataset));

    private static byte[] FingerprintBytes(ImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> b = stackalloc byte[20];
        BinaryPrimitives.WriteInt32LittleEndian(b, dataset.Count);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], dataset.Channels);
        BinaryPrimitives.WriteInt32LittleEndian(b[8..], dataset.Height);
        BinaryPrimitives.WriteInt32LittleEndian(b[12..], dataset.Width);
        BinaryPrimitives.WriteInt32LittleEndian(b[16..], dataset.NumClasses);
        h.AppendData(b);
        var labels = new byte[4 * dataset.Count];
        for (int i = 0; i < dataset.Count; i++) BinaryPrimitives.WriteInt32LittleEndian(labels.AsSpan(4 * i), dataset.Labels[i]);
        h.AppendData(labels);
        h.AppendData(dataset.Pixels);
        return h.GetHashAndReset();
    }

    /// <summary>
    /// The text a cache stores to describe its inputs: normalisation and augmentation, and — only when augmenting, since
    /// they then decide which draw each sample gets — the loader's seed, batch size, shuffle and drop-last.
    /// </summary>
    public static string DescribeInputs(DataLoader loader)
    {
        ArgumentNullException.ThrowIfNull(loader);
        var s = string.Create(CultureInfo.InvariantCulture, $"normalization={loader.Normalization?.ToString() ?? "v/255"}; augmentation={loader.Augmentation}");
        if (loader.Augmentation.IsActive)
            s += string.Create(CultureInfo.InvariantCulture, $"; seed={loader.Seed}; batch={loader.BatchSize}; shuffle={loader.Shuffle}; dropLast={loader.DropLast}");
        return s;
    }

    // ---------------------------------------------------------------- filling

    /// <summary>
    /// Runs <paramref name="teacher"/> (in evaluation mode, under no-grad; its mode is restored after) on every batch of
    /// epochs 0 … <paramref name="epochs"/>−1 of <paramref name="loader"/>, stores each sample's augmentation draw and the
    /// teacher's top-<paramref name="topK"/> probabilities (or all logits), writes the file atomically to
    /// <paramref name="path"/> and returns the cache, whose <see cref="TeacherForwardPasses"/> counts the images the
    /// teacher processed. A loader without augmentation needs one epoch; use one without shuffle or drop-last so every
    /// sample gets its record. The teacher runs on the loader's images, so it must live on the loader's device; its
    /// logits are copied to the host to be stored.
    /// </summary>
    /// <exception cref="ArgumentException">Bad k, epochs, class count (at most 65 536), or a teacher whose outputs are not (B, C).</exception>
    public static TeacherLogitCache Fill(string path, nn.Module<Tensor, Tensor> teacher, string teacherName, DataLoader loader, int epochs, int topK = 0,
        TeacherCacheValues values = TeacherCacheValues.Float16Probabilities)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(teacherName);
        ArgumentNullException.ThrowIfNull(loader);
        var dataset = loader.Dataset;
        int c = dataset.NumClasses, n = dataset.Count;
        if (topK == 0) topK = c;
        if (c > 65536) throw new ArgumentException($"TeacherLogitCache: {c} classes do not fit uint16 indices.");
        if (topK < 1 || topK > c) throw new ArgumentException($"TeacherLogitCache: top-k must be in 1..{c} (0 = all), got {topK}.");
        if (values == TeacherCacheValues.Float32Logits && topK != c) throw new ArgumentException($"TeacherLogitCache: float32 logits store all {c} classes; top-k {topK} is for fp16 probabilities.");
        if (epochs < 1) throw new ArgumentException($"TeacherLogitCache: epochs must be ≥ 1, got {epochs}.");
        if (loader.Augmentation.CropPadding > AugmentationDraw.MaxOffset / 2) throw new ArgumentException($"TeacherLogitCache: crop padding {loader.Augmentation.CropPadding} is too large to store.");
        int r = RecordSize(values, c, topK);
        long recordBytes = (long)epochs * n * r;
        if (recordBytes > Array.MaxLength) throw new ArgumentException($"TeacherLogitCache: {epochs} epochs × {n} samples × {r} bytes exceed one in-memory array; store fewer epochs or a smaller k.");
        var records = new byte[recordBytes];
        long passes = 0;
        bool wasTraining = teacher.training;
        teacher.eval();
        try
        {
            var probs = new float[c];
            var order = new int[c];
            for (int e = 0; e < epochs; e++)
                foreach (var batch in loader.Enumerate(e))
                {
                    using var owned = batch;                                             // frees the images when done
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    var logits = teacher.forward(batch.Images);                         // (B, C)
                    if (logits.dim() != 2 || logits.shape[0] != batch.Size || logits.shape[1] != c)
                        throw new ArgumentException($"TeacherLogitCache: teacher '{teacherName}' returned ({DistillationLoss.Shape(logits)}) for a batch of {batch.Size}; expected ({batch.Size}, {c}).");
                    if (logits.dtype != ScalarType.Float32)
                        throw new ArgumentException($"TeacherLogitCache: teacher '{teacherName}' returned {logits.dtype} logits; float32 is stored.");
                    passes += batch.Size;
                    var z = logits.cpu().contiguous().data<float>().ToArray().AsSpan();  // B·C host floats
                    for (int b = 0; b < batch.Size; b++)
                    {
                        var rec = records.AsSpan((int)(((long)e * n + batch.Indices[b]) * r), r);
                        var draw = batch.Augmentations?[b] ?? AugmentationDraw.Identity(loader.Augmentation.CropPadding);
                        BinaryPrimitives.WriteUInt32LittleEndian(rec, draw.Pack());
                        var row = z.Slice(b * c, c);
                        if (values == TeacherCacheValues.Float32Logits)
                        {
                            for (int j = 0; j < c; j++) BinaryPrimitives.WriteSingleLittleEndian(rec[(4 + 4 * j)..], row[j]);
                            continue;
                        }
                        Softmax(row, probs);
                        for (int j = 0; j < c; j++) order[j] = j;
                        // descending probability, ties to the lower class index (a stable order)
                        Array.Sort(order, (a, bb) => probs[a] != probs[bb] ? probs[bb].CompareTo(probs[a]) : a.CompareTo(bb));
                        for (int j = 0; j < topK; j++)
                        {
                            BinaryPrimitives.WriteUInt16LittleEndian(rec[(4 + 2 * j)..], (ushort)order[j]);
                            BinaryPrimitives.WriteHalfLittleEndian(rec[(4 + 2 * topK + 2 * j)..], (Half)probs[order[j]]);
                        }
                    }
                }
        }
        finally { teacher.train(wasTraining); }

        var augmentation = loader.Augmentation.IsActive ? loader.Augmentation : Augmentation.None;
        string inputs = DescribeInputs(loader);
        var fingerprint = FingerprintBytes(dataset);
        var header = Header(teacherName, inputs, c, topK, n, epochs, values, augmentation, fingerprint);
        var file = new byte[header.Length + records.LongLength + HashSize];
        header.CopyTo(file, 0);
        records.CopyTo(file, header.Length);
        SHA256.HashData(records, file.AsSpan(file.Length - HashSize));
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        AtomicFile.WriteAllBytes(full, file);
        return new TeacherLogitCache(full, teacherName, inputs, c, topK, n, epochs, values, augmentation, fingerprint, records, passes);
    }

    /// <summary>Row softmax in double precision (the stored probabilities), written as float.</summary>
    private static void Softmax(ReadOnlySpan<float> z, Span<float> p)
    {
        double max = double.NegativeInfinity;
        foreach (var v in z) max = Math.Max(max, v);
        double s = 0;
        for (int i = 0; i < z.Length; i++) s += Math.Exp(z[i] - max);
        for (int i = 0; i < z.Length; i++) p[i] = (float)(Math.Exp(z[i] - max) / s);
    }

    private static byte[] Header(string teacherName, string inputs, int c, int k, int n, int epochs, TeacherCacheValues values, Augmentation augmentation, byte[] fingerprint)
    {
        var name = Encoding.UTF8.GetBytes(teacherName);
        var desc = Encoding.UTF8.GetBytes(inputs);
        if (name.Length > ushort.MaxValue || desc.Length > ushort.MaxValue) throw new ArgumentException("TeacherLogitCache: the teacher name or input description is longer than 65 535 bytes.");
        int length = FixedHeader + 2 + name.Length + 2 + desc.Length + HashSize;
        var h = new byte[length];
        Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(12), length);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(16), c);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(20), k);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(24), n);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(28), epochs);
        h[32] = (byte)values;
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(36), augmentation.CropPadding);
        h[40] = augmentation.HorizontalFlip ? (byte)1 : (byte)0;
        fingerprint.CopyTo(h, 44);
        int o = FixedHeader;
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(o), (ushort)name.Length); o += 2;
        name.CopyTo(h, o); o += name.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(o), (ushort)desc.Length); o += 2;
        desc.CopyTo(h, o); o += desc.Length;
        SHA256.HashData(h.AsSpan(0, o), h.AsSpan(o));
        return h;
    }

    // ---------------------------------------------------------------- loading

    /// <summary>
    /// Reads and validates the cache at <paramref name="path"/> (see the class remarks), then checks it against
    /// <paramref name="expected"/> when given.
    /// </summary>
    /// <exception cref="TeacherCacheFormatException">The file is truncated, corrupt, of another version, or does not fit <paramref name="expected"/>; the message names the file and the problem.</exception>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    public static TeacherLogitCache Load(string path, TeacherCacheExpectation? expected = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"Teacher-logit cache '{full}' does not exist.", full);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(full); }
        catch (IOException e) when (e is not FileNotFoundException) { throw new TeacherCacheFormatException(full, $"cannot be read ({e.Message}).", e); }
        var cache = Parse(full, bytes);
        if (expected is not null) cache.Check(expected);
        return cache;
    }

    private static TeacherLogitCache Parse(string path, byte[] f)
    {
        TeacherCacheFormatException Bad(string problem) => new(path, problem);
        if (f.Length < FixedHeader + 4 + HashSize) throw Bad($"is {f.Length} bytes, shorter than the smallest header ({FixedHeader + 4 + HashSize} bytes): truncated or not a cache.");
        if (!f.AsSpan(0, 8).SequenceEqual(Magic)) throw Bad("does not start with the magic \"SHRKTLC1\": not a teacher-logit cache.");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(f.AsSpan(8));
        if (version != FormatVersion) throw Bad($"has format version {version}; this library reads version {FormatVersion}.");
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(12));
        if (headerLength < FixedHeader + 4 + HashSize || headerLength > f.Length - HashSize)
            throw Bad($"declares a header of {headerLength} bytes, impossible for a file of {f.Length} bytes (truncated or corrupt).");
        int o = FixedHeader;
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan(o)); o += 2;
        if (o + nameLength + 2 > headerLength - HashSize) throw Bad($"has a teacher name of {nameLength} bytes that overruns the {headerLength}-byte header.");
        int nameAt = o; o += nameLength;
        int descLength = BinaryPrimitives.ReadUInt16LittleEndian(f.AsSpan(o)); o += 2;
        int descAt = o; o += descLength;
        if (o + HashSize != headerLength) throw Bad($"has header fields ending at byte {o + HashSize}, but the header length says {headerLength}.");
        if (!SHA256.HashData(f.AsSpan(0, o)).AsSpan().SequenceEqual(f.AsSpan(o, HashSize))) throw Bad("has a header whose SHA-256 checksum does not match (corrupt header).");

        int c = BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(16));
        int k = BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(20));
        int n = BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(24));
        int epochs = BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(28));
        byte valueByte = f[32];
        int pad = BinaryPrimitives.ReadInt32LittleEndian(f.AsSpan(36));
        byte flipByte = f[40];
        if (c < 1 || c > 65536) throw Bad($"declares {c} classes (must be 1..65536).");
        if (k < 1 || k > c) throw Bad($"declares top-k {k} for {c} classes (must be 1..{c}).");
        if (n < 0) throw Bad($"declares {n} samples.");
        if (epochs < 1) throw Bad($"declares {epochs} epochs (must be ≥ 1).");
        if (valueByte > 1) throw Bad($"declares value kind {valueByte} (0 = fp16 probabilities, 1 = float32 logits).");
        var values = (TeacherCacheValues)valueByte;
        if (values == TeacherCacheValues.Float32Logits && k != c) throw Bad($"stores float32 logits but declares top-k {k} ≠ {c} classes.");
        if (pad < 0 || pad > AugmentationDraw.MaxOffset / 2) throw Bad($"declares crop padding {pad}.");
        if (flipByte > 1) throw Bad($"declares horizontal flip {flipByte} (must be 0 or 1).");
        if (f[33] != 0 || f[34] != 0 || f[35] != 0 || f[41] != 0 || f[42] != 0 || f[43] != 0) throw Bad("has non-zero reserved header bytes.");
        string name, desc;
        try
        {
            var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
            name = utf8.GetString(f, nameAt, nameLength);
            desc = utf8.GetString(f, descAt, descLength);
        }
        catch (DecoderFallbackException e) { throw new TeacherCacheFormatException(path, "has a teacher name or input description that is not valid UTF-8.", e); }

        int r = RecordSize(values, c, k);
        long expectedLength = headerLength + (long)epochs * n * r + HashSize;
        if (f.LongLength != expectedLength)
            throw Bad($"is {f.LongLength} bytes, but its header ({epochs} epochs × {n} samples × {r}-byte records) needs exactly {expectedLength}: {(f.LongLength < expectedLength ? "truncated" : "trailing bytes")}.");
        var records = f.AsSpan(headerLength, (int)((long)epochs * n * r));
        if (!SHA256.HashData(records).AsSpan().SequenceEqual(f.AsSpan(f.Length - HashSize))) throw Bad("has records whose SHA-256 checksum does not match (corrupt data).");

        var augmentation = pad > 0 || flipByte == 1 ? new Augmentation(pad, flipByte == 1) : Augmentation.None;
        var seen = new int[c];
        int stamp = 0;
        for (long ri = 0; ri < (long)epochs * n; ri++)
        {
            var rec = records.Slice((int)(ri * r), r);
            long e = ri / n, i = ri % n;
            uint packed = BinaryPrimitives.ReadUInt32LittleEndian(rec);
            if (packed == 0)
            {
                if (rec.IndexOfAnyExcept((byte)0) >= 0) throw Bad($"has a non-zero empty record (epoch {e}, sample {i}).");
                continue;
            }
            if ((packed & 1u << 31) == 0) throw Bad($"has an invalid augmentation draw 0x{packed:X8} (epoch {e}, sample {i}).");
            var d = AugmentationDraw.Unpack(packed);
            if (d.Dy > 2 * pad || d.Dx > 2 * pad || (d.Flip && flipByte == 0))
                throw Bad($"has augmentation draw {d} (epoch {e}, sample {i}) impossible with crop padding {pad} and flip {flipByte == 1}.");
            if (values == TeacherCacheValues.Float32Logits)
            {
                for (int j = 0; j < c; j++)
                    if (!float.IsFinite(BinaryPrimitives.ReadSingleLittleEndian(rec[(4 + 4 * j)..])))
                        throw Bad($"has a non-finite logit (epoch {e}, sample {i}, class {j}).");
                continue;
            }
            stamp++;
            float sum = 0;
            for (int j = 0; j < k; j++)
            {
                int idx = BinaryPrimitives.ReadUInt16LittleEndian(rec[(4 + 2 * j)..]);
                if (idx >= c) throw Bad($"has class index {idx} ≥ {c} (epoch {e}, sample {i}).");
                if (seen[idx] == stamp) throw Bad($"repeats class index {idx} in one record (epoch {e}, sample {i}).");
                seen[idx] = stamp;
                float v = (float)BinaryPrimitives.ReadHalfLittleEndian(rec[(4 + 2 * k + 2 * j)..]);
                if (!(v >= 0f && v <= 1f)) throw Bad($"has probability {v} outside [0, 1] (epoch {e}, sample {i}).");
                sum += v;
            }
            if (sum > 1f + ProbabilitySumTolerance) throw Bad($"has top-{k} probabilities summing to {sum} > 1 (epoch {e}, sample {i}).");
        }
        return new TeacherLogitCache(path, name, desc, c, k, n, epochs, values, augmentation, f.AsSpan(44, 32).ToArray(), records.ToArray(), 0);
    }

    /// <summary>Checks the cache against what its user needs; throws <see cref="TeacherCacheFormatException"/> naming the first mismatch.</summary>
    public void Check(TeacherCacheExpectation expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        TeacherCacheFormatException Bad(string problem) => new(Path, problem);
        if (expected.Dataset is { } ds)
        {
            if (ds.Count != NumSamples || ds.NumClasses != NumClasses)
                throw Bad($"was built for a dataset of {NumSamples} samples and {NumClasses} classes, but '{ds.Name}' has {ds.Count} samples and {ds.NumClasses} classes (another dataset).");
            if (Fingerprint(ds) != DatasetFingerprint)
                throw Bad($"was built for another dataset (fingerprint {DatasetFingerprint[..12]}…, '{ds.Name}' has {Fingerprint(ds)[..12]}…).");
        }
        if (expected.TopK is { } k && k != TopK) throw Bad($"stores top-{TopK}, but top-{k} was asked for.");
        if (expected.Values is { } v && v != Values) throw Bad($"stores {Values}, but {v} was asked for.");
        if (expected.TeacherName is { } t && t != TeacherName) throw Bad($"holds teacher '{TeacherName}', but teacher '{t}' was asked for.");
        if (expected.InputDescription is { } inputs && inputs != InputDescription) throw Bad($"was made from inputs \"{InputDescription}\", but \"{inputs}\" was asked for.");
        if (expected.MinEpochs is { } e && !IsEpochIndependent && Epochs < e) throw Bad($"holds {Epochs} epochs of augmented records, but {e} are needed.");
    }

    // ---------------------------------------------------------------- lookup

    private int RecordOffset(int epoch, int index)
    {
        if ((uint)index >= (uint)NumSamples) throw new ArgumentOutOfRangeException(nameof(index), $"TeacherLogitCache '{Path}': sample {index} outside 0..{NumSamples - 1}.");
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), $"TeacherLogitCache '{Path}': epoch {epoch} must be ≥ 0.");
        int e = IsEpochIndependent ? 0 : epoch;
        if (e >= Epochs) throw new InvalidOperationException($"TeacherLogitCache '{Path}': no records for epoch {epoch} (the cache holds {Epochs} augmented epochs); fill it for more epochs.");
        int offset = (int)(((long)e * NumSamples + index) * _recordSize);
        if (BinaryPrimitives.ReadUInt32LittleEndian(_records.AsSpan(offset)) == 0)
            throw new InvalidOperationException($"TeacherLogitCache '{Path}': sample {index} has no record in epoch {e} (it was not in any batch of that epoch when the cache was filled, e.g. dropped as part of an incomplete last batch).");
        return offset;
    }

    /// <summary>True when sample <paramref name="index"/> has a record for <paramref name="epoch"/>.</summary>
    public bool HasRecord(int epoch, int index)
    {
        int e = IsEpochIndependent ? 0 : epoch;
        if ((uint)index >= (uint)NumSamples || epoch < 0 || e >= Epochs) return false;
        return BinaryPrimitives.ReadUInt32LittleEndian(_records.AsSpan((int)(((long)e * NumSamples + index) * _recordSize))) != 0;
    }

    /// <summary>The augmentation sample <paramref name="index"/> received in <paramref name="epoch"/> when the cache was filled.</summary>
    public AugmentationDraw Draw(int epoch, int index) => AugmentationDraw.Unpack(BinaryPrimitives.ReadUInt32LittleEndian(_records.AsSpan(RecordOffset(epoch, index))));

    /// <summary>The stored float32 logits of one record (only for <see cref="TeacherCacheValues.Float32Logits"/>).</summary>
    public float[] Logits(int epoch, int index)
    {
        if (Values != TeacherCacheValues.Float32Logits) throw new InvalidOperationException($"TeacherLogitCache '{Path}': stores fp16 probabilities, not logits.");
        var rec = _records.AsSpan(RecordOffset(epoch, index), _recordSize);
        var z = new float[NumClasses];
        for (int j = 0; j < z.Length; j++) z[j] = BinaryPrimitives.ReadSingleLittleEndian(rec[(4 + 4 * j)..]);
        return z;
    }

    /// <summary>
    /// Writes the dense τ = 1 target of one fp16-probability record into <paramref name="dst"/> (C values) by TinyViT's
    /// rule: the stored values at their indices, (1 − Σ stored)/(C − k) everywhere else.
    /// </summary>
    public void DenseProbabilities(int epoch, int index, Span<float> dst)
    {
        if (Values != TeacherCacheValues.Float16Probabilities) throw new InvalidOperationException($"TeacherLogitCache '{Path}': stores logits; use Targets.");
        if (dst.Length != NumClasses) throw new ArgumentException($"TeacherLogitCache: destination has {dst.Length} values for {NumClasses} classes.");
        var rec = _records.AsSpan(RecordOffset(epoch, index), _recordSize);
        int k = TopK, c = NumClasses;
        float sum = 0;
        for (int j = 0; j < k; j++) sum += (float)BinaryPrimitives.ReadHalfLittleEndian(rec[(4 + 2 * k + 2 * j)..]);
        dst.Fill(k == c ? 0f : (1f - sum) / (c - k));
        for (int j = 0; j < k; j++)
            dst[BinaryPrimitives.ReadUInt16LittleEndian(rec[(4 + 2 * j)..])] = (float)BinaryPrimitives.ReadHalfLittleEndian(rec[(4 + 2 * k + 2 * j)..]);
    }

    /// <summary>
    /// Dense teacher targets (n, C) at temperature τ for the samples at <paramref name="indices"/> in
    /// <paramref name="epoch"/> (see the class remarks), without gradient, on <paramref name="device"/> (the CPU when null).
    /// </summary>
    /// <exception cref="InvalidOperationException">A sample has no record for that epoch.</exception>
    public Tensor Targets(int epoch, ReadOnlySpan<int> indices, double tau = 1.0, Device? device = null)
    {
        DistillationLoss.CheckTau(tau);
        var rows = new long[indices.Length];
        for (int b = 0; b < rows.Length; b++) rows[b] = RecordOffset(epoch, indices[b]) / _recordSize;   // validates every record
        device ??= CPU;
        var (values, classIndices) = DeviceTables(device);
        using var _ = no_grad();
        var r = tensor(rows, dtype: ScalarType.Int64, device: device);                     // (n)
        var v = values.index_select(0, r);                                                  // (n, C) logits or (n, k) probabilities
        if (Values == TeacherCacheValues.Float32Logits) return DistillationLoss.Targets(v, tau);   // softmax(z/τ): as a live teacher
        long n = rows.Length, c = NumClasses, k = TopK;
        var dense = k == c
            ? zeros(n, c, dtype: ScalarType.Float32, device: device)                       // (n, C)
            : v.sum(-1, keepdim: true).neg_().add_(1.0).div_(c - k).expand(n, c).contiguous();   // (n, C), (1 − Σ v)/(C − k)
        dense.scatter_(1, classIndices!.index_select(0, r), v);                             // stored values at their classes
        if (tau == 1.0) return dense;
        var p = dense.to(ScalarType.Float64).clamp_min(0).pow(1.0 / tau);                   // t^(1/τ), in double
        return (p / p.sum(-1, keepdim: true)).to(ScalarType.Float32);                       // (n, C)
    }

    /// <summary>
    /// The records' values on <paramref name="device"/>, uploaded on first use (and again when another device asks): float32
    /// logits (E·N, C), or fp16 probabilities widened to float32 (E·N, k) with their class indices (E·N, k) int64. Rows
    /// without a record are zero. The tensors are detached from any dispose scope: they live as long as the cache.
    /// </summary>
    private (Tensor Values, Tensor? Indices) DeviceTables(Device device)
    {
        if (_deviceValues is { } cached && cached.device_type == device.type && cached.device_index == device.index)
            return (cached, _deviceIndices);
        long records = (long)Epochs * NumSamples;
        int width = Values == TeacherCacheValues.Float32Logits ? NumClasses : TopK;
        var values = new float[records * width];
        var classes = Values == TeacherCacheValues.Float32Logits ? null : new long[records * width];
        for (long ri = 0; ri < records; ri++)
        {
            var rec = _records.AsSpan((int)(ri * _recordSize), _recordSize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(rec) == 0) continue;
            for (int j = 0; j < width; j++)
                if (classes is null) values[ri * width + j] = BinaryPrimitives.ReadSingleLittleEndian(rec[(4 + 4 * j)..]);
                else
                {
                    classes[ri * width + j] = BinaryPrimitives.ReadUInt16LittleEndian(rec[(4 + 2 * j)..]);
                    values[ri * width + j] = (float)BinaryPrimitives.ReadHalfLittleEndian(rec[(4 + 2 * width + 2 * j)..]);
                }
        }
        using (var scope = NewDisposeScope())
        {
            _deviceValues?.Dispose();
            _deviceIndices?.Dispose();
            _deviceValues = tensor(values, [records, width], dtype: ScalarType.Float32).to(device).DetachFromDisposeScope();
            _deviceIndices = classes is null ? null : tensor(classes, [records, width], dtype: ScalarType.Int64).to(device).DetachFromDisposeScope();
        }
        return (_deviceValues, _deviceIndices);
    }

    /// <summary>
    /// The targets (B, C) at temperature τ for a training batch, on the device of its images: its samples' records of
    /// <see cref="Batch.Epoch"/>, after checking that every sample received exactly the stored augmentation (so the
    /// targets describe the image the student sees).
    /// </summary>
    /// <exception cref="InvalidOperationException">The batch was not made by a loader, a record is missing, or a sample's augmentation differs from the stored one (the cache was filled with another loader seed, batch size or augmentation).</exception>
    public Tensor Targets(Batch batch, double tau = 1.0)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Epoch < 0 || batch.Augmentations is null)
            throw new InvalidOperationException($"TeacherLogitCache '{Path}': the batch carries no epoch or augmentation draws (make it with a DataLoader).");
        for (int b = 0; b < batch.Size; b++)
        {
            var stored = Draw(batch.Epoch, batch.Indices[b]);
            var actual = batch.Augmentations[b];
            if (stored != actual)
                throw new InvalidOperationException($"TeacherLogitCache '{Path}': sample {batch.Indices[b]} in epoch {batch.Epoch} was augmented as {actual}, but the cache stores the teacher's output for {stored} — the cache was filled with another loader (inputs: {InputDescription}).");
        }
        return Targets(batch.Epoch, batch.Indices, tau, batch.Images.device);
    }

    /// <summary>
    /// Re-renders the augmented images the teacher saw for the samples at <paramref name="indices"/> in
    /// <paramref name="epoch"/>, with <paramref name="loader"/>'s normalisation and this cache's crop padding
    /// (TinyViT's replay of the stored augmentation). Returns (n, C, H, W) as <see cref="DataLoader.Replay"/> makes it.
    /// </summary>
    /// <exception cref="ArgumentException">The loader's dataset or crop padding is not the cache's.</exception>
    public Tensor Replay(DataLoader loader, int epoch, ReadOnlySpan<int> indices)
    {
        ArgumentNullException.ThrowIfNull(loader);
        if (loader.Dataset.Count != NumSamples || loader.Augmentation.CropPadding != Augmentation.CropPadding)
            throw new ArgumentException($"TeacherLogitCache.Replay: the loader ({loader.Dataset.Count} samples, padding {loader.Augmentation.CropPadding}) does not match the cache ({NumSamples} samples, padding {Augmentation.CropPadding}).");
        var draws = new AugmentationDraw[indices.Length];
        for (int i = 0; i < draws.Length; i++) draws[i] = Draw(epoch, indices[i]);
        return loader.Replay(indices, draws);
    }
}
