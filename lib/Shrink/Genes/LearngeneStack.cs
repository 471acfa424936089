using System.Collections;
using System.Globalization;
using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SeedMixer = Shrink.Torch.Seed;

namespace Shrink.Genes;

/// <summary>
/// The learngenes A₁ … A_k of the paper's linear decomposition, and the weights they generate for a model of any depth:
/// <code>
/// W_l = Σ_{n=1..k} a(l, n)·A_n,   a(l, n) = φ_{m(n)}((l − 1)/L),   l = 1 … L
/// </code>
/// for every block tensor W (qkv, proj, fc1, fc2 weights and biases, both LayerNorms' γ and β), with φ the
/// <see cref="Basis"/> (Chebyshev by default), m(n) from <see cref="Indexing"/> and the coefficients fixed
/// (<see cref="LearngeneCoefficients"/>; never trained). Each A_n has the shape of one ViT block and is stored as a
/// <see cref="Block"/> used only as a container of named tensors; A_n is child <c>{n−1}</c>, so the parameter names are
/// <c>{n−1}.norm1.weight</c>, <c>{n−1}.attn.qkv.weight</c>, … — the suffixes are exactly those of <c>blocks.{l}.</c> in a
/// timm ViT, and inside a <see cref="LearngeneVit"/> (child <c>learngenes</c>) they read
/// <c>learngenes.{n−1}.attn.qkv.weight</c>.
/// <para>
/// <see cref="Generate(int, int?)"/> computes, per tensor name, W = C·[A₁; …; A_k] as one matrix product of the L × k
/// coefficient matrix C with the stacked, flattened learngenes (k, numel), on the autograd tape: ∂L/∂A_n =
/// Σ_l a(l, n)·∂L/∂W_l. Frozen learngenes (<c>requires_grad = false</c>) receive no gradient; generating costs 2·L·k·P
/// FLOPs for P parameters per block, independent of the batch. The coefficients follow the learngenes' device and dtype,
/// so the stack runs wherever <c>.to(device)</c> put it.
/// </para>
/// <para>
/// Initialisation (the paper does not give it): A₁ like a fresh timm block (γ = 1, β = 0, Linear weights
/// trunc-normal(0.02), biases 0); A_n for n ≥ 2 per <see cref="Init"/> (default TLEG's: Linear weights trunc-normal(0.02),
/// biases and LayerNorm γ, β zero). A_n draws from its own CPU generator, <see cref="Torch.Seed.Generator(ulong, ReadOnlySpan{ulong})"/>
/// of (<see cref="Seed"/>, "LEARNGEN", n), and then moves to the device of A₁, so its values do not depend on the device.
/// </para>
/// </summary>
public sealed class LearngeneStack : nn.Module, IReadOnlyList<Block>
{
    /// <summary>The stream name of the learngenes' generators in <see cref="Torch.Seed.Mix"/>: "LEARNGEN".</summary>
    public const ulong SeedStream = 0x4C4541524E47454EUL;

    private readonly List<Block> _learngenes = [];
    private readonly Dictionary<(int Depth, int Count, string Device, ScalarType Dtype), Tensor> _coefficients = [];

    /// <summary>
    /// Creates <paramref name="count"/> learngenes shaped like a block of <paramref name="config"/> (its EmbedDim, NumHeads,
    /// MlpHidden, QkvBias and LayerNormEps; the depth plays no role here), on the CPU.
    /// </summary>
    /// <exception cref="ArgumentException">count &lt; 0, or a width that is not a multiple of the head count.</exception>
    public LearngeneStack(VitConfig config, int count, LearngeneBasis basis = LearngeneBasis.Chebyshev,
        LearngeneIndexing indexing = LearngeneIndexing.Paper, LearngeneInit init = LearngeneInit.SmallRandom, ulong seed = 0)
        : base(nameof(LearngeneStack))
    {
        ArgumentNullException.ThrowIfNull(config);
        if (count < 0) throw new ArgumentException($"LearngeneStack: the number of learngenes must be ≥ 0, got {count}.");
        if (config.EmbedDim % config.NumHeads != 0)
            throw new ArgumentException($"LearngeneStack: EmbedDim {config.EmbedDim} is not a multiple of NumHeads {config.NumHeads}.");
        if (!Enum.IsDefined(basis)) throw new ArgumentException($"LearngeneStack: unknown basis {basis}.");
        if (!Enum.IsDefined(indexing)) throw new ArgumentException($"LearngeneStack: unknown indexing {indexing}.");
        if (!Enum.IsDefined(init)) throw new ArgumentException($"LearngeneStack: unknown init {init}.");
        Config = config; Basis = basis; Indexing = indexing; Init = init; Seed = seed;
        for (int n = 0; n < count; n++) AddLearngene();
    }

