using System.Diagnostics;
using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Shrink.Bench;

/// <summary>
/// ViT training and inference throughput on the models of ../shared/anchors/torch_vit_bench.py: pre-norm ViTs on
/// 28×28×1 images, 10 classes, cls token, learned position embedding, AdamW(lr 1e−3), cross-entropy, one fixed random
/// batch. Measured the same way: 3 warm-up calls, then as many calls as fit in the time budget. The models are
/// Shrink's own <see cref="VisionTransformer"/> (TorchSharp modules, fused attention), built on the CPU.
/// </summary>
internal static class VitBench
{
    /// <summary>name → (patch, dim, depth, heads, mlp hidden, batch), exactly the torch script's CFG.</summary>
    public static readonly Dictionary<string, (int Patch, int Dim, int Depth, int Heads, int Mlp, int Batch)> Configs = new()
    {
        ["S"] = (7, 64, 4, 4, 128, 128),
        ["M"] = (4, 192, 12, 3, 768, 64),
    };

    /// <summary>One model of <see cref="Configs"/> with its optimizer and its fixed batch.</summary>
    private sealed class Setup
    {
        public required VisionTransformer Model { get; init; }
        public required optim.Optimizer Optimizer { get; init; }
        public required Tensor Images { get; init; }   // (B, 1, 28, 28)
        public required Tensor Labels { get; init; }   // (B,) int64
        public required int Batch { get; init; }

        /// <summary>One AdamW step on the fixed batch; every temporary is freed when the step ends.</summary>
        public void Train()
        {
            using var scope = NewDisposeScope();
            Optimizer.zero_grad();
            F.cross_entropy(Model.forward(Images), Labels).backward();   // scalar
            Optimizer.step();
        }

        /// <summary>One forward pass without the autograd tape.</summary>
        public void Infer()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            Model.forward(Images);                                         // (B, 10)
        }
    }

    /// <summary>Attention kernel of the benchmarked models: libtorch's fused scaled_dot_product_attention (default) or explicit softmax(q kᵀ/√d) v.</summary>
    public static bool FusedAttention { get; set; } = true;

    private static Setup Create(string name)
    {
        var (p, d, depth, h, mlp, b) = Configs[name];
        var config = new VitConfig { ImageSize = 28, PatchSize = p, InChannels = 1, NumClasses = 10, EmbedDim = d, Depth = depth, NumHeads = h, MlpRatio = (double)mlp / d };
        var model = new VisionTransformer(config, seed: 0) { FusedAttention = FusedAttention };
        var g = Seed.Generator(0, 1);
        return new Setup
        {
            Model = model,
            Optimizer = optim.AdamW(model.parameters(), lr: 1e-3),
            Images = randn([b, 1, 28, 28], generator: g),
            Labels = randint(0, 10, [b], dtype: int64, generator: g),
            Batch = b,
        };
    }

    /// <summary>Prints <c>shrink-{name}-train</c> and <c>shrink-{name}-infer</c> in img/s.</summary>
    public static void Run(string name, double seconds)
    {
        var s = Create(name);
        s.Model.train();
        Console.WriteLine($"shrink-{name}-train {Measure.Rate(s.Train, s.Batch, seconds):F1} img/s");
        s.Model.eval();
        Console.WriteLine($"shrink-{name}-infer {Measure.Rate(s.Infer, s.Batch, seconds):F1} img/s");
    }

    /// <summary>Training throughput alone (the thread comparison).</summary>
    public static double TrainRate(string name, double seconds)
    {
        var s = Create(name);
        s.Model.train();
        return Measure.Rate(s.Train, s.Batch, seconds);
    }

    /// <summary>
    /// Working-set growth of <paramref name="steps"/> training steps of model <paramref name="name"/> after
    /// <paramref name="warmup"/> steps that let the allocators reach their steady state: 100·(ws₁ − ws₀)/ws₀ in %,
    /// where ws is the process's resident set (managed heap, libtorch's allocations, mapped code). A leaked tensor
    /// per step (e.g. a temporary outside the step's dispose scope) shows as steady growth here.
    /// </summary>
    public static void WorkingSetGrowth(string name, int steps = 1000, int warmup = 50)
    {
        var s = Create(name);
        s.Model.train();
        for (int i = 0; i < warmup; i++) s.Train();
        long before = WorkingSet();
        for (int i = 0; i < steps; i++) s.Train();
        long after = WorkingSet();
        Console.WriteLine($"shrink-{name}-workingset-start {before / (1024.0 * 1024):F0} MiB");
        Console.WriteLine($"shrink-{name}-workingset-end {after / (1024.0 * 1024):F0} MiB");
        Console.WriteLine($"shrink-{name}-workingset-growth {100.0 * (after - before) / before:F2} %");
    }

    // Collect first, so garbage the GC has not yet reached does not count as growth; a leak survives the collection.
    private static long WorkingSet()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
