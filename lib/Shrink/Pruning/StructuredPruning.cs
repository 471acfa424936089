using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Pruning;

/// <summary>
/// Structured pruning of a <see cref="VisionTransformer"/> that physically shrinks it: whole attention heads and MLP
/// neurons are removed and a new, smaller model is built (<see cref="VitConfig.BlockNumHeads"/>,
/// <see cref="VitConfig.BlockMlpHidden"/>), so <see cref="Module.ParameterCount"/> and
/// <see cref="VisionTransformer.Flops"/> drop with them.
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
/// proj columns; neuron: its fc1 row with bias and its fc2 column), the structured analogue of magnitude pruning.
/// The lowest-scoring units of each block are removed; every block keeps at least one head and one neuron.
/// </para>
/// </summary>
public static class StructuredPruning
{
    /// <summary>Importance of every head, [block][head]: Σ|q,k,v rows and biases| + Σ|proj columns| of the head.</summary>
    public static double[][] HeadImportance(VisionTransformer vit)
    {
        ArgumentNullException.ThrowIfNull(vit);
        return vit.Blocks.Select(b => Enumerable.Range(0, b.Attn.NumHeads).Select(h => HeadL1(b.Attn, h)).ToArray()).ToArray();
    }

    /// <summary>Importance of every MLP neuron, [block][neuron]: Σ|fc1 row and bias| + Σ|fc2 column| of the neuron.</summary>
    public static double[][] NeuronImportance(VisionTransformer vit)
    {
        ArgumentNullException.ThrowIfNull(vit);
        return vit.Blocks.Select(b => Enumerable.Range(0, b.Mlp.Fc1.OutFeatures).Select(j => NeuronL1(b.Mlp, j)).ToArray()).ToArray();
    }

    /// <summary>Sets every parameter of head <paramref name="head"/> of block <paramref name="block"/> to 0 (its q, k, v rows and biases, its proj columns).</summary>
    public static void ZeroHead(VisionTransformer vit, int block, int head)
    {
        var a = vit.Blocks[block].Attn;
        CheckIndex(head, a.NumHeads, "head");
        int dh = a.HeadDim, inner = a.InnerDim;
        using var _ = Tensor.NoGrad();
        var w = a.Qkv.Weight.AsSpan();
        for (int part = 0; part < 3; part++)
            for (int r = part * inner + head * dh; r < part * inner + (head + 1) * dh; r++)
            {
                w.Slice(r * a.Qkv.InFeatures, a.Qkv.InFeatures).Clear();
                if (a.Qkv.Bias is { } qb) qb.AsSpan()[r] = 0f;
            }
        var p = a.Proj.Weight.AsSpan();
        for (int o = 0; o < a.Proj.OutFeatures; o++) p.Slice(o * inner + head * dh, dh).Clear();
    }

    /// <summary>Sets every parameter of MLP neuron <paramref name="neuron"/> of block <paramref name="block"/> to 0 (its fc1 row and bias, its fc2 column).</summary>
    public static void ZeroNeuron(VisionTransformer vit, int block, int neuron)
    {
        var m = vit.Blocks[block].Mlp;
        CheckIndex(neuron, m.Fc1.OutFeatures, "neuron");
        using var _ = Tensor.NoGrad();
        m.Fc1.Weight.AsSpan().Slice(neuron * m.Fc1.InFeatures, m.Fc1.InFeatures).Clear();
        if (m.Fc1.Bias is { } b) b.AsSpan()[neuron] = 0f;
        var w2 = m.Fc2.Weight.AsSpan();
        for (int o = 0; o < m.Fc2.OutFeatures; o++) w2[o * m.Fc2.InFeatures + neuron] = 0f;
    }