    /// <summary>The block shape (EmbedDim, NumHeads, MlpHidden, QkvBias, LayerNormEps) of every learngene.</summary>
    public VitConfig Config { get; }

    /// <summary>The basis φ of the coefficients.</summary>
    public LearngeneBasis Basis { get; }

    /// <summary>Which basis function weights A_n (φ_n or φ_{n−1}).</summary>
    public LearngeneIndexing Indexing { get; }

    /// <summary>How A_n, n ≥ 2, starts (A₁ always starts like a fresh block).</summary>
    public LearngeneInit Init { get; }

    /// <summary>The seed the learngenes' initial values derive from (A_n uses the generator of <see cref="LearngeneSeed"/>(Seed, n)).</summary>
    public ulong Seed { get; }

    /// <summary>The number of learngenes k.</summary>
    public int Count => _learngenes.Count;

    /// <summary>Learngene A_{index+1} (0-based <paramref name="index"/>, as in the parameter names).</summary>
    public Block this[int index] => _learngenes[index];

    /// <inheritdoc/>
    public IEnumerator<Block> GetEnumerator() => _learngenes.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The block-relative names of the tensors each learngene holds (<see cref="BlockWeights.Names"/>, without <c>attn.qkv.bias</c> when QkvBias is false).</summary>
    public IReadOnlyList<string> TensorNames => Config.QkvBias ? BlockWeights.Names : BlockWeights.Names.Where(n => n != "attn.qkv.bias").ToArray();

    /// <summary>Parameters per learngene P = per block: 4D (two LayerNorms) + qkv 3D² (+ 3D) + proj D² + D + fc1 D·M + M + fc2 M·D + D.</summary>
    public long BlockParameterCount => BlockParameters(Config);

    /// <summary>Parameters of one block of <paramref name="config"/> (see <see cref="BlockParameterCount"/>).</summary>
    public static long BlockParameters(VitConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int d = config.EmbedDim, m = config.MlpHidden;
        return 4L * d + LayerCost.LinearParameters(d, 3 * d, config.QkvBias) + LayerCost.LinearParameters(d, d)
               + LayerCost.LinearParameters(d, m) + LayerCost.LinearParameters(m, d);
    }

    /// <summary>
    /// Appends A_{k+1}, initialised per <see cref="Init"/> (or like a fresh block when it is A₁) on the CPU from its own
    /// generator, moved to the device and dtype of A₁ and put in A₁'s training mode, and returns it. It is trainable;
    /// freeze the earlier ones with <see cref="FreezeFirst"/>. An optimiser made before the call does not see it.
    /// </summary>
    public Block AddLearngene()
    {
        int n = Count + 1;                                         // 1-based, as A_n in the paper
        var g = SeedMixer.Generator(Seed, SeedStream, (ulong)n);
        var block = NewBlock(Config);
        var rule = n == 1 ? LearngeneInit.BlockLike : Init;
        using (no_grad())
        {
            foreach (var (_, m) in block.named_modules())
                switch (m)
                {
                    case Linear lin:
                        if (rule == LearngeneInit.Zeros) nn.init.zeros_(lin.weight!);
                        else ModelInit.TruncNormal(lin.weight!, 0.02, g);
                        if (lin.bias is not null) nn.init.zeros_(lin.bias);
                        break;
                    case LayerNorm ln:
                        nn.init.constant_(ln.weight!, rule == LearngeneInit.BlockLike ? 1 : 0);
                        nn.init.zeros_(ln.bias!);
                        break;
                }
        }
        if (Count > 0)
        {
            var reference = _learngenes[0].parameters().First();
            block.to(reference.device, reference.dtype);
            block.train(_learngenes[0].training);
        }
        register_module(Count.ToString(CultureInfo.InvariantCulture), block);
        _learngenes.Add(block);
        return block;
    }

    /// <summary>A block of <paramref name="config"/>'s width used as a container of one learngene's tensors (its own init is overwritten).</summary>
    private static Block NewBlock(VitConfig config) =>
        new(config.EmbedDim, config.NumHeads, config.MlpHidden, config.QkvBias, 0f, 0f, 0f, config.LayerNormEps);

    /// <summary>The seed of learngene A_n's generator: <see cref="Torch.Seed.Mix"/>(seed, "LEARNGEN", n).</summary>
    public static ulong LearngeneSeed(ulong seed, int learngene) => SeedMixer.Mix(seed, SeedStream, (ulong)learngene);

    /// <summary>
    /// Incremental training's freezing: A₁ … A_<paramref name="count"/> stop receiving gradients (<c>requires_grad = false</c>)
    /// and every later learngene becomes trainable. <c>FreezeFirst(0)</c> makes all of them trainable.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">count outside 0 … Count.</exception>
    public void FreezeFirst(int count)
    {
        if (count < 0 || count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"LearngeneStack.FreezeFirst: count {count} is outside 0 … {Count} (the number of learngenes).");
        for (int n = 0; n < Count; n++)
            if (n < count) _learngenes[n].Freeze(); else _learngenes[n].Unfreeze();
    }

