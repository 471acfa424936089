using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

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
public sealed class LeNet300100 : nn.Module<Tensor, Tensor>, IModelCost
{
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;

    /// <summary>Names accepted by <see cref="Create"/>: this model as open_lth and in timm's style.</summary>
    public static IReadOnlyList<string> ModelNames { get; } = ["lenet_300_100", "mnist_lenet_300_100"];

    /// <summary>The configuration this model was built from.</summary>
    public LeNet300100Config Config { get; }
    /// <summary>First layer, InFeatures → Hidden1.</summary>
    public Linear Fc1 => fc1;
    /// <summary>Second layer, Hidden1 → Hidden2.</summary>
    public Linear Fc2 => fc2;
    /// <summary>Output layer, Hidden2 → NumClasses.</summary>
    public Linear Fc3 => fc3;

    /// <summary>Builds the network and initialises it from <paramref name="seed"/> (<see cref="ModelInit.LeNet"/>).</summary>
    public LeNet300100(LeNet300100Config? config = null, ulong seed = 0) : base(nameof(LeNet300100))
    {
        Config = (config ?? new LeNet300100Config()).Validated();
        var c = Config;
        fc1 = nn.Linear(c.InFeatures, c.Hidden1);
        fc2 = nn.Linear(c.Hidden1, c.Hidden2);
        fc3 = nn.Linear(c.Hidden2, c.NumClasses);
        RegisterComponents();
        ModelInit.LeNet(this, ModelInit.Generator(seed), c.KaimingNormalInit);
    }

    /// <summary>The model named <paramref name="name"/>: <c>lenet_300_100</c> or open_lth's <c>mnist_lenet_300_100</c>, initialised from <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static LeNet300100 Create(string name = "lenet_300_100", int numClasses = 10, ulong seed = 0)
    {
        if (!ModelNames.Contains(name))
            throw new ArgumentException($"LeNet300100: unknown model name '{name}'; expected one of {string.Join(", ", ModelNames)}.");
        return new LeNet300100(new LeNet300100Config(NumClasses: numClasses), seed);
    }

    /// <summary>Logits (B, NumClasses) of x (B, InFeatures) or (B, …) with InFeatures elements per sample.</summary>
    /// <exception cref="ArgumentException">x has rank &lt; 2 or not InFeatures elements per sample; the message names its shape.</exception>
    public override Tensor forward(Tensor input)
    {
        if (input.dim() < 2 || input.numel() != input.shape[0] * Config.InFeatures)
            throw new ArgumentException($"LeNet300100: input must be (B, {Config.InFeatures}) or (B, …) with {Config.InFeatures} elements per sample; got {ModelInit.Format(input.shape)}.");
        var x = input.reshape(input.shape[0], Config.InFeatures);          // (B, 784)
        var h = nn.functional.relu(fc1.forward(x));                        // (B, 300)
        h = nn.functional.relu(fc2.forward(h));                            // (B, 100)
        return fc3.forward(h);                                             // (B, K)
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
}