    /// <summary>Heads whose contribution is exactly zero, [block] → head indices: proj columns all 0, or v rows and v bias all 0.</summary>
    public static int[][] DeadHeads(VisionTransformer vit)
    {
        ArgumentNullException.ThrowIfNull(vit);
        return vit.Blocks.Select(b =>
        {
            var a = b.Attn;
            int dh = a.HeadDim, inner = a.InnerDim, din = a.Qkv.InFeatures;
            var w = a.Qkv.Weight.ToArray();
            var bias = a.Qkv.Bias?.ToArray();
            var p = a.Proj.Weight.ToArray();
            return Enumerable.Range(0, a.NumHeads).Where(h =>
            {
                bool projZero = true;
                for (int o = 0; o < a.Proj.OutFeatures && projZero; o++)
                    for (int c = h * dh; c < (h + 1) * dh; c++) if (p[o * inner + c] != 0f) { projZero = false; break; }
                if (projZero) return true;
                for (int r = 2 * inner + h * dh; r < 2 * inner + (h + 1) * dh; r++)
                {
                    if (bias is not null && bias[r] != 0f) return false;
                    for (int c = 0; c < din; c++) if (w[r * din + c] != 0f) return false;
                }
                return true;
            }).ToArray();
        }).ToArray();
    }

