using System.Numerics.Tensors;
using Shrink.Tensors.Kernels;

namespace Shrink.Tensors;

// Losses (torch.nn.functional): CrossEntropy (hard and soft targets, label smoothing), NllLoss, KlDiv, Mse.
// Each is one fused kernel over rows with its backward beside it. Reductions follow PyTorch's strings.
public static partial class Functional
{
    private enum LossReduction { None, Mean, Sum, BatchMean }

    private static LossReduction ParseReduction(string op, string reduction, bool allowBatchMean) => reduction switch
    {
        "mean" => LossReduction.Mean,
        "sum" => LossReduction.Sum,
        "none" => LossReduction.None,
        "batchmean" when allowBatchMean => LossReduction.BatchMean,
        _ => throw new ArgumentException(
            $"{op}: unknown reduction \"{reduction}\"; allowed: {(allowBatchMean ? "\"batchmean\", " : "")}\"mean\", \"sum\", \"none\".", nameof(reduction)),
    };

    private static void CheckSmoothing(string op, float labelSmoothing)
    {
        if (!(labelSmoothing >= 0f && labelSmoothing <= 1f))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"{op}: labelSmoothing must be in [0, 1], got {labelSmoothing}.");
    }

    /// <summary>
    /// Brings a class-scores tensor into (rows, C) form the way PyTorch reads it: (C) is one row, (N, C) is N rows and
    /// (N, C, d1, …) is N·d1·… rows with the class axis moved last. <paramref name="rowLoss"/> gets the (rows, C) tensor
    /// (a recorded view or copy, so gradients flow back); a "none" result of shape (rows) is reshaped to (), (N) or (N, d1, …).
    /// </summary>
    private static Tensor ClassRows(string op, Tensor scores, int targetCount, string targetWhat, LossReduction red, Func<Tensor, Tensor> rowLoss)
    {
        var s = scores.ShapeArray;
        if (s.Length == 0) throw new ArgumentException($"{op}: input must have a class axis, got shape {ShapeUtil.Format(s)}.");
        int[] noneShape = s.Length == 1 ? [] : [s[0], .. s[2..]];
        int rows = ShapeUtil.Numel(noneShape);
        if (targetCount != rows)
            throw new ArgumentException($"{op}: input {ShapeUtil.Format(s)} needs {rows} {targetWhat} (one per row; class axis is {(s.Length == 1 ? 0 : 1)}), got {targetCount}.");
        var y = rowLoss(ToClassRows(scores));
        return red == LossReduction.None && !ShapeUtil.SameShape(y.ShapeArray, noneShape) ? y.Reshape(noneShape) : y;
    }

    private static Tensor ToClassRows(Tensor t)
    {
        var s = t.ShapeArray;
        if (s.Length == 1) return t.Unsqueeze(0);
        if (s.Length == 2) return t;
        var perm = new int[s.Length];
        perm[0] = 0; perm[^1] = 1;
        for (int i = 2; i < s.Length; i++) perm[i - 1] = i;
        return t.Permute(perm).Reshape(-1, s[1]);
    }

    private static void CheckClassTargets(string op, int[] target, int c, int ignoreIndex)
    {
        for (int i = 0; i < target.Length; i++)
        {
            int t = target[i];
            if (t != ignoreIndex && (uint)t >= (uint)c)
                throw new ArgumentException($"{op}: target {t} at index {i} is out of range for {c} classes (valid: 0..{c - 1}, or ignoreIndex {ignoreIndex}).");
        }
    }

    /// <summary>The reduced loss: per-row values for "none", else a 0-d tensor of Σ / divisor.</summary>
    private static Tensor ReduceRows(Tensor perRow, LossReduction red, double divisor)
    {
        if (red == LossReduction.None) return perRow;
        double sum = 0;
        foreach (var v in perRow.AsSpan()) sum += v;
        return Tensor.Scalar((float)(red == LossReduction.Sum ? sum : sum / divisor));
    }

    /// <summary>The factor a row's loss was multiplied by in the reduced output, times the incoming gradient.</summary>
    private static Func<int, float> RowGradScale(Tensor g, LossReduction red, double divisor)
    {
        if (red == LossReduction.None) { var gs = g.Dense().ToArray(); return r => gs[r]; }
        float gv = g.Item();
        float s = red == LossReduction.Sum ? gv : (float)(gv / divisor);
        return _ => s;
    }

    // ---------------------------------------------------------------- CrossEntropy

    /// <summary>
    /// Cross-entropy of class-index targets (PyTorch <c>F.cross_entropy</c>): per row, with p = softmax(logits) and
    /// ε = <paramref name="labelSmoothing"/>, ℓ = (1 − ε)·(−log p_target) + ε·mean_c(−log p_c), i.e. the cross-entropy with the
    /// smoothed target (1 − ε)·onehot + ε/C, exactly as PyTorch. logits (N, C) with N targets; (N, C, d1, …) with N·d1·…
    /// targets in row-major order; or (C) with one target. Rows whose target is <paramref name="ignoreIndex"/> contribute 0.
    /// Reduction "mean" averages over non-ignored rows (NaN when all are ignored, as PyTorch), "sum" adds, "none" returns
    /// (N) / (N, d1, …). Fused: one log-sum-exp per row forward; backward ∂logits = scale·(softmax − smoothed onehot).
    /// </summary>
    /// <exception cref="ArgumentException">Wrong target count, a target outside [0, C) (the message names the value, its index and C), or an unknown reduction.</exception>
    public static Tensor CrossEntropy(Tensor logits, int[] target, float labelSmoothing = 0f, string reduction = "mean", int ignoreIndex = -100)
    {
        var red = ParseReduction("CrossEntropy", reduction, allowBatchMean: false);
        CheckSmoothing("CrossEntropy", labelSmoothing);
        return ClassRows("CrossEntropy", logits, target.Length, "targets", red, x => CrossEntropyRows(x, target, labelSmoothing, red, ignoreIndex));
    }

    private static Tensor CrossEntropyRows(Tensor logits, int[] target, float eps, LossReduction red, int ignoreIndex)
    {
        int n = logits.ShapeArray[0], c = logits.ShapeArray[1];
        CheckClassTargets("CrossEntropy", target, c, ignoreIndex);
        int count = 0;
        foreach (var t in target) if (t != ignoreIndex) count++;
        var xd = logits.Dense(); var xArr = xd.Storage; int xo = xd.Offset;
        var lse = new float[n];                                       // log Σ_c exp(x_c) per row, saved for backward
        var perRow = Tensor.Empty(n); var lossArr = perRow.Storage;
        RowChunks.For(n, c, (r0, r1) =>
        {
            var tmp = new float[c];
            for (int r = r0; r < r1; r++)
            {
                var row = xArr.AsSpan(xo + r * c, c);
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, tmp);
                TensorPrimitives.Exp(tmp, tmp);
                float l = max + MathF.Log(TensorPrimitives.Sum(tmp));
                lse[r] = l;
                int t = target[r];
                if (t == ignoreIndex) { lossArr[r] = 0f; continue; }
                float nll = l - row[t];                                 // −log p_t
                lossArr[r] = eps == 0f ? nll : (1f - eps) * nll + eps * (l - TensorPrimitives.Sum(row) / c);   // mean_c(−log p_c) = lse − mean(x)
            }
        });
        var y = ReduceRows(perRow, red, count);
        return Tensor.Record(y, "CrossEntropy", [logits], g =>
        {
            var scale = RowGradScale(g, red, count);
            var dx = Tensor.Empty(n, c); var dArr = dx.Storage;
            RowChunks.For(n, c, (r0, r1) =>
            {
                for (int r = r0; r < r1; r++)
                {
                    var d = dArr.AsSpan(r * c, c);
                    int t = target[r];
                    if (t == ignoreIndex) { d.Clear(); continue; }
                    float s = scale(r);
                    TensorPrimitives.Subtract(xArr.AsSpan(xo + r * c, c), lse[r], d);
                    TensorPrimitives.Exp(d, d);                                     // softmax
                    TensorPrimitives.Multiply(d, s, d);
                    if (eps != 0f) TensorPrimitives.Add(d, -s * eps / c, d);        // − ε/C
                    d[t] -= s * (1f - eps);                                         // − (1 − ε)·onehot
                }
            });
            logits.AccumulateGrad(dx);
        });
    }

    /// <summary>
    /// Cross-entropy with class-probability targets (PyTorch's soft-target form of <c>F.cross_entropy</c>): per row
    /// ℓ = −Σ_c t'_c·log softmax(logits)_c with t' = (1 − ε)·t + ε/C. <paramref name="targetProbs"/> has the logits' shape
    /// ((C), (N, C) or (N, C, d1, …)). "mean" divides the sum by the number of rows N·d1·… (as PyTorch), "sum" adds,
    /// "none" returns the per-row losses. ∂logits = scale·(softmax·Σt' − t'); ∂t = scale·(1 − ε)·(−log softmax) when the
    /// target requires grad.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targetProbs, float labelSmoothing = 0f, string reduction = "mean")
    {
        var red = ParseReduction("CrossEntropy", reduction, allowBatchMean: false);
        CheckSmoothing("CrossEntropy", labelSmoothing);
        if (!ShapeUtil.SameShape(logits.ShapeArray, targetProbs.ShapeArray))
            throw new ArgumentException($"CrossEntropy: probability targets {ShapeUtil.Format(targetProbs.ShapeArray)} must have the logits' shape {ShapeUtil.Format(logits.ShapeArray)}.");
        var s = logits.ShapeArray;
        int rows = s.Length == 0 ? 0 : ShapeUtil.Numel(s) / Math.Max(s.Length == 1 ? s[0] : s[1], 1);
        var t2 = s.Length == 0 ? targetProbs : ToClassRows(targetProbs);
        return ClassRows("CrossEntropy", logits, rows, "probability rows", red, x => SoftCrossEntropyRows(x, t2, labelSmoothing, red));
    }

    private static Tensor SoftCrossEntropyRows(Tensor logits, Tensor target, float eps, LossReduction red)
    {
        int n = logits.ShapeArray[0], c = logits.ShapeArray[1];
        var xd = logits.Dense(); var xArr = xd.Storage; int xo = xd.Offset;
        var td = target.Dense(); var tArr = td.Storage; int to = td.Offset;
        var lse = new float[n]; var tsum = new float[n];             // log Σ exp(x) and Σ_c t'_c per row
        var perRow = Tensor.Empty(n); var lossArr = perRow.Storage;
        RowChunks.For(n, c, (r0, r1) =>
        {
            var tmp = new float[c];
            for (int r = r0; r < r1; r++)
            {
                var row = xArr.AsSpan(xo + r * c, c); var tr = tArr.AsSpan(to + r * c, c);
                float max = TensorPrimitives.Max(row);
                TensorPrimitives.Subtract(row, max, tmp);
                TensorPrimitives.Exp(tmp, tmp);
                float l = max + MathF.Log(TensorPrimitives.Sum(tmp));
                lse[r] = l;
                // Σ t'_c (lse − x_c) = lse·Σt' − ⟨t', x⟩ with t' = (1 − ε)t + ε/C
                float st = (1f - eps) * TensorPrimitives.Sum(tr) + eps;
                float dot = (1f - eps) * TensorPrimitives.Dot(tr, row) + (eps == 0f ? 0f : eps * TensorPrimitives.Sum(row) / c);
                tsum[r] = st;
                lossArr[r] = l * st - dot;
            }
        });
        var y = ReduceRows(perRow, red, n);
        return Tensor.Record(y, "CrossEntropy", [logits, target], g =>
        {
            var scale = RowGradScale(g, red, n);
            var dx = logits.RequiresGrad ? Tensor.Empty(n, c) : null; var dxArr = dx?.Storage;
            var dt = target.RequiresGrad ? Tensor.Empty(n, c) : null; var dtArr = dt?.Storage;
            RowChunks.For(n, c, (r0, r1) =>
            {
                for (int r = r0; r < r1; r++)
                {
                    var row = xArr.AsSpan(xo + r * c, c); var tr = tArr.AsSpan(to + r * c, c);
                    float s = scale(r);
                    if (dxArr is not null)
                    {
                        var d = dxArr.AsSpan(r * c, c);
                        TensorPrimitives.Subtract(row, lse[r], d);
                        TensorPrimitives.Exp(d, d);
                        TensorPrimitives.Multiply(d, s * tsum[r], d);               // softmax·Σt'
                        TensorPrimitives.MultiplyAdd(tr, -s * (1f - eps), d, d);    // − (1 − ε)t
                        if (eps != 0f) TensorPrimitives.Add(d, -s * eps / c, d);    // − ε/C
                    }
                    if (dtArr is not null)
                    {
                        var d = dtArr.AsSpan(r * c, c);
                        TensorPrimitives.Subtract(lse[r], row, d);                  // −log softmax
                        TensorPrimitives.Multiply(d, s * (1f - eps), d);
                    }
                }
            });
            if (dx is not null) logits.AccumulateGrad(dx);
            if (dt is not null) target.AccumulateGrad(dt);
        });
    }

    // ---------------------------------------------------------------- NllLoss

    /// <summary>
    /// Negative log-likelihood of class-index targets (PyTorch <c>F.nll_loss</c>): per row ℓ = −logProbs[target].
    /// Shapes, <paramref name="ignoreIndex"/> and reductions as in <see cref="CrossEntropy(Tensor, int[], float, string, int)"/>
    /// ("mean" over non-ignored rows). ∂logProbs = −scale at the target entry of each row, 0 elsewhere.
    /// </summary>
    public static Tensor NllLoss(Tensor logProbs, int[] target, string reduction = "mean", int ignoreIndex = -100)
    {
        var red = ParseReduction("NllLoss", reduction, allowBatchMean: false);
        return ClassRows("NllLoss", logProbs, target.Length, "targets", red, x =>
        {
            int n = x.ShapeArray[0], c = x.ShapeArray[1];
            CheckClassTargets("NllLoss", target, c, ignoreIndex);
            var xs = x.Dense().AsSpan();
            int count = 0;
            var perRow = Tensor.Empty(n); var ls = perRow.AsSpan();
            for (int r = 0; r < n; r++)
            {
                int t = target[r];
                if (t == ignoreIndex) { ls[r] = 0f; continue; }
                ls[r] = -xs[r * c + t]; count++;
            }
            var y = ReduceRows(perRow, red, count);
            return Tensor.Record(y, "NllLoss", [x], g =>
            {
                var scale = RowGradScale(g, red, count);
                var dx = Tensor.Zeros(n, c); var ds = dx.AsSpan();
                for (int r = 0; r < n; r++) if (target[r] != ignoreIndex) ds[r * c + target[r]] = -scale(r);
                x.AccumulateGrad(dx);
            });
        });
    }

    // ---------------------------------------------------------------- KlDiv

    /// <summary>
    /// Kullback–Leibler divergence with PyTorch <c>F.kl_div</c> semantics: <paramref name="input"/> holds log-probabilities
    /// log q, <paramref name="target"/> probabilities p (or log p when <paramref name="logTarget"/>), same shape, and the
    /// pointwise loss is p·(log p − log q) with 0·log 0 = 0 (log-target: e^{log p}·(log p − log q)).
    /// Reduction "batchmean" (the default here, the mathematically correct KL per sample and the one the KD convention uses:
    /// Σ / input.Size(0)), "sum", "mean" (Σ / number of elements — PyTorch's default, which is not the KL per sample), "none".
    /// Knowledge distillation: τ²·KlDiv(LogSoftmax(s/τ), Softmax(t/τ)) is KL(softmax(t/τ) ‖ softmax(s/τ)) per sample.
    /// ∂input = −p·scale; ∂target (when it requires grad) = (log p + 1 − log q)·scale, or e^{log p}(log p − log q + 1)·scale
    /// for log targets; at p = 0 the target gradient is taken as −log q·scale (the divergent log p + 1 term is dropped;
    /// PyTorch returns NaN there).
    /// </summary>
    public static Tensor KlDiv(Tensor input, Tensor target, string reduction = "batchmean", bool logTarget = false)
    {
        var red = ParseReduction("KlDiv", reduction, allowBatchMean: true);
        if (!ShapeUtil.SameShape(input.ShapeArray, target.ShapeArray))
            throw new ArgumentException($"KlDiv: input {ShapeUtil.Format(input.ShapeArray)} and target {ShapeUtil.Format(target.ShapeArray)} must have the same shape.");
        var shape = input.ShapeArray;
        int n = input.Numel;
        double divisor = red switch { LossReduction.BatchMean => input.Rank == 0 ? 1 : shape[0], LossReduction.Mean => n, _ => 1 };
        var xd = input.Dense(); var td = target.Dense();
        var xArr = xd.Storage; int xo = xd.Offset; var tArr = td.Storage; int to = td.Offset;
        var pointwise = Tensor.Empty(shape); var pw = pointwise.Storage;
        RowChunks.For(n, 4, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                float x = xArr[xo + i], t = tArr[to + i];
                pw[i] = logTarget ? MathF.Exp(t) * (t - x) : t == 0f ? -(t * x) : t * (MathF.Log(t) - x);
            }
        });
        Tensor y;
        if (red == LossReduction.None) y = pointwise;
        else
        {
            double sum = 0;
            foreach (var v in pointwise.AsSpan()) sum += v;
            y = Tensor.Scalar((float)(red == LossReduction.Sum ? sum : sum / divisor));
        }
        return Tensor.Record(y, "KlDiv", [input, target], g =>
        {
            float[]? gAll = red == LossReduction.None ? g.Dense().ToArray() : null;
            float gScalar = gAll is null ? (float)(g.Item() / divisor) : 0f;
            var dx = input.RequiresGrad ? Tensor.Empty(shape) : null; var dxs = dx?.Storage;
            var dt = target.RequiresGrad ? Tensor.Empty(shape) : null; var dts = dt?.Storage;
            RowChunks.For(n, 4, (i0, i1) =>
            {
                for (int i = i0; i < i1; i++)
                {
                    float s = gAll is null ? gScalar : gAll[i];
                    float x = xArr[xo + i], t = tArr[to + i];
                    if (dxs is not null) dxs[i] = -s * (logTarget ? MathF.Exp(t) : t);
                    if (dts is not null)
                        dts[i] = s * (logTarget ? MathF.Exp(t) * (t - x + 1f) : t == 0f ? -x : MathF.Log(t) + 1f - x);
                }
            });
            if (dx is not null) input.AccumulateGrad(dx);
            if (dt is not null) target.AccumulateGrad(dt);
        });
    }

    // ---------------------------------------------------------------- Mse

    /// <summary>
    /// Mean squared error (PyTorch <c>F.mse_loss</c>): pointwise (input − target)², same shapes; "mean" over all elements,
    /// "sum", or "none". ∂input = 2(input − target)·scale, ∂target = −∂input.
    /// </summary>
    public static Tensor Mse(Tensor input, Tensor target, string reduction = "mean")
    {
        var red = ParseReduction("Mse", reduction, allowBatchMean: false);
        if (!ShapeUtil.SameShape(input.ShapeArray, target.ShapeArray))
            throw new ArgumentException($"Mse: input {ShapeUtil.Format(input.ShapeArray)} and target {ShapeUtil.Format(target.ShapeArray)} must have the same shape.");
        var shape = input.ShapeArray;
        int n = input.Numel;
        var diff = Tensor.Empty(shape);                               // input − target, saved for backward
        TensorPrimitives.Subtract(input.Dense().AsSpan(), target.Dense().AsSpan(), diff.AsSpan());
        Tensor y;
        if (red == LossReduction.None)
        {
            y = Tensor.Empty(shape);
            TensorPrimitives.Multiply(diff.AsSpan(), diff.AsSpan(), y.AsSpan());
        }
        else
        {
            double sum = 0;
            foreach (var v in diff.AsSpan()) sum += (double)v * v;
            y = Tensor.Scalar((float)(red == LossReduction.Sum ? sum : sum / n));
        }
        return Tensor.Record(y, "Mse", [input, target], g =>
        {
            var d = Tensor.Empty(shape); var ds = d.AsSpan();
            if (red == LossReduction.None)
            {
                TensorPrimitives.Multiply(diff.AsSpan(), g.Dense().AsSpan(), ds);
                TensorPrimitives.Multiply(ds, 2f, ds);
            }
            else TensorPrimitives.Multiply(diff.AsSpan(), (float)(2.0 * g.Item() / (red == LossReduction.Sum ? 1 : n)), ds);
            if (input.RequiresGrad) input.AccumulateGrad(d);
            if (target.RequiresGrad) target.AccumulateGrad(Tensor.Neg(d));
        });
    }
}
