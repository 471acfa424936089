namespace Shrink.Metrics;

/// <summary>
/// How two classifiers (two teachers, say) agree and differ on the same labelled samples — the pairwise ensemble-diversity
/// measures of Kuncheva &amp; Whitaker (2003) — and, from their probabilities, how far apart their soft outputs are.
/// All fractions are over <see cref="Count"/> samples, in [0, 1]; <see cref="BothRight"/> + <see cref="OnlyFirstRight"/>
/// + <see cref="OnlySecondRight"/> + <see cref="BothWrong"/> = 1.
/// <code>
/// var d = PredictionDiversity.Of(test.Labels, Classification.Probabilities(cnn, test, norm), Classification.Probabilities(inn, test, norm));
/// Console.WriteLine($"agree on {d.Agreement:P1}; either right (oracle) {d.Oracle:P1}; mean JS divergence {d.MeanJensenShannon:F3} nats");
/// </code>
/// </summary>
public sealed record PredictionDiversity
{
    /// <summary>Number of samples.</summary>
    public int Count { get; init; }

    /// <summary>Fraction of samples on which both predict the same class (right or wrong).</summary>
    public double Agreement { get; init; }

    /// <summary>Fraction on which both are right.</summary>
    public double BothRight { get; init; }

    /// <summary>Fraction on which only the first is right.</summary>
    public double OnlyFirstRight { get; init; }

    /// <summary>Fraction on which only the second is right.</summary>
    public double OnlySecondRight { get; init; }

    /// <summary>Fraction on which both are wrong (the "double fault").</summary>
    public double BothWrong { get; init; }

    /// <summary>Accuracy of an oracle that picks whichever is right: 1 − <see cref="BothWrong"/>.</summary>
    public double Oracle => 1 - BothWrong;

    /// <summary>Accuracy of the first classifier.</summary>
    public double FirstAccuracy => BothRight + OnlyFirstRight;

    /// <summary>Accuracy of the second classifier.</summary>
    public double SecondAccuracy => BothRight + OnlySecondRight;

    /// <summary>Of the samples at least one gets right, the fraction only one gets right: (only first + only second) / oracle (NaN when neither is ever right).</summary>
    public double Complementarity => Oracle == 0 ? double.NaN : (OnlyFirstRight + OnlySecondRight) / Oracle;

    /// <summary>Mean Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = (p + q)/2, in nats (0 … ln 2); null when built from predictions only.</summary>
    public double? MeanJensenShannon { get; init; }

    /// <summary>Accuracy of the averaged probabilities (p + q)/2 (ties to the lower class); null when built from predictions only.</summary>
    public double? AverageEnsembleAccuracy { get; init; }

    /// <summary>The measures from the two classifiers' predicted classes.</summary>
    /// <exception cref="ArgumentException">The three lists differ in length or are empty.</exception>
    public static PredictionDiversity Of(IReadOnlyList<int> labels, IReadOnlyList<int> first, IReadOnlyList<int> second)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (labels.Count != first.Count || labels.Count != second.Count)
            throw new ArgumentException($"PredictionDiversity: {labels.Count} labels, {first.Count} and {second.Count} predictions; they must match.");
        if (labels.Count == 0) throw new ArgumentException("PredictionDiversity: no samples.");
        int same = 0, both = 0, onlyFirst = 0, onlySecond = 0, none = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            bool a = first[i] == labels[i], b = second[i] == labels[i];
            same += first[i] == second[i] ? 1 : 0;
            if (a && b) both++; else if (a) onlyFirst++; else if (b) onlySecond++; else none++;
        }
        double n = labels.Count;
        return new PredictionDiversity
        {
            Count = labels.Count, Agreement = same / n, BothRight = both / n, OnlyFirstRight = onlyFirst / n, OnlySecondRight = onlySecond / n, BothWrong = none / n,
        };
    }

    /// <summary>The measures from the two classifiers' class probabilities (rows = samples, e.g. <see cref="Classification.Probabilities"/>), predictions = arg-max.</summary>
    /// <exception cref="ArgumentException">Lengths differ, a row has the wrong number of classes, or a probability is negative or not finite.</exception>
    public static PredictionDiversity Of(IReadOnlyList<int> labels, IReadOnlyList<float[]> first, IReadOnlyList<float[]> second)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (labels.Count != first.Count || labels.Count != second.Count)
            throw new ArgumentException($"PredictionDiversity: {labels.Count} labels, {first.Count} and {second.Count} probability rows; they must match.");
        if (labels.Count == 0) throw new ArgumentException("PredictionDiversity: no samples.");
        int k = first[0].Length;
        var pa = new int[labels.Count];
        var pb = new int[labels.Count];
        double js = 0;
        int ensembleRight = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            float[] p = first[i], q = second[i];
            if (p.Length != k || q.Length != k)
                throw new ArgumentException($"PredictionDiversity: sample {i} has {p.Length} and {q.Length} probabilities, expected {k}.");
            int ia = 0, ib = 0, ie = 0;
            for (int c = 0; c < k; c++)
            {
                if (!(p[c] >= 0 && float.IsFinite(p[c]) && q[c] >= 0 && float.IsFinite(q[c])))
                    throw new ArgumentException($"PredictionDiversity: sample {i}, class {c} has probabilities {p[c]} and {q[c]}; they must be finite and ≥ 0.");
                if (p[c] > p[ia]) ia = c;
                if (q[c] > q[ib]) ib = c;
                if (p[c] + q[c] > p[ie] + q[ie]) ie = c;
                double m = 0.5 * ((double)p[c] + q[c]);
                if (p[c] > 0) js += 0.5 * p[c] * Math.Log(p[c] / m);
                if (q[c] > 0) js += 0.5 * q[c] * Math.Log(q[c] / m);
            }
            pa[i] = ia; pb[i] = ib;
            ensembleRight += ie == labels[i] ? 1 : 0;
        }
        return Of(labels, pa, pb) with { MeanJensenShannon = js / labels.Count, AverageEnsembleAccuracy = (double)ensembleRight / labels.Count };
    }
}
