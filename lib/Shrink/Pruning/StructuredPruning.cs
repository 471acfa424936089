using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// Structured pruning of a <see cref="VisionTransformer"/> that physically shrinks it: whole attention heads and MLP
/// neurons are removed and a new, smaller model is built (<see cref="VitConfig.BlockNumHeads"/>,
/// <see cref="VitConfig.BlockMlpHidden"/>) whose weights are the kept rows and columns (<c>index_select</c>), so
/// <see cref="ModuleExtensions.ParameterCount"/> and <see cref="VisionTransformer.Flops"/> drop with them.
/// <para>
/// What a head and a neuron are. Block i with H heads of width d_h computes
/// Attn(x) = Σ_h P_h(x) V_h(x) W_proj[:, h] + b_proj, where head h owns the rows h·d_h … (h+1)·d_h − 1 of each of the q, k
/// and v parts of <c>qkv</c> (weights and biases) and the same columns of <c>proj.weight</c>. MLP neuron j owns row j of
/// <c>fc1</c> (weight and bias) and column j of <c>fc2.weight</c>: MLP(x) = Σ_j GELU(w1_j·x + b1_j) w2_{:,j} + b2.
/// Removing head h (neuron j) deletes exactly its term, so when the term is already zero — its <c>proj</c> columns are 0,
/// or its v rows and v bias are 0 (heads); its <c>fc2</c> column is 0, or its <c>fc1</c> row and bias are 0 since
/// GELU(0) = 0 (neurons) — the output is unchanged (<see cref="RemoveDead"/>).
/// </para>
/// <para>
/// Importance for <see cref="Prune"/>: the L1 norm of everything a unit owns (head: its q, k, v rows with biases and its
/// proj columns; neuron: its fc1 row with bias and its fc2 column), the structured analogue of magnitude pruning,
/// summed in float64. The lowest-scoring units of each block are removed; every block keeps at least one head and one
/// neuron.
/// </para>
/// </summary>
public static class StructuredPruning
{
    /// <summary>Importance of every head, [block][head]: Σ|q,k,v rows and biases| + Σ|proj columns| of the head.</summary>
    public static double[][] HeadImportance(VisionTransformer vit)
    {
        ArgumentNullException.ThrowIfNull(vit);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return vit.Blocks.Select(b =>
        {
            var a = b.Attn;
            long h = a.NumHeads, dh = a.HeadDim;
            var s = HeadRows(a.Qkv.weight!, h, dh).abs().sum([0, 2, 3]);                          // (H,)
            if (a.Qkv.bias is { } qb) s += qb.to(ScalarType.Float64).view(3, h, dh).abs().sum([0, 2]);   // (H,)
            s += HeadColumns(a.Proj.weight!, h, dh).abs().sum([0, 2]);                                // (H,)
            return s.cpu().data<double>().ToArray();
        }).ToArray();
    }

    /// <summary>Importance of every MLP neuron, [block][neuron]: Σ|fc1 row and bias| + Σ|fc2 column| of the neuron.</summary>
    public static double[][] NeuronImportance(VisionTransformer vit)
    {
        ArgumentNullException.ThrowIfNull(vit);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return vit.Blocks.Select(b =>
        {
            var m = b.Mlp;
            var s = m.Fc1.weight!.to(ScalarType.Float64).abs().sum(1);                // (M,)
            if (m.Fc1.bias is { } b1) s += b1.to(ScalarType.Float64).abs();            // (M,)
            s += m.Fc2.weight!.to(ScalarType.Float64).abs().sum(0);                    // (M,)
            return s.cpu().data<double>().ToArray();
        }).ToArray();
    }

