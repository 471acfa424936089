namespace Shrink.Tensors.Nn;

/// <summary>
/// Batch normalisation over (B, C, H, W) per channel (PyTorch <c>nn.BatchNorm2d</c>; also accepts (B, C) like BatchNorm1d).
/// Training: y = (x − μ_B)/√(σ²_B + eps)·γ + β with batch statistics (biased σ²), and the buffers
/// <c>running_mean</c>, <c>running_var</c> (unbiased) move by <c>momentum</c>; <c>num_batches_tracked</c> counts steps.
/// Evaluation: the running statistics are used.
/// </summary>
public sealed class BatchNorm2d : Module<Tensor, Tensor>
{
    /// <summary>γ (C), initialised to 1.</summary>
    public Parameter? Weight { get; }
    /// <summary>β (C), initialised to 0.</summary>
    public Parameter? Bias { get; }
    /// <summary>Running mean (C), initialised to 0.</summary>
    public Tensor RunningMean { get; }
    /// <summary>Running (unbiased) variance (C), initialised to 1.</summary>
    public Tensor RunningVar { get; }
    /// <summary>Number of training-mode forward passes (a float32 scalar; PyTorch stores int64).</summary>
    public Tensor NumBatchesTracked { get; }
    /// <summary>Channels C.</summary>
    public int NumFeatures { get; }
    /// <summary>Added to the variance.</summary>
    public float Eps { get; }
    /// <summary>Weight of the newest batch statistic in the running averages.</summary>
    public float Momentum { get; }

    /// <summary>Creates the layer for <paramref name="numFeatures"/> channels.</summary>
    public BatchNorm2d(int numFeatures, float eps = 1e-5f, float momentum = 0.1f, bool affine = true)
    {
        NumFeatures = numFeatures; Eps = eps; Momentum = momentum;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(numFeatures));
            Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        }
        else { RegisterParameter("weight", (Parameter?)null); RegisterParameter("bias", (Parameter?)null); }
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures))!;
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(numFeatures))!;
        NumBatchesTracked = RegisterBuffer("num_batches_tracked", Tensor.Zeros())!;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank < 2 || input.Shape[1] != NumFeatures)
            throw new ArgumentException($"BatchNorm2d: input shape {ShapeUtil.Format([.. input.Shape])} does not have {NumFeatures} channels on axis 1.");
        if (Training) NumBatchesTracked.AsSpan()[0] += 1;
        return Functional.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, Training, Momentum, Eps);
    }

    /// <inheritdoc/>
    public override string ExtraRepr() => $"{NumFeatures}, eps={Eps:G}, momentum={Momentum:G}, affine={(Weight is null ? "False" : "True")}";
}
