using System.Diagnostics;
using System.Text;

namespace Shrink.Notebooks.Tests.Jupyter;

/// <summary>
/// Jupyter's own client on this machine: the first Python that imports nbclient, nbformat and jupyter_client
/// (<c>$SHRINK_JUPYTER_PYTHON</c>, Debian's <c>/usr/bin/python3</c>, then <c>python3</c> on PATH — the same order as
/// <c>scripts/setup.sh</c>), and <c>scripts/jupyter_run.py</c> run with it. A missing piece fails the test with what to
/// run; it never skips, because <c>scripts/setup.sh</c> (which <c>scripts/test.sh</c> runs first) installs it.
/// </summary>
internal sealed class JupyterClient
{
    /// <summary>The Jupyter kernel the notebooks declare and the route runs them on.</summary>
    public const string KernelName = ".net-csharp";

    private const string SetupHint = "run `bash scripts/setup.sh` (it installs Debian's python3-nbclient, python3-nbformat, " +
                                     "jupyter-client and registers the kernel with `dotnet interactive jupyter install`)";

    private JupyterClient(string python) => Python = python;

    /// <summary>The Python interpreter with Jupyter's client.</summary>
    public string Python { get; }

    /// <summary>Finds the Python with Jupyter's client and checks that the <c>.net-csharp</c> kernel is registered;
    /// fails the test with a message naming what is missing otherwise.</summary>
    public static JupyterClient Find()
    {
        var tried = new List<string>();
        foreach (var candidate in Candidates())
        {
            var (code, _, error) = Run(candidate, ["-c", "import nbclient, nbformat, jupyter_client"], TimeSpan.FromSeconds(60));
            if (code == 0)
            {
                var client = new JupyterClient(candidate);
                client.RequireKernel();
                return client;
            }
            tried.Add($"{candidate} ({LastLine(error)})");
        }
        Assert.Fail("Jupyter's client (nbclient, nbformat, jupyter_client) is not installed for any Python: tried " +
                    (tried.Count == 0 ? "none found" : string.Join("; ", tried)) + $". To fix: {SetupHint}, or set " +
                    "SHRINK_JUPYTER_PYTHON to a Python that has them (e.g. the conda environment of environment.yml).");
        throw new UnreachableException();
    }

    /// <summary>Runs <c>scripts/jupyter_run.py</c> on one notebook with the given <c>-p</c> parameters, writing the
    /// executed copy to <paramref name="outFolder"/>; returns the exit code and the script's output.</summary>
    public (int ExitCode, string Output) Execute(string notebook, string outFolder, IEnumerable<string> parameters, TimeSpan timeout)
    {
        var args = new List<string> { Path.Combine(TestPaths.RepositoryRoot, "scripts", "jupyter_run.py"), notebook, "--out", outFolder, "--kernel", KernelName };
        foreach (var p in parameters) args.AddRange(["-p", p]);
        var (code, output, error) = Run(Python, args, timeout);
        return (code, (output + error).Trim());
    }

    private void RequireKernel()
    {
        const string script = "from jupyter_client.kernelspec import KernelSpecManager as M; print('\\n'.join(sorted(M().find_kernel_specs())))";
        var (code, output, error) = Run(Python, ["-c", script], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"listing Jupyter's kernels with {Python} failed: {LastLine(error)}");
        var kernels = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(kernels.Contains(KernelName),
            $"the Jupyter kernel {KernelName} is not registered for {Python} (kernels: {string.Join(", ", kernels)}). To fix: {SetupHint}.");
    }

    private static IEnumerable<string> Candidates()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var fromEnv = Environment.GetEnvironmentVariable("SHRINK_JUPYTER_PYTHON");
        if (!string.IsNullOrWhiteSpace(fromEnv) && seen.Add(fromEnv)) yield return fromEnv;
        if (File.Exists("/usr/bin/python3") && seen.Add("/usr/bin/python3")) yield return "/usr/bin/python3";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, OperatingSystem.IsWindows() ? "python.exe" : "python3");
            if (File.Exists(path))
            {
                if (seen.Add(path)) yield return path;
                yield break;
            }
        }
    }

    // Runs a process with its output captured. The test host's MSBuild/VSTest variables are removed, so the kernel that
    // Jupyter starts (`dotnet interactive jupyter`) sees the environment a user's Jupyter would give it.
    private static (int Code, string Output, string Error) Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepositoryRoot,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.ToList())
            if (key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) ||
                key.Equals("DOTNET_HOST_PATH", StringComparison.OrdinalIgnoreCase))
                psi.Environment.Remove(key);
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, "", $"cannot start {file}: {e.Message}");
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return (-1, output.Result, error.Result + $"\n{Path.GetFileName(file)} did not finish within {timeout.TotalSeconds:0} s and was killed");
            }
            process.WaitForExit();
            return (process.ExitCode, output.Result, error.Result);
        }
    }

    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "no output" : lines[^1];
    }
}