    /// <summary>Sets every parameter of head <paramref name="head"/> of block <paramref name="block"/> to 0 (its q, k, v rows and biases, its proj columns).</summary>
    public static void ZeroHead(VisionTransformer vit, int block, int head)
    {
        ArgumentNullException.ThrowIfNull(vit);
        CheckIndex(block, vit.Blocks.Count, "block");
        var a = vit.Blocks[block].Attn;
        CheckIndex(head, a.NumHeads, "head");
        long h = a.NumHeads, dh = a.HeadDim;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = a.Qkv.weight!;
        w.view(3, h, dh, w.shape[1]).select(1, head).zero_();                    // (3, d_h, D) rows of q, k, v
        a.Qkv.bias?.view(3, h, dh).select(1, head).zero_();                       // (3, d_h)
        var p = a.Proj.weight!;
        p.view(p.shape[0], h, dh).select(1, head).zero_();                        // (D, d_h) columns of proj
    }

    /// <summary>Sets every parameter of MLP neuron <paramref name="neuron"/> of block <paramref name="block"/> to 0 (its fc1 row and bias, its fc2 column).</summary>
    public static void ZeroNeuron(VisionTransformer vit, int block, int neuron)
    {
        ArgumentNullException.ThrowIfNull(vit);
        CheckIndex(block, vit.Blocks.Count, "block");
        var m = vit.Blocks[block].Mlp;
        CheckIndex(neuron, (int)m.Fc1.weight!.shape[0], "neuron");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        m.Fc1.weight!.select(0, neuron).zero_();                                 // (D,) row of fc1
        m.Fc1.bias?.select(0, neuron).zero_();                                    // ()
        m.Fc2.weight!.select(1, neuron).zero_();                                  // (D,) column of fc2
    }

    /// <summary>Heads whose contribution is exactly zero, [block] → head indices: proj columns all 0, or v rows and v bias all 0.</summary>
    public static int[][] DeadHeads(VisionTransformer vit)
    {
        ArgumentNullException.ThrowIfNull(vit);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return vit.Blocks.Select(b =>
        {
            var a = b.Attn;
            long h = a.NumHeads, dh = a.HeadDim;
            var w = a.Qkv.weight!;
            var projZero = HeadColumns(a.Proj.weight!, h, dh).ne(0).sum([0, 2]).eq(0);           // (H,)
            var vNonZero = w.view(3, h, dh, w.shape[1]).select(0, 2).ne(0).sum([1, 2]);           // (H,)
            if (a.Qkv.bias is { } qb) vNonZero += qb.view(3, h, dh).select(0, 2).ne(0).sum(1);   // (H,)
            return Indices(projZero.logical_or(vNonZero.eq(0)));
        }).ToArray();
    }

    /// <summary>MLP neurons whose contribution is exactly zero, [block] → neuron indices: fc2 column all 0, or fc1 row and bias all 0 (GELU(0) = 0).</summary>
    public static int[][] DeadNeurons(VisionTransformer vit)
    {
        ArgumentNullException.ThrowIfNull(vit);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return vit.Blocks.Select(b =>
        {
            var m = b.Mlp;
            var columnZero = m.Fc2.weight!.ne(0).sum(0).eq(0);                    // (M,)
            var rowNonZero = m.Fc1.weight!.ne(0).sum(1);                          // (M,)
            if (m.Fc1.bias is { } b1) rowNonZero += b1.ne(0).to(ScalarType.Int64);   // (M,)
            return Indices(columnZero.logical_or(rowNonZero.eq(0)));
        }).ToArray();
    }

    /// <summary>
    /// A new model without the dead heads and neurons (<see cref="DeadHeads"/>, <see cref="DeadNeurons"/>): same outputs
    /// (up to float summation order in the smaller matrix products), fewer parameters and FLOPs. A block whose units are
    /// all dead keeps one of them (it contributes 0 anyway).
    /// </summary>
    public static VisionTransformer RemoveDead(VisionTransformer vit)
    {
        var deadHeads = DeadHeads(vit);
        var deadNeurons = DeadNeurons(vit);
        var keepHeads = vit.Blocks.Select((b, i) => KeepAtLeastOne(Enumerable.Range(0, b.Attn.NumHeads).Except(deadHeads[i]).ToArray())).ToArray();
        var keepNeurons = vit.Blocks.Select((b, i) => KeepAtLeastOne(Enumerable.Range(0, (int)b.Mlp.Fc1.weight!.shape[0]).Except(deadNeurons[i]).ToArray())).ToArray();
        return Shrink(vit, keepHeads, keepNeurons);
    }

