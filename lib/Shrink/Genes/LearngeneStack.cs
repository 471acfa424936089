using System.Collections;
using System.Globalization;
using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tensors.Nn;
using F = Shrink.Tensors.Functional;

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
/// Σ_l a(l, n)·∂L/∂W_l. Frozen learngenes (RequiresGrad = false) receive no gradient; generating costs 2·L·k·P FLOPs for
/// P parameters per block, independent of the batch.
/// </para>
/// <para>
/// Initialisation (the paper does not give it): A₁ like a fresh timm block (γ = 1, β = 0, Linear weights
/// trunc-normal(0.02), biases 0); A_n for n ≥ 2 per <see cref="Init"/> (default TLEG's: Linear weights trunc-normal(0.02),
/// biases and LayerNorm γ, β zero). A_n draws from its own generator seeded by (<see cref="Seed"/>, n).
/// </para>
/// </summary>
public sealed class LearngeneStack : Module, IReadOnlyList<Block>
{
    private readonly List<Block> _learngenes = [];
    private readonly Dictionary<(int Depth, int Count), Tensor> _coefficients = [];

    /// <summary>
    /// Creates <paramref name="count"/> learngenes shaped like a block of <paramref name="config"/> (its EmbedDim, NumHeads,
    /// MlpHidden, QkvBias and LayerNormEps; the depth plays no role here).
    /// </summary>
    /// <exception cref="ArgumentException">count &lt; 0, or a width that is not a multiple of the head count.</exception>
    public LearngeneStack(VitConfig config, int count, LearngeneBasis basis = LearngeneBasis.Chebyshev,
        LearngeneIndexing indexing = LearngeneIndexing.Paper, LearngeneInit init = LearngeneInit.SmallRandom, ulong seed = 0)
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

    /// <summary>The seed the learngenes' initial values derive from (A_n uses a generator seeded by (Seed, n)).</summary>
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
    /// Appends A_{k+1}, initialised per <see cref="Init"/> (or like a fresh block when it is A₁) from its own generator, and
    /// returns it. It is trainable; freeze the earlier ones with <see cref="FreezeFirst"/>.
    /// </summary>
    public Block AddLearngene()
    {
        int n = Count + 1;                                         // 1-based, as A_n in the paper
        var g = new Generator(LearngeneSeed(Seed, n));
        Block block;
        using (TensorScope.Suspend())
        {
            block = new Block(Config.EmbedDim, Config.NumHeads, Config.MlpHidden, Config.QkvBias, 0f, 0f, 0f, Config.LayerNormEps, g);
            var rule = n == 1 ? LearngeneInit.BlockLike : Init;
            foreach (var m in block.Modules())
                switch (m)
                {
                    case Linear lin:
                        if (rule == LearngeneInit.Zeros) Shrink.Tensors.Nn.Init.Zeros_(lin.Weight);
                        else Shrink.Tensors.Nn.Init.TruncNormal_(lin.Weight, std: 0.02, generator: g);
                        if (lin.Bias is not null) Shrink.Tensors.Nn.Init.Zeros_(lin.Bias);
                        break;
                    case LayerNorm ln:
                        Shrink.Tensors.Nn.Init.Constant_(ln.Weight!, rule == LearngeneInit.BlockLike ? 1 : 0);
                        Shrink.Tensors.Nn.Init.Zeros_(ln.Bias!);
                        break;
                }
        }
        _learngenes.Add(RegisterModule(Count.ToString(CultureInfo.InvariantCulture), block));
        return block;
    }

    /// <summary>The seed of learngene A_n's generator: a SplitMix64 hash of (seed, n).</summary>
    public static ulong LearngeneSeed(ulong seed, int learngene)
    {
        ulong z = unchecked(seed * 0x9E3779B97F4A7C15UL + (ulong)learngene * 0xD1B54A32D192ED03UL + 0x4C4541524E47454EUL);   // "LEARNGEN"
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// Incremental training's freezing: A₁ … A_<paramref name="count"/> stop receiving gradients (RequiresGrad = false) and
    /// every later learngene becomes trainable. <c>FreezeFirst(0)</c> makes all of them trainable.
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
    /// <paramref name="count"/> learngenes (default all); cached, outside any <see cref="TensorScope"/>, never requiring grad.
    /// </summary>
    public Tensor Coefficients(int depth, int? count = null)
    {
        int k = CheckCount(count);
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), $"LearngeneStack: the depth L must be ≥ 1, got {depth}.");
        if (!_coefficients.TryGetValue((depth, k), out var c))
        {
            using (TensorScope.Suspend()) c = LearngeneCoefficients.AsTensor(Basis, Indexing, depth, k);
            _coefficients[(depth, k)] = c;
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
        var layers = new Dictionary<string, Tensor>[depth];
        for (int l = 0; l < depth; l++) layers[l] = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in TensorNames)
        {
            var shape = _learngenes[0].GetParameter(name).Shape.ToArray();
            int numel = _learngenes[0].GetParameter(name).Numel;
            var flat = new Tensor[k];
            for (int n = 0; n < k; n++)
            {
                var a = _learngenes[n].GetParameter(name);
                if (a.Numel != numel || !a.Shape.SequenceEqual(shape))
                    throw new InvalidOperationException($"LearngeneStack: learngene {n} holds '{name}' of shape ({string.Join(", ", a.Shape)}), learngene 0 of shape ({string.Join(", ", shape)}); every learngene must have one block's shape.");
                flat[n] = a.Reshape(1, numel);                                    // (1, numel)
            }
            var stacked = k == 1 ? flat[0] : F.Concat(flat, axis: 0);             // (k, numel)
            var w = c.MatMul(stacked);                                            // (L, numel): row l − 1 is W_l
            for (int l = 0; l < depth; l++) layers[l][name] = w.Select(0, l).Reshape(shape);
        }
        return layers.Select(BlockWeights.FromNamed).ToArray();
    }

    /// <summary>
    /// The generated weights as independent tensors (no autograd), keyed like a timm ViT's state dict:
    /// <c>blocks.{l−1}.attn.qkv.weight</c> = W_l, … — the "w/o const" unrolling.
    /// </summary>
    public Dictionary<string, Tensor> Materialize(int depth, int? count = null)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (Tensor.NoGrad())
        using (TensorScope.Suspend())
        {
            var layers = Generate(depth, count);
            for (int l = 0; l < layers.Count; l++)
                foreach (var (name, t) in layers[l].Named())
                {
                    var copy = Tensor.Empty([.. t.Shape]);
                    copy.CopyFrom(t);
                    state[$"blocks.{l}.{name}"] = copy;
                }
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

    /// <inheritdoc/>
    public override string ExtraRepr() => $"count={Count}, basis={Basis}, indexing={Indexing}, init={Init}";
}
