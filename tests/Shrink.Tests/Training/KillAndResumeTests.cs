using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Shrink.Tests.Training;

/// <summary>
/// Kills a real <c>samples/Train</c> process with SIGKILL (<c>kill -9</c>: no finally blocks, no flush) at random moments,
/// starts it again with the same options until it finishes, and checks that the final weights' SHA-256 equals that of an
/// uninterrupted run: checkpoints are written atomically and a resumed run is bit-identical.
/// The fast variant (3 kills of a tiny run) runs by default; the slow one is the issue's 20 kills of a 4-epoch run.
/// <para>
/// It runs the built <c>Train.dll</c> (artifacts/bin/Train/&lt;configuration&gt;/, which the test project builds first),
/// or the one named by the environment variable <c>SHRINK_TRAIN_DLL</c>.
/// </para>
/// </summary>
[Collection(DefaultGeneratorCollection.Name)]
public partial class KillAndResumeTests(ITestOutputHelper output)
{
    [Fact]
    public void KilledTinyRunsResumeToTheSameWeights() =>
        KillAndResume(kills: 3, seed: 1, checkpoints: 20, "--model", "lenet_300_100", "--per-class", "30", "--test-per-class", "10", "--batch", "30",
            "--steps", "4ep", "--checkpoint-every", "2it", "--warmup", "3it", "--crop-padding", "2", "--flip", "--label-smoothing", "0.1");

    [Fact]
    [Trait("Category", "Slow")]
    public void TwentyKillsOfAFourEpochRunResumeToTheSameWeights() =>
        KillAndResume(kills: 20, seed: 2, checkpoints: 80, "--model", "vit_nano_patch7_28", "--per-class", "100", "--test-per-class", "20", "--batch", "50",
            "--steps", "4ep", "--checkpoint-every", "1it", "--warmup", "5it", "--crop-padding", "2", "--flip", "--grad-clip", "1");

    /// <summary>
    /// Kill i comes a random delay after the process wrote its n-th checkpoint (n random, so the kills follow the run's
    /// progress whatever the machine's load; n = 0 for every fourth: a moment of start-up or the first steps). The delay
    /// is uniform over the time between two checkpoints of the uninterrupted run, so it lands in a step, an evaluation or
    /// the middle of a checkpoint write.
    /// </summary>
    private void KillAndResume(int kills, int seed, int checkpoints, params string[] options)
    {
        string dll = TrainDll();
        using var tmp = new TempFolder("kill");
        string[] Args(string root) => [.. options, "--data", "subset", "--runs", root];

        var watch = Stopwatch.StartNew();
        var reference = Run(dll, Args(tmp.File("reference")), tmp.File("reference"), kill: null);
        double duration = watch.Elapsed.TotalSeconds;
        Assert.True(reference.ExitCode == 0, reference.Output);
        string expected = Sha(reference.Output);
        output.WriteLine($"uninterrupted run: {duration:F1} s, weights {expected}");

        var rng = new Random(seed);
        int killed = 0, resumed = 0;
        string root = tmp.File("killed");
        int maxWrites = Math.Max(1, 2 * checkpoints / kills - 1);
        for (int i = 0; i < kills; i++)
        {
            var kill = new Kill(i % 4 == 3 ? 0 : 1 + rng.Next(maxWrites), TimeSpan.FromSeconds(duration / checkpoints * rng.NextDouble()));
            var r = Run(dll, Args(root), root, kill);
            if (r.Output.Contains("Resuming", StringComparison.Ordinal)) resumed++;
            output.WriteLine($"run {i + 1} ({kill}): {(r.ExitCode is null ? "killed" : $"exit {r.ExitCode}")} after {r.LastLine}");
            if (r.ExitCode is null) { killed++; continue; }
            Assert.True(r.ExitCode == 0, r.Output);
            break;   // it finished before the kill
        }
        var last = Run(dll, Args(root), root, kill: null);
        Assert.True(last.ExitCode == 0, last.Output);
        if (last.Output.Contains("Resuming", StringComparison.Ordinal)) resumed++;
        output.WriteLine($"final run: {last.LastLine}");
        output.WriteLine($"{killed} kills, {resumed} resumes");
        Assert.True(killed > 0, "no process was killed: every run finished before its kill");
        Assert.True(resumed > 0, $"{killed} kills, but no run resumed from a checkpoint");
        Assert.Equal(expected, Sha(last.Output));
    }

