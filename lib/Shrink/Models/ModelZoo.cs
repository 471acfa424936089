using static TorchSharp.torch;

namespace Shrink.Models;

/// <summary>
/// Every named model of the library behind one factory, so a notebook or a command line picks a model by its name:
/// ViTs and DeiTs (<see cref="VitModels"/>), ResNet-style CNNs (<see cref="ResNetCnn"/>), involution networks
/// (<see cref="InvolutionNet"/>) and LeNet-300-100 (<see cref="LeNet300100"/>).
/// </summary>
public static class ModelZoo
{
    /// <summary>Every name <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. VitModels.Names, .. ResNetCnn.ModelNames, .. InvolutionNet.ModelNames, .. LeNet300100.ModelNames];

    /// <summary>
    /// Builds the model named <paramref name="name"/> for 1×28×28 inputs and <paramref name="numClasses"/> classes, on the CPU,
    /// initialised from <paramref name="seed"/> (its weights are a pure function of the seed); move it with <c>.to(device)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static nn.Module<Tensor, Tensor> Create(string name, ulong seed = 0, int numClasses = 10)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (VitModels.Names.Contains(name)) return VitModels.Create(name, seed, c => c with { NumClasses = numClasses });
        if (ResNetCnn.ModelNames.Contains(name)) return ResNetCnn.Create(name, numClasses: numClasses, seed: seed);
        if (InvolutionNet.ModelNames.Contains(name)) return InvolutionNet.Create(name, numClasses: numClasses, seed: seed);
        if (LeNet300100.ModelNames.Contains(name)) return LeNet300100.Create(name, numClasses, seed);
        throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", Names)}.", nameof(name));
    }
}