    /// <summary>
    /// Removes, in every block, the ⌊<paramref name="headFraction"/>·H_i⌋ heads and ⌊<paramref name="neuronFraction"/>·M_i⌋
    /// neurons of lowest importance (<see cref="HeadImportance"/>, <see cref="NeuronImportance"/>; ties by index), keeping at
    /// least one of each, and returns the smaller model. The removed units' terms are dropped, so the outputs change unless
    /// those terms were zero.
    /// </summary>
    public static VisionTransformer Prune(VisionTransformer vit, double headFraction, double neuronFraction)
    {
        ArgumentNullException.ThrowIfNull(vit);
        if (!(headFraction >= 0 && headFraction <= 1)) throw new ArgumentException($"StructuredPruning.Prune: headFraction must be in [0, 1], got {headFraction}.");
        if (!(neuronFraction >= 0 && neuronFraction <= 1)) throw new ArgumentException($"StructuredPruning.Prune: neuronFraction must be in [0, 1], got {neuronFraction}.");
        var hs = HeadImportance(vit);
        var ns = NeuronImportance(vit);
        return Shrink(vit, hs.Select(s => KeepTop(s, headFraction)).ToArray(), ns.Select(s => KeepTop(s, neuronFraction)).ToArray());
    }

    /// <summary>
    /// The model that keeps, in block i, the heads <paramref name="keepHeads"/>[i] and the MLP neurons
    /// <paramref name="keepNeurons"/>[i] (ascending indices into the current model) and every other parameter and buffer
    /// as they are: a new <see cref="VisionTransformer"/> whose configuration lists the per-block sizes, on the device
    /// (and in the dtype and train/eval mode) of <paramref name="vit"/>, with its <see cref="VisionTransformer.FusedAttention"/>
    /// setting. Unstructured pruning masks are not carried over.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong number of blocks, an empty, unsorted, repeated or out-of-range index list.</exception>
    public static VisionTransformer Shrink(VisionTransformer vit, IReadOnlyList<int[]> keepHeads, IReadOnlyList<int[]> keepNeurons)
    {
        ArgumentNullException.ThrowIfNull(vit);
        ArgumentNullException.ThrowIfNull(keepHeads);
        ArgumentNullException.ThrowIfNull(keepNeurons);
        int depth = vit.Blocks.Count;
        if (keepHeads.Count != depth || keepNeurons.Count != depth)
            throw new ArgumentException($"StructuredPruning.Shrink: expected index lists for {depth} blocks, got {keepHeads.Count} (heads) and {keepNeurons.Count} (neurons).");
        for (int i = 0; i < depth; i++)
        {
            CheckKeep(keepHeads[i], vit.Blocks[i].Attn.NumHeads, $"heads of block {i}");
            CheckKeep(keepNeurons[i], (int)vit.Blocks[i].Mlp.Fc1.weight!.shape[0], $"neurons of block {i}");
        }
        var config = vit.Config with
        {
            BlockNumHeads = keepHeads.Select(k => k.Length).ToArray(),
            BlockMlpHidden = keepNeurons.Select(k => k.Length).ToArray(),
        };
        var reference = vit.parameters().First();
        var small = new VisionTransformer(config);
        small.to(reference.dtype).to(reference.device);
        small.FusedAttention = vit.FusedAttention;
        var masks = PruningMask.All(vit).Select(m => PruningMask.MaskName(m.Name)).ToHashSet(StringComparer.Ordinal);
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var device = reference.device;
            var target = vit.state_dict().Where(kv => !masks.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
            for (int i = 0; i < depth; i++)
            {
                var a = vit.Blocks[i].Attn;
                long h = a.NumHeads, dh = a.HeadDim, inner = h * dh;
                var heads = tensor(keepHeads[i].Select(x => (long)x).ToArray(), device: device);     // (H',)
                var offsets = arange(dh, device: device);                                             // (d_h,)
                var cols = (heads.unsqueeze(1) * dh + offsets).flatten();                              // (H'·d_h,) head-major
                var rows = (arange(3, device: device).unsqueeze(1) * inner + cols).flatten();          // (3·H'·d_h,) q, k, v parts
                var neurons = tensor(keepNeurons[i].Select(x => (long)x).ToArray(), device: device);  // (M',)
                var m = vit.Blocks[i].Mlp;
                string p = $"blocks.{i}.";
                target[p + "attn.qkv.weight"] = a.Qkv.weight!.index_select(0, rows);                   // (3·H'·d_h, D)
                if (a.Qkv.bias is { } qb) target[p + "attn.qkv.bias"] = qb.index_select(0, rows);      // (3·H'·d_h,)
                target[p + "attn.proj.weight"] = a.Proj.weight!.index_select(1, cols);                 // (D, H'·d_h)
                target[p + "mlp.fc1.weight"] = m.Fc1.weight!.index_select(0, neurons);                 // (M', D)
                if (m.Fc1.bias is { } b1) target[p + "mlp.fc1.bias"] = b1.index_select(0, neurons);    // (M',)
                target[p + "mlp.fc2.weight"] = m.Fc2.weight!.index_select(1, neurons);                 // (D, M')
            }
            small.LoadStateDictChecked(target, strict: true, source: "StructuredPruning.Shrink");
        }
        small.train(vit.training);
        return small;
    }

