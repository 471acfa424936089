// The engine demo (the README's main job until the notebook runner lands): trains a small Vision Transformer on the
// bundled Fashion-MNIST subset with the Shrink engine and prints what it measured.
// Usage: dotnet run -c Release --project samples/EngineDemo [-- epochs]
using System.Diagnostics;
using System.Globalization;
using Shrink.Data;
using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tensors.Optim;
using F = Shrink.Tensors.Functional;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int epochs = args.Length > 0 ? int.Parse(args[0]) : 3;
const int BatchSize = 128;
const string ModelName = "vit_nano_patch7_28";

var train = FashionMnist.LoadSubset("train");
var test = FashionMnist.LoadSubset("test");
Console.WriteLine($"data: {train.Count} train / {test.Count} test images from {train.Origin?.Description}");

var model = VitModels.Create(ModelName, seed: 0);
Console.WriteLine($"model: {ModelName}, {model.ParameterCount():N0} parameters");
var loader = new DataLoader(train, BatchSize, shuffle: true, seed: 0, normalization: Normalization.FashionMnist);
var testLoader = new DataLoader(test, 500, normalization: Normalization.FashionMnist);
var opt = new AdamW(model.Parameters(), lr: 2e-3, weightDecay: 0.05);
var schedule = new CosineWithWarmup(baseLr: 2e-3, warmupSteps: loader.Count / 2, totalSteps: epochs * loader.Count);

int step = 0;
var clock = Stopwatch.StartNew();
for (int epoch = 0; epoch < epochs; epoch++)
{
    model.Train();
    double lossSum = 0; int batches = 0;
    foreach (var (x, y) in loader.Enumerate(epoch))
    {
        using var scope = TensorScope.Begin();
        schedule.Apply(opt, step++);
        opt.ZeroGrad();
        var loss = F.CrossEntropy(model.Forward(x), y);
        loss.Backward();
        opt.Step();
        lossSum += loss.Item(); batches++;
    }
    Console.WriteLine($"epoch {epoch + 1}/{epochs}: train loss {lossSum / batches:F4}, test accuracy {Evaluate():P2}, {clock.Elapsed.TotalSeconds:F1} s");
}
Console.WriteLine($"trained {step} steps ({step * BatchSize / clock.Elapsed.TotalSeconds:F0} img/s including evaluation)");
return 0;

double Evaluate()
{
    model.Eval();
    int correct = 0, total = 0;
    using var _ = Tensor.NoGrad();
    foreach (var (x, y) in testLoader.Enumerate())
    {
        using var scope = TensorScope.Begin();
        var predicted = model.Forward(x).ArgMax(-1);
        for (int i = 0; i < y.Length; i++) correct += predicted[i] == y[i] ? 1 : 0;
        total += y.Length;
    }
    return (double)correct / total;
}