    /// <summary>SIGKILL <see cref="Delay"/> after the process wrote <see cref="AfterCheckpoints"/> checkpoints (after its start for 0).</summary>
    private sealed record Kill(int AfterCheckpoints, TimeSpan Delay)
    {
        public override string ToString() => $"kill {Delay.TotalSeconds:F2} s after checkpoint write {AfterCheckpoints}";
    }

    private static string Sha(string text)
    {
        var m = ShaLine().Match(text);
        Assert.True(m.Success, "no 'weights sha256:' line in:\n" + text);
        return m.Groups[1].Value;
    }

    [GeneratedRegex("weights sha256: ([0-9a-f]{64})")]
    private static partial Regex ShaLine();

    /// <summary>Runs <c>dotnet Train.dll args</c>, SIGKILLing it as <paramref name="kill"/> says (ExitCode null when killed); watches the checkpoints under <paramref name="root"/>.</summary>
    private static (int? ExitCode, string Output, string LastLine) Run(string dll, string[] args, string root, Kill? kill)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var text = new StringBuilder();
        string lastLine = "";
        using var p = new Process { StartInfo = psi };
        void OnLine(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (text) { text.AppendLine(e.Data); if (e.Data.Contains("step ", StringComparison.Ordinal)) lastLine = e.Data.Trim(); }
        }
        p.OutputDataReceived += OnLine;
        p.ErrorDataReceived += OnLine;
        var before = CheckpointTime(root);
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        bool exited;
        if (kill is null) exited = p.WaitForExit(TimeSpan.FromMinutes(10));
        else
        {
            // Count checkpoint writes (the file's write time changes) until the n-th, then wait the delay.
            int writes = 0;
            while (writes < kill.AfterCheckpoints && !p.HasExited)
            {
                Thread.Sleep(2);
                var now = CheckpointTime(root);
                if (now != before) { writes++; before = now; }
            }
            exited = p.HasExited || p.WaitForExit(kill.Delay);
        }
        if (!exited)
        {
            p.Kill(entireProcessTree: true);   // SIGKILL on Linux
            p.WaitForExit();
        }
        else p.WaitForExit();                  // drains the output
        lock (text) return (exited ? p.ExitCode : null, text.ToString(), lastLine);
    }

    /// <summary>Last write time of the run's checkpoint under <paramref name="root"/> (ticks), or 0 when there is none yet.</summary>
    private static long CheckpointTime(string root)
    {
        if (!Directory.Exists(root)) return 0;
        var file = Directory.EnumerateFiles(root, "checkpoint.safetensors", SearchOption.AllDirectories).FirstOrDefault();
        try { return file is null ? 0 : File.GetLastWriteTimeUtc(file).Ticks; }
        catch (IOException) { return 0; }
    }

    /// <summary>The built samples/Train: <c>SHRINK_TRAIN_DLL</c>, or artifacts/bin/Train/&lt;configuration of this test assembly&gt;/Train.dll.</summary>
    private static string TrainDll()
    {
        if (Environment.GetEnvironmentVariable("SHRINK_TRAIN_DLL") is { Length: > 0 } env) return env;
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string configuration = here.Name;                                   // artifacts/bin/Shrink.Tests/<configuration>
        var bin = here.Parent?.Parent;                                      // artifacts/bin
        string dll = Path.Combine(bin?.FullName ?? "", "Train", configuration, "Train.dll");
        Assert.True(File.Exists(dll), $"samples/Train is not built at {dll}: build it (dotnet build samples/Train -c {configuration}) or set SHRINK_TRAIN_DLL.");
        return dll;
    }
}