    /// <summary>MLP neurons whose contribution is exactly zero, [block] → neuron indices: fc2 column all 0, or fc1 row and bias all 0 (GELU(0) = 0).</summary>
    public static int[][] DeadNeurons(VisionTransformer vit)
    {
        ArgumentNullException.ThrowIfNull(vit);
        return vit.Blocks.Select(b =>
        {
            var m = b.Mlp;
            int din = m.Fc1.InFeatures, hidden = m.Fc1.OutFeatures;
            var w1 = m.Fc1.Weight.ToArray();
            var b1 = m.Fc1.Bias?.ToArray();
            var w2 = m.Fc2.Weight.ToArray();
            return Enumerable.Range(0, hidden).Where(j =>
            {
                bool col = true;
                for (int o = 0; o < m.Fc2.OutFeatures; o++) if (w2[o * hidden + j] != 0f) { col = false; break; }
                if (col) return true;
                if (b1 is not null && b1[j] != 0f) return false;
                for (int c = 0; c < din; c++) if (w1[j * din + c] != 0f) return false;
                return true;
            }).ToArray();
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
        var keepNeurons = vit.Blocks.Select((b, i) => KeepAtLeastOne(Enumerable.Range(0, b.Mlp.Fc1.OutFeatures).Except(deadNeurons[i]).ToArray())).ToArray();
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
    /// as they are: a new <see cref="VisionTransformer"/> whose configuration lists the per-block sizes. Unstructured
    /// pruning masks are not carried over.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong number of blocks, an empty, unsorted, repeated or out-of-range index list.</exception>
    public static VisionTransformer Shrink(VisionTransformer vit, IReadOnlyList<int[]> keepHeads, IReadOnlyList<int[]> keepNeurons)
    {
        ArgumentNullException.ThrowIfNull(vit);
        int depth = vit.Blocks.Count;
        if (keepHeads.Count != depth || keepNeurons.Count != depth)
            throw new ArgumentException($"StructuredPruning.Shrink: expected index lists for {depth} blocks, got {keepHeads.Count} (heads) and {keepNeurons.Count} (neurons).");
        for (int i = 0; i < depth; i++)
        {
            CheckKeep(keepHeads[i], vit.Blocks[i].Attn.NumHeads, $"heads of block {i}");
            CheckKeep(keepNeurons[i], vit.Blocks[i].Mlp.Fc1.OutFeatures, $"neurons of block {i}");
        }
        var config = vit.Config with
        {
            BlockNumHeads = keepHeads.Select(k => k.Length).ToArray(),
            BlockMlpHidden = keepNeurons.Select(k => k.Length).ToArray(),
        };
        var small = new VisionTransformer(config);
        var state = vit.StateDict();
        var masks = PruningMask.All(vit).Select(m => PruningMask.MaskName(m.Name)).ToHashSet(StringComparer.Ordinal);
        var target = new Dictionary<string, Tensor>();
        using (Tensor.NoGrad())
        using (TensorScope.Suspend())
        {
            foreach (var (k, v) in state) if (!masks.Contains(k)) target[k] = v;
            for (int i = 0; i < depth; i++)
            {
                var a = vit.Blocks[i].Attn;
                int dh = a.HeadDim, inner = a.InnerDim;
                var qkvRows = new List<int>();
                for (int part = 0; part < 3; part++)
                    foreach (var h in keepHeads[i])
                        for (int r = 0; r < dh; r++) qkvRows.Add(part * inner + h * dh + r);
                var projCols = keepHeads[i].SelectMany(h => Enumerable.Range(h * dh, dh)).ToArray();
                string p = $"blocks.{i}.";
                target[p + "attn.qkv.weight"] = a.Qkv.Weight.IndexSelect(0, [.. qkvRows]).Contiguous();
                if (a.Qkv.Bias is { } qb) target[p + "attn.qkv.bias"] = qb.IndexSelect(0, [.. qkvRows]).Contiguous();
                target[p + "attn.proj.weight"] = a.Proj.Weight.IndexSelect(1, projCols).Contiguous();
                var m = vit.Blocks[i].Mlp;
                target[p + "mlp.fc1.weight"] = m.Fc1.Weight.IndexSelect(0, keepNeurons[i]).Contiguous();
                if (m.Fc1.Bias is { } b1) target[p + "mlp.fc1.bias"] = b1.IndexSelect(0, keepNeurons[i]).Contiguous();
                target[p + "mlp.fc2.weight"] = m.Fc2.Weight.IndexSelect(1, keepNeurons[i]).Contiguous();
            }
            small.LoadStateDict(target, strict: true);
        }
        small.Train(vit.Training);
        return small;
    }

    private static int[] KeepAtLeastOne(int[] keep) => keep.Length > 0 ? keep : [0];

    private static int[] KeepTop(double[] scores, double fraction)
    {
        int remove = Math.Min((int)Math.Floor(fraction * scores.Length + 1e-9), scores.Length - 1);
        var removed = Enumerable.Range(0, scores.Length).OrderBy(j => scores[j]).ThenBy(j => j).Take(remove).ToHashSet();
        return Enumerable.Range(0, scores.Length).Where(j => !removed.Contains(j)).ToArray();
    }

    private static double HeadL1(Attention a, int h)
    {
        int dh = a.HeadDim, inner = a.InnerDim, din = a.Qkv.InFeatures;
        var w = a.Qkv.Weight.ToArray();
        var b = a.Qkv.Bias?.ToArray();
        var p = a.Proj.Weight.ToArray();
        double s = 0;
        for (int part = 0; part < 3; part++)
            for (int r = part * inner + h * dh; r < part * inner + (h + 1) * dh; r++)
            {
                for (int c = 0; c < din; c++) s += Math.Abs(w[r * din + c]);
                if (b is not null) s += Math.Abs(b[r]);
            }
        for (int o = 0; o < a.Proj.OutFeatures; o++)
            for (int c = h * dh; c < (h + 1) * dh; c++) s += Math.Abs(p[o * inner + c]);
        return s;
    }

    private static double NeuronL1(Mlp m, int j)
    {
        int din = m.Fc1.InFeatures, hidden = m.Fc1.OutFeatures;
        double s = 0;
        var w1 = m.Fc1.Weight.AsSpan().Slice(j * din, din);
        foreach (var v in w1) s += Math.Abs(v);
        if (m.Fc1.Bias is { } b) s += Math.Abs(b.AsSpan()[j]);
        var w2 = m.Fc2.Weight.AsSpan();
        for (int o = 0; o < m.Fc2.OutFeatures; o++) s += Math.Abs(w2[o * hidden + j]);
        return s;
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
