using Shrink.Tensors;
using Shrink.Tensors.Nn;

namespace Shrink.Models;

/// <summary>
/// Hyperparameters of <see cref="LeNet300100"/>, the fully connected network of the classic lottery-ticket experiments
/// (LeCun et al. 1998; Frankle &amp; Carbin 2019, Figure 2; open_lth's <c>mnist_lenet_300_100</c>).
/// </summary>
/// <param name="InFeatures">Input size after flattening: 784 = 28·28.</param>
/// <param name="Hidden1">Width of the first hidden layer (300).</param>
/// <param name="Hidden2">Width of the second hidden layer (100).</param>
/// <param name="NumClasses">Outputs (10).</param>
/// <param name="KaimingNormalInit">
/// Initialise the weights as open_lth's default for this model (<c>model_init = kaiming_normal</c>: W ~ N(0, 2/fan_in),
/// <c>torch.nn.init.kaiming_normal_</c> with its defaults), biases keeping PyTorch's default U(−1/√in, 1/√in). When false,
/// PyTorch's Linear default for the weights as well.
/// </param>
public sealed record LeNet300100Config(
    int InFeatures = 784,
    int Hidden1 = 300,
    int Hidden2 = 100,
    int NumClasses = 10,
    bool KaimingNormalInit = true)
{
    /// <summary>The name: <c>lenet_300_100</c> for the default widths, else <c>lenet_{h1}_{h2}</c> (open_lth: <c>mnist_lenet_{h1}_{h2}</c>).</summary>
    public string Name => $"lenet_{Hidden1}_{Hidden2}";

    /// <summary>This configuration if every size is positive.</summary>
    /// <exception cref="ArgumentException">A non-positive size.</exception>
    public LeNet300100Config Validated()
    {
        if (InFeatures < 1 || Hidden1 < 1 || Hidden2 < 1 || NumClasses < 1)
            throw new ArgumentException($"LeNet300100Config: every size must be positive, got {this}.");
        return this;
    }
}

/// <summary>
/// LeNet-300-100: logits = fc3(ReLU(fc2(ReLU(fc1(flatten(x)))))), 784 → 300 → 100 → 10, 266,610 parameters.
/// Input (B, 784) or images (B, 1, 28, 28) (flattened from axis 1). Parameter names <c>fc1</c>, <c>fc2</c>, <c>fc3</c>; in open_lth's
/// <c>mnist_lenet_300_100</c> the same tensors are <c>fc_layers.0</c>, <c>fc_layers.1</c>, <c>fc</c> (same shapes, same order).
/// </summary>
public sealed class LeNet300100 : Module<Tensor, Tensor>, IModelCost
{
    /// <summary>Names accepted by <see cref="Create"/>: this model as open_lth and in timm's style.</summary>
    public static IReadOnlyList<string> ModelNames { get; } = ["lenet_300_100", "mnist_lenet_300_100"];

    /// <summary>The configuration this model was built from.</summary>
    public LeNet300100Config Config { get; }
    /// <summary>First layer, InFeatures → Hidden1.</summary>
    public Linear Fc1 { get; }
    /// <summary>Second layer, Hidden1 → Hidden2.</summary>
    public Linear Fc2 { get; }
    /// <summary>Output layer, Hidden2 → NumClasses.</summary>
    public Linear Fc3 { get; }

    /// <summary>Builds the network, drawing every weight from <paramref name="generator"/> (default: a generator seeded with 0).</summary>
    public LeNet300100(LeNet300100Config? config = null, Generator? generator = null)
    {
        Config = (config ?? new LeNet300100Config()).Validated();
        var g = generator ?? new Generator(0);
        var c = Config;
        Fc1 = RegisterModule("fc1", new Linear(c.InFeatures, c.Hidden1, generator: g));
        Fc2 = RegisterModule("fc2", new Linear(c.Hidden1, c.Hidden2, generator: g));
        Fc3 = RegisterModule("fc3", new Linear(c.Hidden2, c.NumClasses, generator: g));
        if (c.KaimingNormalInit)
            using (TensorScope.Suspend())
                foreach (var fc in new[] { Fc1, Fc2, Fc3 }) Init.KaimingNormal_(fc.Weight, generator: g);
    }

    /// <summary>The model named <paramref name="name"/>: <c>lenet_300_100</c> or open_lth's <c>mnist_lenet_300_100</c>.</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static LeNet300100 Create(string name = "lenet_300_100", int numClasses = 10, Generator? generator = null)
    {
        if (!ModelNames.Contains(name))
            throw new ArgumentException($"LeNet300100: unknown model name '{name}'; expected one of {string.Join(", ", ModelNames)}.");
        return new LeNet300100(new LeNet300100Config(NumClasses: numClasses), generator);
    }

    /// <summary>Logits (B, NumClasses) of x (B, InFeatures) or (B, …) with InFeatures elements per sample.</summary>
    /// <exception cref="ArgumentException">x has rank &lt; 2 or not InFeatures elements per sample; the message names its shape.</exception>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank < 2 || input.Numel != input.Shape[0] * Config.InFeatures)
            throw new ArgumentException($"LeNet300100: input must be (B, {Config.InFeatures}) or (B, …) with {Config.InFeatures} elements per sample; got {ShapeUtil.Format([.. input.Shape])}.");
        var x = input.Rank == 2 ? input : input.Reshape(input.Shape[0], Config.InFeatures);
        return Fc3.Forward(Fc2.Forward(Fc1.Forward(x).Relu()).Relu());
    }

    /// <inheritdoc/>
    /// <remarks>in·h₁ + h₁ + h₁·h₂ + h₂ + h₂·K + K (266,610 for 784-300-100-10).</remarks>
    public long AnalyticParameterCount =>
        LayerCost.LinearParameters(Config.InFeatures, Config.Hidden1)
        + LayerCost.LinearParameters(Config.Hidden1, Config.Hidden2)
        + LayerCost.LinearParameters(Config.Hidden2, Config.NumClasses);

    /// <inheritdoc/>
    /// <remarks>2·(in·h₁ + h₁·h₂ + h₂·K) per sample (532,400 for 784-300-100-10).</remarks>
    public long Flops(int batch = 1) =>
        2 * batch * (LayerCost.LinearMacs(Config.InFeatures, Config.Hidden1)
        + LayerCost.LinearMacs(Config.Hidden1, Config.Hidden2)
        + LayerCost.LinearMacs(Config.Hidden2, Config.NumClasses));

    /// <inheritdoc/>
    public override string ExtraRepr() => Config.Name;
}