    /// <summary>
    /// The fixed coefficient matrix C (L, k), C[l − 1, n − 1] = a(l, n), for depth <paramref name="depth"/> and the first
    /// <paramref name="count"/> learngenes (default all), on the learngenes' device and dtype; cached (kept out of every
    /// dispose scope), never requiring grad.
    /// </summary>
    public Tensor Coefficients(int depth, int? count = null)
    {
        int k = CheckCount(count);
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), $"LearngeneStack: the depth L must be ≥ 1, got {depth}.");
        var reference = _learngenes[0].parameters().First();
        var key = (depth, k, reference.device.ToString(), reference.dtype);
        if (!_coefficients.TryGetValue(key, out var c) || c.IsInvalid)
        {
            c = LearngeneCoefficients.AsTensor(Basis, Indexing, depth, k, reference.device, reference.dtype).DetachFromDisposeScope();
            _coefficients[key] = c;
        }
        return c;
    }

    /// <summary>
    /// The block weights W_1 … W_L of a depth-<paramref name="depth"/> model from the first <paramref name="count"/>
    /// learngenes (default all), W_l = Σ_{n ≤ k} a(l, n)·A_n for every block tensor, on the autograd tape (so gradients
    /// reach the trainable A_n). Element l − 1 is layer l.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">depth &lt; 1, or count outside 1 … Count.</exception>
    public IReadOnlyList<BlockWeights> Generate(int depth, int? count = null)
    {
        int k = CheckCount(count);
        var c = Coefficients(depth, k);                                          // (L, k)
        var genes = new Dictionary<string, Parameter>[k];
        for (int n = 0; n < k; n++) genes[n] = _learngenes[n].named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var layers = new Dictionary<string, Tensor>[depth];
        for (int l = 0; l < depth; l++) layers[l] = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in TensorNames)
        {
            var shape = genes[0][name].shape;
            long numel = genes[0][name].numel();
            var flat = new Tensor[k];
            for (int n = 0; n < k; n++)
            {
                var a = genes[n][name];
                if (!a.shape.SequenceEqual(shape))
                    throw new InvalidOperationException($"LearngeneStack: learngene {n} holds '{name}' of shape ({string.Join(", ", a.shape)}), learngene 0 of shape ({string.Join(", ", shape)}); every learngene must have one block's shape.");
                flat[n] = a.reshape(1, numel);                                   // (1, numel)
            }
            var stacked = k == 1 ? flat[0] : torch.cat(flat, 0);                 // (k, numel)
            var w = c.matmul(stacked);                                           // (L, numel): row l − 1 is W_l
            for (int l = 0; l < depth; l++) layers[l][name] = w[l].reshape(shape);   // shape of A_n
        }
        return layers.Select(BlockWeights.FromNamed).ToArray();
    }

    /// <summary>
    /// The generated weights as independent tensors (no autograd, on the learngenes' device), keyed like a timm ViT's state
    /// dict: <c>blocks.{l−1}.attn.qkv.weight</c> = W_l, … — the "w/o const" unrolling.
    /// </summary>
    public Dictionary<string, Tensor> Materialize(int depth, int? count = null)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            var layers = Generate(depth, count);
            for (int l = 0; l < layers.Count; l++)
                foreach (var (name, t) in layers[l].Named())
                    state[$"blocks.{l}.{name}"] = t.clone().MoveToOuterDisposeScope();
        }
        return state;
    }

    /// <summary>FLOPs of generating every block tensor of a depth-<paramref name="depth"/> model from <paramref name="count"/> learngenes: 2·L·k·P (one multiply-add per coefficient and element).</summary>
    public long GenerationFlops(int depth, int? count = null) => 2L * depth * CheckCount(count) * BlockParameterCount;

    private int CheckCount(int? count)
    {
        int k = count ?? Count;
        if (Count == 0) throw new InvalidOperationException("LearngeneStack: there are no learngenes yet (AddLearngene adds one).");
        if (k < 1 || k > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"LearngeneStack: cannot use {k} learngenes, the stack holds {Count} (k must be in 1 … {Count}).");
        return k;
    }

    /// <summary>Releases the cached coefficient tensors with the module.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var c in _coefficients.Values) c.Dispose();
            _coefficients.Clear();
        }
        base.Dispose(disposing);
    }

    /// <inheritdoc/>
    public override string ToString() => $"LearngeneStack(count={Count}, basis={Basis}, indexing={Indexing}, init={Init})";
}
