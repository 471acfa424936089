using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Shrink.IO;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Tests.IO;

/// <summary>
/// safetensors I/O: round trips, byte layout against bytes built by hand from the spec (and confirmed with a
/// Python struct/json script), F16/BF16/F64 decoding (reference bits from PyTorch), every validation rule,
/// atomic saving, and a seeded fuzz test of hostile files.
/// </summary>
public sealed class SafeTensorsTests : IDisposable
{
    private readonly TempFolder _temp = new("safetensors");
    private string _dir => _temp.Path;

    public SafeTensorsTests() => TorchNative.EnsureLoaded();

    public void Dispose() => _temp.Dispose();

    private string PathOf(string name) => _temp.File(name);

    // ------------------------------------------------------------------ helpers

    /// <summary>A file from a header string (padded with spaces to a multiple of 8 unless told not to) and a data buffer.</summary>
    private static byte[] Forge(string header, byte[] data, bool pad = true)
    {
        var h = Encoding.UTF8.GetBytes(header);
        int n = pad ? (h.Length + 7) / 8 * 8 : h.Length;
        var file = new byte[8 + n + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)n);
        h.CopyTo(file, 8);
        file.AsSpan(8 + h.Length, n - h.Length).Fill((byte)' ');
        data.CopyTo(file, 8 + n);
        return file;
    }

    private static byte[] Forge(string header, int dataBytes) => Forge(header, new byte[dataBytes]);

    private static byte[] U16(params ushort[] v)
    {
        var b = new byte[v.Length * 2];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2 * i), v[i]);
        return b;
    }

    private static byte[] F32(params float[] v)
    {
        var b = new byte[v.Length * 4];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(4 * i), v[i]);
        return b;
    }

    /// <summary>The values of a float32 tensor in row-major order (any layout, any device).</summary>
    private static float[] Values(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return c.numel() == 0 ? [] : c.data<float>().ToArray();   // TorchSharp's ToArray throws on an empty tensor
    }

    private static float[] Values(Dictionary<string, Tensor> loaded, string name) => Values(loaded[name]);

    private static void AssertSameTensor(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(Values(expected), Values(actual));
    }

    private static SafeTensorsFormatException Rejects(byte[] file) =>
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(file));

    // ------------------------------------------------------------------ round trips

    [Fact]
    public void RoundTripKeepsShapesValuesAndOrder()
    {
        var g = Seed.Generator(11);
        var square = randn([3, 4], generator: g);
        var tensors = new Dictionary<string, Tensor>
        {
            ["blocks.0.attn.qkv.weight"] = randn([6, 2], generator: g),
            ["scalar"] = tensor(-1.25f),
            ["empty"] = zeros(0, 5),
            ["cube"] = randn([2, 3, 4], generator: g),
            ["transposed"] = square.transpose(0, 1),            // non-contiguous view
            ["narrowed"] = square.narrow(1, 1, 2),               // non-contiguous view
            ["expanded"] = tensor(new[] { 1f, 2f, 3f }).reshape(3, 1).expand(3, 4), // stride-0 view
            ["also empty"] = zeros(2, 0, 3),
            ["ünïcode/π \"quoted\"\n\ttab\u0001"] = tensor(new[] { 7f, 8f }),
            ["a"] = tensor(new[] { float.PositiveInfinity, float.NaN, -0f, float.Epsilon }),
        };
        Assert.False(tensors["transposed"].is_contiguous());
        Assert.False(tensors["narrowed"].is_contiguous());

        string path = PathOf("round.safetensors");
        SafeTensors.Save(path, tensors);
        var loaded = SafeTensors.Load(path);

        Assert.Equal(tensors.Keys, loaded.Keys); // data order = save order
        foreach (var (name, t) in tensors) AssertSameTensor(t, loaded[name]);
        Assert.Equal(0, loaded["scalar"].dim());
        Assert.Equal(-1.25f, loaded["scalar"].item<float>());
        Assert.True(loaded["transposed"].is_contiguous());
        Assert.All(loaded.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));
        Assert.All(loaded.Values, t => Assert.Equal(DeviceType.CPU, t.device_type));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(Values(loaded, "a")[2]));

        // Serialize, Save(Stream) and Save(path) write the same bytes; all load back the same.
        var bytes = SafeTensors.Serialize(tensors);
        Assert.Equal(File.ReadAllBytes(path), bytes);
        var ms = new MemoryStream();
        SafeTensors.Save(ms, tensors);
        Assert.Equal(bytes, ms.ToArray());
        Assert.Equal(tensors.Keys, SafeTensors.Load(bytes).Keys);
        ms.Position = 0;
        Assert.Equal(tensors.Keys, SafeTensors.Load(ms).Keys);
        Assert.Equal(tensors.Keys, SafeTensors.Load(new NonSeekableStream(bytes)).Keys);

        var infos = SafeTensors.ReadTensorInfos(path);
        Assert.Equal(tensors.Keys, infos.Select(i => i.Name));
        Assert.All(infos, i => Assert.Equal("F32", i.DType));
        Assert.Equal([4L, 3L], infos.Single(i => i.Name == "transposed").Shape);
        Assert.Equal(12, infos.Single(i => i.Name == "transposed").Numel);
    }

    [Fact]
    public void EmptyDictionaryRoundTrips()
    {
        var bytes = SafeTensors.Serialize(new Dictionary<string, Tensor>());
        Assert.Equal(Forge("{}", 0), bytes); // "{}" + 6 spaces
        Assert.Empty(SafeTensors.Load(bytes));
    }

    [Fact]
    public void MetadataRoundTrips()
    {
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["zeta"] = "last", ["ключ"] = "значение \"q\" \\ \n", ["empty"] = "" };
        string path = PathOf("meta.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = ones(2) }, meta);
        var read = SafeTensors.ReadMetadata(path);
        Assert.Equal(meta.OrderBy(kv => kv.Key, StringComparer.Ordinal), read.OrderBy(kv => kv.Key, StringComparer.Ordinal));

        // No metadata: empty map; metadata keys are written sorted (as the official writer's BTreeMap).
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = ones(2) });
        Assert.Empty(SafeTensors.ReadMetadata(path));
        var json = Encoding.UTF8.GetString(SafeTensors.Serialize(new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" }).AsSpan(8));
        Assert.Equal("{\"__metadata__\":{\"a\":\"1\",\"b\":\"2\"}}      ", json); // 34 bytes + 6 spaces
    }

    [Fact]
    public void LoadedTensorsOutliveTheCurrentScope()
    {
        var bytes = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["w"] = tensor(new[] { 1f, 2f }) });
        Dictionary<string, Tensor> loaded;
        using (NewDisposeScope())
        {
            loaded = SafeTensors.Load(bytes);
            var other = SafeTensors.Load(new MemoryStream(bytes));
            Assert.Equal([1f, 2f], Values(other, "w"));
        }
        Assert.Equal([1f, 2f], Values(loaded, "w"));
        loaded["w"].Dispose(); // the caller owns them
    }

    [Fact]
    public void WritesAnyRealDtypeAsF32AndDetachesFromAutograd()
    {
        using var scope = NewDisposeScope();
        var w = randn([2, 3], generator: Seed.Generator(3)).requires_grad_();   // a parameter-like leaf
        var y = (w * 2).sum();                                                     // part of a graph
        var tensors = new Dictionary<string, Tensor>
        {
            ["w"] = w,
            ["y"] = y,
            ["d"] = tensor(new[] { 0.1, 1e300 }),                                  // float64: rounds (1e300 → +∞)
            ["i"] = tensor(new long[] { 3, -7, 16777217 }),                         // int64: 2²⁴ + 1 rounds to 2²⁴
            ["b"] = tensor(new[] { true, false }),
            ["h"] = tensor(new[] { 1.5f, -2f }).to(ScalarType.Float16),
        };
        var loaded = SafeTensors.Load(SafeTensors.Serialize(tensors));
        Assert.Equal(Values(w), Values(loaded, "w"));
        Assert.False(loaded["w"].requires_grad);
        Assert.Equal(Values(w).Sum() * 2, Values(loaded, "y")[0], 4);
        Assert.Equal([(float)0.1, float.PositiveInfinity], Values(loaded, "d"));
        Assert.Equal([3f, -7f, 16777216f], Values(loaded, "i"));
        Assert.Equal([1f, 0f], Values(loaded, "b"));
        Assert.Equal([1.5f, -2f], Values(loaded, "h"));
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new Dictionary<string, Tensor> { ["c"] = complex(ones(2), zeros(2)) }));
        Assert.Contains("complex", e.Message);
    }

    // ------------------------------------------------------------------ byte layout

    [Fact]
    public void WritesTheExactSpecLayout()
    {
        // Built by hand from the spec: u64 LE N, compact JSON (metadata first, then tensors in order),
        // spaces up to a multiple of 8, then row-major little-endian float32 data.
        const string header = "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[16,20]}}  ";
        Assert.Equal(144, header.Length);
        var expected = new List<byte>();
        expected.AddRange(BitConverter.GetBytes(144UL));
        expected.AddRange(Encoding.ASCII.GetBytes(header));
        expected.AddRange(F32(1f, 2f, 3f, 4f, 0.5f));

        // The same file as written by a Python struct/json script (independent reference).
        const string pythonHex =
            "90000000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a227074227d2c2261223a7b226474797065223a2246" +
            "3332222c227368617065223a5b322c325d2c22646174615f6f666673657473223a5b302c31365d7d2c2262223a7b226474797065223a22" +
            "463332222c227368617065223a5b5d2c22646174615f6f666673657473223a5b31362c32305d7d7d20200000803f00000040000040400000" +
            "80400000003f";
        Assert.Equal(Convert.FromHexString(pythonHex), expected.ToArray());

        var bytes = SafeTensors.Serialize(
            new Dictionary<string, Tensor> { ["a"] = tensor(new[] { 1f, 2f, 3f, 4f }).reshape(2, 2), ["b"] = tensor(0.5f) },
            new Dictionary<string, string> { ["format"] = "pt" });
        Assert.Equal(expected.ToArray(), bytes);
    }

    [Fact]
    public void EscapesNamesLikeSerdeJson()
    {
        var bytes = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["q\"b\\n\n\u001fé"] = zeros(0) });
        var json = Encoding.UTF8.GetString(bytes.AsSpan(8)).TrimEnd(' ');
        Assert.Equal("{\"q\\\"b\\\\n\\n\\u001fé\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", json);
        Assert.Equal(0, (bytes.Length - 8) % 8);
    }

    // ------------------------------------------------------------------ other dtypes

    [Fact]
    public void ReadsF16IncludingSubnormalsInfinitiesAndNaN()
    {
        // Bits from torch.tensor(values, dtype=torch.float16).view(torch.int16).
        ushort[] bits = [0x0000, 0x8000, 0x3C00, 0xC100, 0x7BFF, 0x0400, 0x0001, 0x03FF, 0x7C00, 0xFC00, 0x7E00];
        float[] expected = [0f, -0f, 1f, -2.5f, 65504f, 6.103515625e-05f, 5.960464477539063e-08f, 6.097555160522461e-05f,
            float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7FC00000)]; // quiet NaN, sign clear
        var file = Forge("{\"h\":{\"dtype\":\"F16\",\"shape\":[11],\"data_offsets\":[0,22]}}", U16(bits));
        var got = Values(SafeTensors.Load(file), "h");
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(got[i]));
    }

    [Fact]
    public void ReadsBF16AsTheUpperHalfOfFloat32()
    {
        // Bits from torch.tensor(values, dtype=torch.bfloat16).view(torch.int16).
        ushort[] bits = [0x0000, 0x3F80, 0xC000, 0x4049, 0x0001, 0x007F, 0x7F80, 0xFF80, 0x7FC0, 0x7F7F, 0x8000];
        float[] expected = [0f, 1f, -2f, 3.140625f, 9.183549615799121e-41f, 1.1663108e-38f, float.PositiveInfinity,
            float.NegativeInfinity, float.NaN, 3.3895313892515355e+38f, -0f];
        var file = Forge("{\"b\":{\"dtype\":\"BF16\",\"shape\":[11],\"data_offsets\":[0,22]}}", U16(bits));
        var got = Values(SafeTensors.Load(file), "b");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], got[i]);
            Assert.Equal(bits[i] << 16, BitConverter.SingleToInt32Bits(got[i]));
        }
    }

    [Fact]
    public void ReadsMixedDtypesInDataOrderWhateverTheHeaderOrder()
    {
        var data = new List<byte>();
        data.AddRange(U16(0x3C00, 0x4000));                                        // h: F16 [1, 2]       bytes [0, 4)
        data.AddRange(BitConverter.GetBytes(0.1));                                 // d: F64 0.1          bytes [4, 12)
        data.AddRange(U16(0x4040));                                                // b: BF16 3           bytes [12, 14)
        data.AddRange(F32(5f, 6f));                                                // f: F32 [[5], [6]]   bytes [14, 22)
        const string header = "{\"f\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[14,22]}," +
                              "\"b\":{\"shape\":[],\"data_offsets\":[12,14],\"dtype\":\"BF16\",\"extra\":[1]}," +
                              "\"__metadata__\":{\"k\":\"v\"}," +
                              "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}," +
                              "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]}}";
        var file = Forge(header, data.ToArray());
        var loaded = SafeTensors.Load(file);
        Assert.Equal(["h", "d", "b", "f"], loaded.Keys);
        Assert.Equal([1f, 2f], Values(loaded, "h"));
        Assert.Equal((float)0.1, loaded["d"].item<float>());
        Assert.Equal(3f, loaded["b"].item<float>());
        Assert.Equal([2L, 1L], loaded["f"].shape);
        Assert.Equal([5f, 6f], Values(loaded, "f"));

        // The stream and file paths read the same.
        string path = PathOf("mixed.safetensors");
        File.WriteAllBytes(path, file);
        var fromFile = SafeTensors.Load(path);
        Assert.Equal(loaded.Keys, fromFile.Keys);
        foreach (var k in loaded.Keys) AssertSameTensor(loaded[k], fromFile[k]);
        Assert.Equal("v", SafeTensors.ReadMetadata(path)["k"]);
        Assert.Equal(["F16", "F64", "BF16", "F32"], SafeTensors.ReadTensorInfos(path).Select(i => i.DType));
    }

    [Fact]
    public void DecodesHalfPrecisionExactlyAsPyTorch()
    {
        // Written by tests/golden/safetensors_dtypes.py: PyTorch's F16/BF16 conversions of random and special
        // values, stored next to PyTorch's own float32 upcast of them.
        string path = Path.Combine(AppContext.BaseDirectory, "golden", "safetensors_dtypes.safetensors");
        var loaded = SafeTensors.Load(path);
        Assert.Equal(["bfloat.f32", "half.f32", "bfloat", "half"], loaded.Keys);
        Assert.Equal("pt", SafeTensors.ReadMetadata(path)["format"]);
        foreach (var name in new[] { "half", "bfloat" })
        {
            Assert.Equal([8L, 8L], loaded[name].shape);
            var expected = Values(loaded, name + ".f32").Select(BitConverter.SingleToInt32Bits);
            Assert.Equal(expected, Values(loaded, name).Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void LoadsFromTheCurrentPositionOfASeekableStream()
    {
        var file = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["x"] = tensor(new[] { 4f, 5f }) });
        var ms = new MemoryStream();
        ms.Write([9, 9, 9]);
        ms.Write(file);
        ms.Position = 3;
        Assert.Equal([4f, 5f], Values(SafeTensors.Load(ms), "x"));
    }

    [Fact]
    public void ZeroSizedTensorsMayShareAnOffset()
    {
        var file = Forge("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},\"b\":{\"dtype\":\"F16\",\"shape\":[3,0],\"data_offsets\":[0,0]}," +
                         "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"d\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[4,4]}}", F32(2f));
        var loaded = SafeTensors.Load(file);
        Assert.Equal(["a", "b", "c", "d"], loaded.Keys);
        Assert.Equal([3L, 0L], loaded["b"].shape);
        Assert.Equal(2f, Values(loaded, "c")[0]);
    }

    [Fact]
    public void EmptyTensorsMayHaveDimensionsBeyondInt32()
    {
        // libtorch sizes are int64: an empty tensor may have a huge axis, as long as the layout's strides fit in an int64.
        var loaded = SafeTensors.Load(Forge("{\"x\":{\"dtype\":\"F32\",\"shape\":[0,3000000000],\"data_offsets\":[0,0]}}", 0));
        Assert.Equal([0L, 3000000000L], loaded["x"].shape);
        Assert.Equal([0L, 3000000000L], SafeTensors.Load(SafeTensors.Serialize(loaded))["x"].shape);
    }

    // ------------------------------------------------------------------ validation

    private const string Ok = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";

    [Fact]
    public void ValidFixtureLoads() => Assert.Single(SafeTensors.Load(Forge(Ok, 8)));

    [Theory]
    // structure of the JSON
    [InlineData("{\"x\":", 0, "not valid JSON")]
    [InlineData("{\"x\":1} z", 0, "not valid JSON")]
    [InlineData("[1,2]", 0, "must start with '{'")]
    [InlineData(" {}", 0, "must start with '{'")]
    [InlineData("{\"x\":5}", 0, "'x' must be an object")]
    [InlineData("{\"x\":{\"shape\":[],\"data_offsets\":[0,4]}}", 4, "no \"dtype\"")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "no \"shape\"")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[]}}", 4, "no \"data_offsets\"")]
    [InlineData("{\"x\":{\"dtype\":32,\"shape\":[],\"data_offsets\":[0,4]}}", 4, "\"dtype\" of tensor 'x' must be a string")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", 8, "\"shape\" of tensor 'x' must be an array")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "[begin, end]")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}}", 8, "[begin, end]")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":{\"0\":8}}}", 8, "[begin, end]")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",\"8\"]}}", 8, "must be non-negative integers, found \"0\"")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "found -8")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "field \"dtype\" twice")]
    // dtype
    [InlineData("{\"x\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype 'F33'; supported dtypes: F32, F16, BF16, F64")]
    [InlineData("{\"x\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype 'f32'")]
    [InlineData("{\"x\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "dtype I64, which this float32 library does not read; supported dtypes: F32, F16, BF16, F64")]
    // shape
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "axis 0 is -2")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2,1.5],\"data_offsets\":[0,8]}}", 8, "axis 1 is 1.5")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, "axis 0 is 2.0")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, "axis 0 is \"2\"")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,8]}}", 8, "axis 0 is 18446744073709551616")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "overflows")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8, "overflows")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[0,4611686018427387904,2],\"data_offsets\":[0,0]}}", 0, "overflows: the product of its dimensions")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[0,9223372036854775808],\"data_offsets\":[0,0]}}", 0, "overflows")]
    // sizes and offsets
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "needs 8 bytes, but its data_offsets [0, 4] span 4")]
    [InlineData("{\"x\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16, "needs 8 bytes")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}", 8, "begin > end")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "beyond the end of the 8-byte data buffer")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551612,18446744073709551616]}}", 8, "non-negative integers")]
    [InlineData("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551611,18446744073709551615]}}", 8, "beyond the end")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap tensor 'a'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "overlap tensor 'a'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8, "overlap tensor 'a'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "bytes [4, 8) of the data buffer belong to no tensor")]
    [InlineData("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "bytes [0, 4) of the data buffer belong to no tensor")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "has 8 bytes but the tensors cover only the first 4")]
    [InlineData("{}", 4, "lists no tensors but 4 data bytes follow")]
    // names and metadata
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "'a' twice (duplicate name)")]
    [InlineData("{\"__metadata__\":[\"a\"]}", 0, "\"__metadata__\" must be an object mapping strings to strings, found an array")]
    [InlineData("{\"__metadata__\":\"a\"}", 0, "found a string")]
    [InlineData("{\"__metadata__\":{\"k\":1}}", 0, "the value of 'k' is a number")]
    [InlineData("{\"__metadata__\":{\"k\":{\"a\":\"b\"}}}", 0, "the value of 'k' is an object")]
    [InlineData("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "key 'k' twice")]
    [InlineData("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "'__metadata__' twice")]
    [InlineData("{\"\\ud800\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0, "not a valid string")]
    [InlineData("{\"__metadata__\":{\"k\":\"\\udc00\"}}", 0, "not a valid string")]
    public void RejectsInvalidHeaders(string header, int dataBytes, string expected)
    {
        var e = Rejects(Forge(header, dataBytes));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("Invalid safetensors data: ", e.Message);
    }

    [Fact]
    public void AcceptsNullMetadataAndUnpaddedHeadersLikeTheOfficialReader()
    {
        Assert.Empty(SafeTensors.Load(Forge("{\"__metadata__\":null}", 0)));
        Assert.Single(SafeTensors.Load(Forge(Ok + "\n\t ", new byte[8], pad: false)));
        Assert.Single(SafeTensors.Load(Forge(Ok, new byte[8], pad: false)));
    }

    [Fact]
    public void RejectsBadLengthsAndEncodings()
    {
        Assert.Contains("has 0 bytes, fewer than the 8-byte", Rejects([]).Message);
        Assert.Contains("has 7 bytes, fewer than the 8-byte", Rejects(new byte[7]).Message);

        var file = Forge(Ok, 8);
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(file.Length - 7));
        Assert.Contains($"says {file.Length - 7} bytes but only {file.Length - 8} bytes follow", Rejects(file).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, 100_000_001);
        Assert.Contains("more than the 100000000-byte limit", Rejects(file).Message);
        BinaryPrimitives.WriteUInt64LittleEndian(file, ulong.MaxValue);
        Assert.Contains("more than the 100000000-byte limit", Rejects(file).Message);

        Assert.Contains("header is empty", Rejects(new byte[8]).Message);
        Assert.Contains("header is empty", Rejects(new byte[16]).Message);

        var bad = Forge("{\"xyz\":1}", 0);
        bad[11] = 0xFF; // header offset 3
        Assert.Contains("not valid UTF-8 (first bad byte at header offset 3)", Rejects(bad).Message);
        var overlong = Forge("{\"xx\":1}", 0);
        overlong[10] = 0xC0; overlong[11] = 0x80; // overlong encoding of NUL
        Assert.Contains("not valid UTF-8", Rejects(overlong).Message);

        var deep = Forge("{\"a\":" + new string('[', 100) + new string(']', 100) + "}", 0); // nesting past the depth limit
        Assert.Contains("not valid JSON", Rejects(deep).Message);
    }

    [Fact]
    public void MessagesFromAFileNameTheFile()
    {
        string path = PathOf("broken.safetensors");
        File.WriteAllBytes(path, Forge("{\"x\":{\"dtype\":\"Q8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1));
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.Contains(path, e.Message);
        Assert.Contains("unknown dtype 'Q8'", e.Message);
        Assert.IsAssignableFrom<FormatException>(e);
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.ReadMetadata(path));
        Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.ReadTensorInfos(path));

        File.WriteAllBytes(path, Forge(Ok, 8)[..^1]); // truncated data
        Assert.Contains("beyond the end of the 7-byte data buffer", Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path)).Message);
        Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(PathOf("missing.safetensors")));
    }

    // ------------------------------------------------------------------ writing: argument checks and atomicity

    [Fact]
    public void SaveRejectsReservedAndInvalidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new Dictionary<string, Tensor> { ["__metadata__"] = ones(1) }));
        Assert.Contains("reserved", e.Message);
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new Dictionary<string, Tensor> { ["bad\ud800"] = ones(1) }));
        Assert.Throws<ArgumentException>(() => SafeTensors.Serialize(new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["k"] = "\udc00" }));
    }

    [Fact]
    public void FailedSaveLeavesTheOriginalFileAndNoTempFile()
    {
        string path = PathOf("model.safetensors");
        var original = new Dictionary<string, Tensor> { ["w"] = tensor(new[] { 1f, 2f, 3f }) };
        SafeTensors.Save(path, original);
        var before = File.ReadAllBytes(path);

        // 1. The tensor list throws while being enumerated.
        Assert.Throws<InvalidOperationException>(() => SafeTensors.Save(path, new ThrowingDictionary(ones(4))));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir));

        // 2. A tensor was disposed: refused while the header is built, before the file system is touched.
        Tensor released;
        using (NewDisposeScope()) released = ones(1000);
        Assert.Throws<InvalidOperationException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["first"] = ones(1000), ["released"] = released }));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir));

        // 3. The write fails midway: header and first tensor written, then the second (a meta tensor: a shape, no data)
        //    cannot be copied to the CPU.
        var failing = new Dictionary<string, Tensor> { ["first"] = ones(1000), ["meta"] = empty([1000], device: device("meta")) };
        Assert.Throws<ExternalException>(() => SafeTensors.Save(path, failing));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_dir));

        // 4. A successful save replaces the file.
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["v"] = zeros(2) });
        Assert.Equal(["v"], SafeTensors.Load(path).Keys);
        Assert.Equal([path], Directory.GetFiles(_dir));
    }

    // ------------------------------------------------------------------ fuzz

    [Fact]
    public void FuzzedFilesLoadOrThrowFormatExceptionOnly()
    {
        var valid = Forge(
            "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"fuzz\"}," +
            "\"h\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]}," +
            "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[12,16]}," +
            "\"e\":{\"dtype\":\"F32\",\"shape\":[0,7],\"data_offsets\":[16,16]}," +
            "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[16,24]}," +
            "\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[24,40]}," +
            "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[40,48]}}",
            Enumerable.Range(0, 48).Select(i => (byte)(i * 37)).ToArray());
        Assert.Equal(6, SafeTensors.Load(valid).Count);
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);

        var rng = new Random(20240611);
        int loaded = 0, rejected = 0;
        const int cases = 2500;
        for (int c = 0; c < cases; c++)
        {
            var file = Mutate(valid, headerEnd, rng);
            if (rng.Next(4) == 0) file = Mutate(file, headerEnd, rng); // some get two mutations
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var result = (c % 20) switch
                {
                    0 => SafeTensors.Load(new NonSeekableStream(file)),
                    1 => SafeTensors.Load(new MemoryStream(file)),
                    2 => SafeTensors.Load(_temp.Write("fuzz.safetensors", file)),
                    _ => SafeTensors.Load(file),
                };
                foreach (var t in result.Values) t.Dispose();
                loaded++;
            }
            catch (SafeTensorsFormatException) { rejected++; }
            catch (Exception e)
            {
                Assert.Fail($"case {c}: {e.GetType().Name} instead of SafeTensorsFormatException: {e.Message}\nfile: {Convert.ToHexString(file)}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            Assert.True(allocated < 1_000_000 + 32L * file.Length, $"case {c}: loading a {file.Length}-byte file allocated {allocated} bytes");
        }
        Assert.Equal(cases, loaded + rejected);
        Assert.InRange(rejected, cases / 2, cases); // most mutations break the file...
        Assert.True(loaded > 20, $"only {loaded} mutated files loaded"); // ...but some (data-only changes) do not
    }

    private static readonly string[] JsonSnippets =
    [
        "-1", "0", "1", "1.5", "1e3", "4294967296", "18446744073709551615", "18446744073709551616", "99999999999999999999999",
        "null", "true", "[]", "{}", "\"F32\"", "\"F16\"", "\"I64\"", "\"\"", "\"__metadata__\"", "[0,0]", "[1,2,3]", "{\"a\":1}",
        ",", ":", "\"", "\\", "\\u0000", "\\ud800", "[", "]", "{", "}", "  ",
    ];

    private static byte[] Mutate(byte[] src, int headerEnd, Random rng)
    {
        var b = new List<byte>(src);
        switch (rng.Next(9))
        {
            case 0: // flip a few random bytes anywhere
                for (int i = rng.Next(1, 5); i > 0 && b.Count > 0; i--) b[rng.Next(b.Count)] = (byte)rng.Next(256);
                break;
            case 1: // flip one bit inside the header
                if (b.Count > 8) { int i = rng.Next(8, Math.Min(headerEnd, b.Count)); b[i] ^= (byte)(1 << rng.Next(8)); }
                break;
            case 2: // truncate
                {
                    int at = rng.Next(b.Count + 1);
                    b.RemoveRange(at, b.Count - at);
                    break;
                }
            case 3: // insert random bytes
                {
                    int at = rng.Next(b.Count + 1);
                    var extra = new byte[rng.Next(1, 17)];
                    rng.NextBytes(extra);
                    b.InsertRange(at, extra);
                    break;
                }
            case 4: // remove a range
                if (b.Count > 0) { int at = rng.Next(b.Count); b.RemoveRange(at, Math.Min(rng.Next(1, 17), b.Count - at)); }
                break;
            case 5: // header length field: random, huge, or slightly off
                if (b.Count >= 8)
                {
                    ulong n = BinaryPrimitives.ReadUInt64LittleEndian(src);
                    ulong v = rng.Next(4) switch
                    {
                        0 => (ulong)rng.NextInt64() * 2 + (ulong)rng.Next(2),
                        1 => ulong.MaxValue - (ulong)rng.Next(16),
                        2 => (ulong)rng.Next(100_000_000 - 64, 100_000_000 + 64),
                        _ => n + (ulong)rng.Next(-16, 17),
                    };
                    var bytes = new byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes, v);
                    for (int i = 0; i < 8; i++) b[i] = bytes[i];
                }
                break;
            case 6: // append trailing bytes
                b.AddRange(Enumerable.Repeat((byte)rng.Next(256), rng.Next(1, 9)));
                break;
            default: // edit the JSON text and fix the length field so the edit reaches the validator
                {
                    if (src.Length < headerEnd) break;
                    var json = Encoding.UTF8.GetString(src, 8, headerEnd - 8).TrimEnd(' ');
                    var data = src.AsSpan(headerEnd).ToArray();
                    int at = rng.Next(json.Length);
                    int len = Math.Min(rng.Next(0, 8), json.Length - at);
                    string snippet = JsonSnippets[rng.Next(JsonSnippets.Length)];
                    json = rng.Next(3) switch
                    {
                        0 => json.Remove(at, len).Insert(at, snippet),                       // replace a span
                        1 => json.Insert(at, json.Substring(rng.Next(json.Length - 12), 12)), // duplicate a piece
                        _ => ReplaceNumber(json, rng, snippet),                              // change a number
                    };
                    return Forge(json, data, pad: rng.Next(2) == 0);
                }
        }
        return b.ToArray();
    }

    private static string ReplaceNumber(string json, Random rng, string snippet)
    {
        var digits = Enumerable.Range(0, json.Length).Where(i => char.IsDigit(json[i]) && (i == 0 || !char.IsDigit(json[i - 1]))).ToArray();
        if (digits.Length == 0) return json;
        int start = digits[rng.Next(digits.Length)];
        int end = start;
        while (end < json.Length && char.IsDigit(json[end])) end++;
        string replacement = rng.Next(2) == 0 ? snippet : rng.Next(0, 64).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return json[..start] + replacement + json[end..];
    }

    // ------------------------------------------------------------------ test doubles

    /// <summary>A read-only stream that cannot seek (like a network or pipe stream).</summary>
    private sealed class NonSeekableStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 5)); // short reads
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A dictionary whose enumeration fails after the first entry.</summary>
    private sealed class ThrowingDictionary(Tensor first) : IReadOnlyDictionary<string, Tensor>
    {
        public Tensor this[string key] => first;
        public IEnumerable<string> Keys => ["first", "second"];
        public IEnumerable<Tensor> Values => [first, first];
        public int Count => 2;
        public bool ContainsKey(string key) => key is "first" or "second";
        public bool TryGetValue(string key, out Tensor value) { value = first; return ContainsKey(key); }
        public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
        {
            yield return new("first", first);
            throw new InvalidOperationException("enumeration failed");
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
