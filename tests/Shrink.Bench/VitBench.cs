using System.Diagnostics;
using Shrink.Models;
using Shrink.Tensors;
using Shrink.Tensors.Optim;
using F = Shrink.Tensors.Functional;

namespace Shrink.Bench;

/// <summary>
/// ViT training and inference throughput on the models of ../shared/anchors/torch_vit_bench.py: pre-norm ViTs on
/// 28×28×1 images, 10 classes, cls token, learned position embedding, AdamW(lr 1e−3), cross-entropy. Measured the
/// same way: 3 warm-up calls, then as many calls as fit in the time budget.
/// </summary>
internal static class VitBench
{
    /// <summary>name → (patch, dim, depth, heads, mlp hidden, batch), exactly the torch script's CFG.</summary>
    public static readonly Dictionary<string, (int Patch, int Dim, int Depth, int Heads, int Mlp, int Batch)> Configs = new()
    {
        ["S"] = (7, 64, 4, 4, 128, 128),
        ["M"] = (4, 192, 12, 3, 768, 64),
    };

    public static void Run(string name, double seconds)
    {
        var (p, d, depth, h, mlp, b) = Configs[name];
        var config = new VitConfig { ImageSize = 28, PatchSize = p, InChannels = 1, NumClasses = 10, EmbedDim = d, Depth = depth, NumHeads = h, MlpRatio = (double)mlp / d };
        var model = new VisionTransformer(config, seed: 0);
        var opt = new AdamW(model.Parameters(), lr: 1e-3);
        var gen = new Generator(0);
        var x = Tensor.Randn([b, 1, 28, 28], gen);
        var y = new int[b];
        for (int i = 0; i < b; i++) y[i] = gen.NextInt(10);

        void Train()
        {
            using var scope = TensorScope.Begin();
            opt.ZeroGrad();
            F.CrossEntropy(model.Forward(x), y).Backward();
            opt.Step();
        }
        void Infer()
        {
            using var scope = TensorScope.Begin();
            using var _ = Tensor.NoGrad();
            model.Forward(x);
        }

        model.Train();
        double train = Measure.Rate(Train, b, seconds);
        // Managed allocation of one steady-state step, over all threads.
        long before = GC.GetTotalAllocatedBytes(precise: true);
        const int steps = 5;
        for (int i = 0; i < steps; i++) Train();
        long perStep = (GC.GetTotalAllocatedBytes(precise: true) - before) / steps;
        Console.WriteLine($"shrink-{name}-train {train:F1} img/s");
        model.Eval();
        Console.WriteLine($"shrink-{name}-infer {Measure.Rate(Infer, b, seconds):F1} img/s");
        Console.WriteLine($"shrink-{name}-train-alloc {perStep / 1024.0:F1} KiB/step");
        Console.WriteLine($"shrink-{name}-peak-working-set {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024):F0} MiB");
    }
}
