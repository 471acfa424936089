// Trains a named model on Fashion-MNIST with the library's Trainer and prints what it measured.
// Usage: dotnet run -c Release --project samples/Train -- --model vit_micro_patch4_28 --data full --steps 30ep --lr 1e-3
// Runs are cached: the same options find the same folder under --runs and a finished run is loaded, not retrained;
// a run killed at any moment (even kill -9) resumes from its last checkpoint when started again with the same options,
// and ends with the same weights, bit for bit, as an uninterrupted run (the tests check the SHA-256 this prints).
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Shrink.Data;
using Shrink.Models;
using Shrink.Torch;
using Shrink.Training;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var defaults = new TrainingHparams();

var model = new Option<string>("--model") { Description = $"model name: {string.Join(", ", ModelZoo.Names)}", DefaultValueFactory = _ => "vit_micro_patch4_28" };
var data = new Option<DataSource>("--data") { Description = "full | subset | auto (full when found, else the bundled subset)", DefaultValueFactory = _ => DataSource.Auto };
var steps = new Option<string>("--steps") { Description = "training length: '30ep' (epochs) or '5000it' (iterations)", DefaultValueFactory = _ => defaults.Steps.ToString() };
var batch = new Option<int>("--batch") { Description = "batch size", DefaultValueFactory = _ => defaults.BatchSize };
var optimizer = new Option<string>("--optimizer") { Description = "adamw | sgd", DefaultValueFactory = _ => defaults.Optimizer };
var lr = new Option<double>("--lr") { Description = "peak learning rate", DefaultValueFactory = _ => defaults.Lr };
var wd = new Option<double>("--wd") { Description = "weight decay (decoupled for AdamW)", DefaultValueFactory = _ => defaults.WeightDecay };
var warmup = new Option<string>("--warmup") { Description = "linear warm-up length ('1ep', '200it')", DefaultValueFactory = _ => defaults.Warmup.ToString() };
var smoothing = new Option<double>("--label-smoothing") { Description = "label smoothing ε", DefaultValueFactory = _ => defaults.LabelSmoothing };
var crop = new Option<int>("--crop-padding") { Description = "random-crop padding in pixels (0: no crop)", DefaultValueFactory = _ => defaults.CropPadding };
var flip = new Option<bool>("--flip") { Description = "random horizontal flips" };
var clip = new Option<double>("--grad-clip") { Description = "clip the global gradient norm to this value (0: off)", DefaultValueFactory = _ => defaults.GradClip };
var seed = new Option<int>("--seed") { Description = "seed of initialisation, data order and augmentation", DefaultValueFactory = _ => 0 };
var device = new Option<string>("--device") { Description = "cpu | cuda | cuda:N | auto (CUDA when available)", DefaultValueFactory = _ => defaults.Device };
var checkpointEvery = new Option<string>("--checkpoint-every") { Description = "checkpoint period ('1ep', '50it'); does not change the result or the run folder", DefaultValueFactory = _ => defaults.CheckpointEvery.ToString() };
var perClass = new Option<int>("--per-class") { Description = "use only the first N training images of each class (0: all)", DefaultValueFactory = _ => 0 };
var testPerClass = new Option<int>("--test-per-class") { Description = "use only the first N test images of each class (0: all)", DefaultValueFactory = _ => 0 };
var runs = new Option<string>("--runs") { Description = "root folder of the run cache", DefaultValueFactory = _ => Path.Combine(RepositoryRoot.Find() ?? ".", "artifacts", "runs", "train") };

var root = new RootCommand("Train a Shrink model on Fashion-MNIST (the full set or the bundled subset) and report test accuracy and time.")
{
    model, data, steps, batch, optimizer, lr, wd, warmup, smoothing, crop, flip, clip, seed, device, checkpointEvery, perClass, testPerClass, runs,
};
root.SetAction(parse =>
{
    var modelName = parse.GetValue(model)!;
    var source = parse.GetValue(data);
    var hp = new TrainingHparams
    {
        Steps = Step.Parse(parse.GetValue(steps)!), BatchSize = parse.GetValue(batch), Optimizer = parse.GetValue(optimizer)!,
        Lr = parse.GetValue(lr), WeightDecay = parse.GetValue(wd), Warmup = Step.Parse(parse.GetValue(warmup)!),
        LabelSmoothing = parse.GetValue(smoothing), CropPadding = parse.GetValue(crop), HorizontalFlip = parse.GetValue(flip),
        GradClip = parse.GetValue(clip), Seed = parse.GetValue(seed), Device = parse.GetValue(device)!,
        CheckpointEvery = Step.Parse(parse.GetValue(checkpointEvery)!),
    };
    hp.Validate();
    var train = FashionMnist.Load("train", source);
    var test = FashionMnist.Load("test", source);
    int nTrain = parse.GetValue(perClass), nTest = parse.GetValue(testPerClass);
    if (nTrain > 0) train = train.TakePerClass(nTrain);
    if (nTest > 0) test = test.TakePerClass(nTest);
    Console.WriteLine($"data: {train.Count} train / {test.Count} test images ({train.Origin})");
    var trainer = new Trainer(hp);
    var net = ModelZoo.Create(modelName, unchecked((ulong)hp.Seed));
    string cost = net is IModelCost c ? $", {c.Flops() / 1e6:F1} MFLOPs per image" : "";
    Console.WriteLine($"model: {modelName}, {net.ParameterCount():N0} parameters{cost}, device {trainer.Device}");
    // The folder name covers the model and the data as well as the training hyperparameters.
    var dataName = (train.Origin.IsSubset ? "subset" : "full") + (nTrain > 0 ? $"-{nTrain}pc" : "") + (nTest > 0 ? $"-test{nTest}pc" : "");
    var folder = Path.Combine(parse.GetValue(runs)!, $"{modelName}-{dataName}");
    var result = trainer.Fit(net, train, test, Shrink.Experiments.RunFolder.For(folder, hp));
    Console.WriteLine(result.Reused
        ? $"loaded the finished run from {result.RunFolder} (trained in {result.Seconds:F0} s)"
        : $"trained {result.StepsTrained} steps in {result.Seconds:F0} s");
    Console.WriteLine($"test accuracy: {result.TestAccuracy:P2} ({modelName}, {hp.Steps}, {train.Count} training images)");
    var weights = Path.Combine(result.RunFolder!, Trainer.ModelFileName);
    Console.WriteLine($"weights sha256: {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(weights)))} ({weights})");
    return 0;
});
// Errors a user can act on (a bad option value, a damaged run file, a diverged run) are one line, not a stack trace.
try { return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }); }
catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
catch (Exception e) when (e is Shrink.Experiments.RunFileException or TrainingDivergedException or IOException) { Console.Error.WriteLine(e.Message); return 1; }
