using System.Globalization;
using Shrink.Data;
using Shrink.Experiments;
using Shrink.IO;
using Shrink.Torch;
using Shrink.Training;
using static TorchSharp.torch;

namespace Shrink.Pruning;

/// <summary>
/// Runs iterative magnitude pruning with rewinding and its controls (see <see cref="LotteryHparams"/> for the algorithm),
/// one cached <see cref="Trainer"/> run per level and branch under a root folder:
/// <code>
/// var hp = new LotteryHparams { Model = "lenet_300_100", Training = new() { Steps = "2ep", Optimizer = "sgd", Lr = 0.1 },
///                               Pruning = new() { Fraction = 0.2 }, Levels = 8 };
/// var imp = new IterativeMagnitudePruning(hp, seed => ModelZoo.Create("lenet_300_100", seed), train, test, "runs");
/// foreach (var level in imp.Run()) Console.WriteLine($"{level.Sparsity.Fraction:P1} {level.TestAccuracy:P2}");
/// var reinit = imp.RunBranch(5, LotteryBranch.RandomReinit, seed: 1);
/// </code>
/// <para>
/// Level L ≥ 1 prunes the trained network of level L − 1 (<see cref="MagnitudePruner"/>, its masks nest in the previous
/// ones), rewinds the survivors to θ_k (the dense state after k = <see cref="LotteryHparams.RewindStep"/> steps of level 0;
/// θ_0 for k = 0), and trains from step k (<see cref="Trainer.StartStep"/>) with the masks enforced
/// (<see cref="PruningMask.Enforce"/>). The controls use the masks of the lottery line at the same level: random
/// re-initialisation draws θ'_0 from the factory with the seed <see cref="Seed.Mix"/>(model seed, "REINIT", branch seed)
/// and keeps m_L; the random mask keeps θ_k and draws a mask with the same per-tensor counts
/// (<see cref="RandomPruner.SameSparsity"/>, seed <see cref="Seed.Mix"/>(branch seed, "RMASK", level)).
/// </para>
/// <para>
/// Caching: a level's folder is <c>RunFolder.For(root, LotteryLevelHparams.For(hp, L, branch, seed))</c>. A finished
/// level is loaded, not retrained (its <c>model.safetensors</c> holds the masks as <c>*_mask</c> buffers). For k &gt; 0 the
/// dense run of level 0 also writes <c>rewind.safetensors</c> (θ_k) when it passes step k. Models come from the factory on
/// the CPU; the trainer moves them to <see cref="TrainingHparams.Device"/>.
/// </para>
/// </summary>
public sealed class IterativeMagnitudePruning
{
    /// <summary>File name of θ_k in the level-0 run folder (k &gt; 0).</summary>
    public const string RewindFileName = "rewind.safetensors";

    private const ulong ReinitStream = 0x5245494E4954UL;   // "REINIT"
    private const ulong RandomMaskStream = 0x524D41534BUL;  // "RMASK"

    private readonly Func<ulong, nn.Module<Tensor, Tensor>> _factory;
    private readonly ImageDataset _train;
    private readonly ImageDataset? _test;
    private readonly string _root;
    private readonly Dictionary<int, LotteryLevel> _lottery = [];
    private Dictionary<string, Tensor>? _rewind;

    /// <summary>
    /// Prepares the experiment: <paramref name="modelFactory"/> builds a freshly initialised network from a seed (θ_0 uses
    /// <see cref="LotteryHparams.ModelSeed"/>); runs go under <paramref name="root"/>.
    /// </summary>
    public IterativeMagnitudePruning(LotteryHparams hparams, Func<ulong, nn.Module<Tensor, Tensor>> modelFactory, ImageDataset train, ImageDataset? test, string root)
    {
        ArgumentNullException.ThrowIfNull(hparams);
        ArgumentNullException.ThrowIfNull(modelFactory);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(root);
        hparams.Validate();
        Hparams = hparams;
        _factory = modelFactory;
        _train = train;
        _test = test;
        _root = root;
    }

    /// <summary>The experiment's hyperparameters.</summary>
    public LotteryHparams Hparams { get; }

    /// <summary>Progress of every training run (default silent).</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>Batches the trainers' loaders prepare ahead (see <see cref="Trainer.Prefetch"/>).</summary>
    public int Prefetch { get; set; } = 2;

    /// <summary>Levels 0 … <see cref="LotteryHparams.Levels"/> of the lottery line, training (or loading) each in turn.</summary>
    public IReadOnlyList<LotteryLevel> Run() => Enumerable.Range(0, Hparams.Levels + 1).Select(RunLevel).ToList();

    /// <summary>Level <paramref name="level"/> of the lottery line (and, first, every level before it).</summary>
    public LotteryLevel RunLevel(int level)
    {
        if (level < 0) throw new ArgumentException($"IterativeMagnitudePruning: level must be ≥ 0, got {level}.");
        if (_lottery.TryGetValue(level, out var cached)) return cached;
        LotteryLevel result;
        if (level == 0) result = TrainDense();
        else
        {
            var masks = NextMasks(RunLevel(level - 1), level);
            var model = Build((ulong)Hparams.ModelSeed);
            LoadRewind(model);
            PruningMask.SetAll(model, masks);
            result = Train(model, level, LotteryBranch.Lottery, 0);
        }
        _lottery[level] = result;
        return result;
    }