    /// <summary>The qkv weight (3·H·d_h, D) as (3, H, d_h, D) in float64.</summary>
    private static Tensor HeadRows(Tensor qkvWeight, long heads, long dh) =>
        qkvWeight.to(ScalarType.Float64).view(3, heads, dh, qkvWeight.shape[1]);

    /// <summary>The proj weight (D, H·d_h) as (D, H, d_h) in float64.</summary>
    private static Tensor HeadColumns(Tensor projWeight, long heads, long dh) =>
        projWeight.to(ScalarType.Float64).view(projWeight.shape[0], heads, dh);

    private static int[] Indices(Tensor flags) =>
        flags.nonzero().squeeze(1).cpu().data<long>().ToArray().Select(i => (int)i).ToArray();

    private static int[] KeepAtLeastOne(int[] keep) => keep.Length > 0 ? keep : [0];

    private static int[] KeepTop(double[] scores, double fraction)
    {
        int remove = Math.Min((int)Math.Floor(fraction * scores.Length + 1e-9), scores.Length - 1);
        var removed = Enumerable.Range(0, scores.Length).OrderBy(j => scores[j]).ThenBy(j => j).Take(remove).ToHashSet();
        return Enumerable.Range(0, scores.Length).Where(j => !removed.Contains(j)).ToArray();
    }

    private static void CheckIndex(int index, int count, string what)
    {
        if ((uint)index >= (uint)count) throw new ArgumentException($"StructuredPruning: {what} index {index} is outside 0..{count - 1}.");
    }

    private static void CheckKeep(int[] keep, int count, string what)
    {
        ArgumentNullException.ThrowIfNull(keep);
        if (keep.Length == 0) throw new ArgumentException($"StructuredPruning.Shrink: the {what} keep none; keep at least one.");
        for (int j = 0; j < keep.Length; j++)
        {
            if ((uint)keep[j] >= (uint)count) throw new ArgumentException($"StructuredPruning.Shrink: the {what} list index {keep[j]} outside 0..{count - 1}.");
            if (j > 0 && keep[j] <= keep[j - 1]) throw new ArgumentException($"StructuredPruning.Shrink: the {what} must be listed in ascending order without repeats, got [{string.Join(", ", keep)}].");
        }
    }
}
