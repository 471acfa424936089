using Shrink.Experiments;
using Shrink.Training;

namespace Shrink.Tests.Training;

public enum TestArch { Mlp, Vit }

public sealed record TestModelHparams : Hparams
{
    public TestArch Arch { get; init; } = TestArch.Vit;
    public int Depth { get; init; } = 4;
    public int[] Widths { get; init; } = [64, 64];
    public string? Name { get; init; }
    public float Scale { get; init; } = 1f;
}

public sealed record TestStageHparams : Hparams
{
    public TestModelHparams Model { get; init; } = new();
    public TrainingHparams Training { get; init; } = new();
    public double Alpha { get; init; } = 0.5;
}

public sealed record TestPositionalHparams(int Width = 8, double Lr = 0.1, [property: NotInRunName] int PrintEvery = 10) : Hparams;

public sealed record TestNoDefaults(int Width) : Hparams;

public sealed record TestBadType : Hparams
{
    public Uri Where { get; init; } = new("http://example.org");
}

public class RunNameTests
{
    /// <summary>
    /// Regression pins (open_lth's test_desc): these folder names must never change, or every cached run is orphaned.
    /// If this test fails, a default value, a property name or the naming rule changed: revert it.
    /// </summary>
    [Theory]
    [MemberData(nameof(Pinned))]
    public void RunNamesArePinned(Hparams hparams, string canonical, string name)
    {
        Assert.Equal(canonical, RunName.Canonical(hparams));
        Assert.Equal(name, RunName.For(hparams));
    }

    public static TheoryData<Hparams, string, string> Pinned => new()
    {
        { new TrainingHparams(), "TrainingHparams()", "TrainingHparams_953e58eeaa" },
        { new TrainingHparams { Lr = 0.01, Steps = "2ep" }, "TrainingHparams(Lr=0.01, Steps=2ep)", "TrainingHparams_bbc841a02f" },
        {
            new TrainingHparams { WeightDecay = 1e-5, Optimizer = "sgd", Warmup = "1ep100it", Seed = 3, HorizontalFlip = true },
            "TrainingHparams(HorizontalFlip=true, Optimizer=\"sgd\", Seed=3, Warmup=1ep100it, WeightDecay=1E-05)", "TrainingHparams_457d4476fc"
        },
        {
            new TestStageHparams { Training = new() { Lr = 0.01 }, Model = new() { Widths = [32, 64], Name = "a \"b\"" } },
            "TestStageHparams(Model=TestModelHparams(Name=\"a \\\"b\\\"\", Widths=[32, 64]), Training=TrainingHparams(Lr=0.01))", "TestStageHparams_6cccc289b7"
        },
        { new TestPositionalHparams(Width: 16, PrintEvery: 1), "TestPositionalHparams(Width=16)", "TestPositionalHparams_26be3f7272" },
    };

    [Fact]
    public void HashIsTheSha256Prefix()
    {
        Assert.Equal("e3b0c44298", RunName.Hash(""));   // SHA-256("") = e3b0c44298fc1c14…
        Assert.Equal(RunName.HashLength, RunName.Hash("TrainingHparams()").Length);
    }

    [Fact]
    public void OnlyNonDefaultValuesCount()
    {
        var a = new TrainingHparams();
        Assert.Equal(RunName.For(a), RunName.For(a with { Lr = 1e-3, Steps = "10ep" }));       // defaults written out
        Assert.Equal(RunName.For(a), RunName.For(a with { CheckpointEvery = "7it" }));         // [NotInRunName]
        Assert.NotEqual(RunName.For(a), RunName.For(a with { Lr = 1.0000000000000002e-3 }));  // round-trip formatting sees 1 ulp
        Assert.NotEqual(RunName.For(a with { Steps = "1ep" }), RunName.For(a with { Steps = "100it" }));
        Assert.Equal("TestModelHparams(Scale=0.1)", RunName.Canonical(new TestModelHparams { Scale = 0.1f }));
        Assert.Equal("TestModelHparams(Arch=Mlp, Depth=-2)", RunName.Canonical(new TestModelHparams { Depth = -2, Arch = TestArch.Mlp }));
        Assert.Equal("TestModelHparams(Name=\"\")", RunName.Canonical(new TestModelHparams { Name = "" }));
        Assert.Equal("TestStageHparams()", RunName.Canonical(new TestStageHparams { Model = new() { Widths = [64, 64] } }));
        Assert.Equal("TrainingHparams()", a.Describe());
    }

    [Fact]
    public void BadRecordsAreRejectedWithTheirName()
    {
        var e = Assert.Throws<ArgumentException>(() => RunName.For(new TestNoDefaults(3)));
        Assert.Contains("TestNoDefaults", e.Message);
        Assert.Contains("default", e.Message);
        e = Assert.Throws<ArgumentException>(() => RunName.For(new TestBadType()));
        Assert.Contains("TestBadType.Where", e.Message);
        Assert.Contains("Uri", e.Message);
    }

    [Fact]
    public void RunFolderSavesAndChecksTheHparams()
    {
        using var tmp = new TempFolder();
        var hp = new TrainingHparams { Lr = 0.01, Steps = "2ep100it", GradClip = 1.5 };
        var folder = RunFolder.For(tmp.Path, hp);
        Assert.Equal(RunName.For(hp), folder.Name);
        Assert.Equal(Path.Combine(tmp.Path, RunName.For(hp)), folder.Path);
        Assert.True(folder.Contains(RunFolder.HparamsFileName));
        var loaded = HparamsFile.Load<TrainingHparams>(folder.File(RunFolder.HparamsFileName));
        Assert.Equal(hp, loaded);
        Assert.Contains("\"Steps\": \"2ep100it\"", File.ReadAllText(folder.File(RunFolder.HparamsFileName)));

        Assert.Equal(folder.Path, RunFolder.For(tmp.Path, hp with { CheckpointEvery = "3it" }).Path);   // same run, file kept

        var stage = new TestStageHparams { Model = new() { Widths = [1, 2, 3] }, Alpha = 0.25 };
        var stageFolder = RunFolder.For(tmp.Path, stage);
        var back = (TestStageHparams)HparamsFile.Load(stageFolder.File(RunFolder.HparamsFileName), typeof(TestStageHparams));
        Assert.Equal(RunName.Canonical(stage), RunName.Canonical(back));

        // A hand-edited (or colliding) hparams.json is refused, naming the file and both configurations.
        var file = folder.File(RunFolder.HparamsFileName);
        File.WriteAllText(file, File.ReadAllText(file).Replace("0.01", "0.02"));
        var e = Assert.Throws<RunFileException>(() => RunFolder.For(tmp.Path, hp));
        Assert.Contains(file, e.Message);
        Assert.Contains("Lr=0.02", e.Message);
        Assert.Contains("Lr=0.01", e.Message);

        File.WriteAllText(file, "{ not json");
        e = Assert.Throws<RunFileException>(() => RunFolder.For(tmp.Path, hp));
        Assert.Contains(file, e.Message);
    }
}