    /// <summary>
    /// A control at level <paramref name="level"/> ≥ 1 (<see cref="LotteryBranch.RandomReinit"/> or
    /// <see cref="LotteryBranch.RandomMask"/>), seeded by <paramref name="seed"/>; <see cref="LotteryBranch.Lottery"/> returns <see cref="RunLevel"/>.
    /// </summary>
    public LotteryLevel RunBranch(int level, LotteryBranch branch, int seed = 0)
    {
        if (branch == LotteryBranch.Lottery) return RunLevel(level);
        if (level < 1) throw new ArgumentException($"IterativeMagnitudePruning: the {branch} control needs a pruned level (≥ 1), got {level}.");
        var lottery = RunLevel(level);
        nn.Module<Tensor, Tensor> model;
        if (branch == LotteryBranch.RandomReinit)
        {
            model = Build(Seed.Mix((ulong)Hparams.ModelSeed, ReinitStream, unchecked((ulong)seed)));
            PruningMask.SetAll(model, lottery.Masks);
        }
        else
        {
            model = Build((ulong)Hparams.ModelSeed);
            LoadRewind(model);
            PruningMask.SetAll(model, RandomPruner.SameSparsity(lottery.Masks, Seed.Mix(unchecked((ulong)seed), RandomMaskStream, (ulong)level)));
        }
        return Train(model, level, branch, seed);
    }

    /// <summary>θ_k: the dense state the lottery line rewinds to (θ_0 for k = 0), trained for level 0 first when k &gt; 0.</summary>
    public IReadOnlyDictionary<string, Tensor> RewindState()
    {
        if (_rewind is not null) return _rewind;
        if (Hparams.RewindStep.IsZero) return _rewind = ModuleTree.CloneState(Build((ulong)Hparams.ModelSeed));
        var level0 = RunLevel(0);
        var path = Path.Combine(level0.RunFolder!, RewindFileName);
        if (!File.Exists(path))
            throw new RunFileException(path, $"is missing: the dense run in {level0.RunFolder} finished without passing the rewind step {Hparams.RewindStep} in this process (it was resumed after it). Delete the folder to retrain level 0.");
        return _rewind = SafeTensors.Load(path);
    }

    private LotteryLevel TrainDense()
    {
        var model = Build((ulong)Hparams.ModelSeed);
        if (Hparams.RewindStep.IsZero) _rewind = ModuleTree.CloneState(model);
        return Train(model, 0, LotteryBranch.Lottery, 0);
    }

    private Dictionary<string, Tensor> NextMasks(LotteryLevel previous, int level)
    {
        var scratch = Build((ulong)Hparams.ModelSeed);
        PruningMask.LoadStateDict(scratch, previous.Model.state_dict());
        MagnitudePruner.Prune(scratch, Hparams.Pruning with { Seed = Hparams.Pruning.Seed + level });
        return PruningMask.Snapshot(scratch);
    }

    private void LoadRewind(nn.Module<Tensor, Tensor> model)
    {
        var rewind = RewindState();
        var state = rewind.Where(kv => !kv.Key.EndsWith(PruningMask.Suffix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);
        model.LoadStateDictChecked(state, strict: true, source: Hparams.RewindStep.IsZero ? "θ_0" : RewindFileName);
    }

    private LotteryLevel Train(nn.Module<Tensor, Tensor> model, int level, LotteryBranch branch, int seed)
    {
        var folder = RunFolder.For(_root, LotteryLevelHparams.For(Hparams, level, branch, seed));
        var trainer = new Trainer(Hparams.Training) { Progress = Progress, Prefetch = Prefetch };
        PruningMask.Enforce(trainer);
        int perEpoch = _train.Count / Hparams.Training.BatchSize;
        int k = Hparams.RewindStep.ToIterations(Math.Max(1, perEpoch));
        if (level == 0 && k > 0)
        {
            var rewindPath = folder.File(RewindFileName);
            trainer.AfterStep += (m, t) =>
            {
                if (t != k) return;
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var state = m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu());
                SafeTensors.Save(rewindPath, state, new Dictionary<string, string> { ["format"] = "shrink-rewind-1", ["step"] = k.ToString(CultureInfo.InvariantCulture) });
            };
        }
        else if (level > 0) trainer.StartStep = k;
        var masks = PruningMask.Snapshot(model);
        var start = ModuleTree.CloneState(model);
        var result = trainer.Fit(model, _train, _test, folder);
        return new LotteryLevel
        {
            Level = level, Branch = branch, BranchSeed = branch == LotteryBranch.Lottery ? 0 : seed, Model = result.Model,
            Start = start, Masks = masks, Sparsity = Sparsity.Measure(result.Model, Hparams.Pruning.Ignore), Training = result,
        };
    }

    private nn.Module<Tensor, Tensor> Build(ulong seed) =>
        _factory(seed) ?? throw new ArgumentException("IterativeMagnitudePruning: the model factory returned null.");
}
