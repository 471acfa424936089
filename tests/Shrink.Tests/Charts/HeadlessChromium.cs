using System.Diagnostics;

namespace Shrink.Tests.Charts;

/// <summary>
/// Loads a local HTML file in Debian's headless Chromium and returns the DOM after its scripts ran
/// (<c>--dump-dom</c>, with a virtual-time budget so timers fire without waiting). Uses the flags this machine
/// needs (no sandbox as root, no background networking) and a fresh profile folder, with the network off: every host
/// name resolves to nothing and every request goes to a closed proxy port, so a page that fetched anything (a CDN's
/// plotly.js, require.js) would not draw.
/// </summary>
internal static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    public static string DumpDom(string htmlPath, TimeSpan timeout)
    {
        if (!File.Exists(Executable))
            Assert.Fail($"{Executable} is missing: the browser tests need Debian's Chromium. Install it with `apt-get install chromium` (.ci/run does).");

        var profile = Path.Combine(Path.GetTempPath(), "shrink-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var psi = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", $"--user-data-dir={profile}",
                     "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                     "--virtual-time-budget=10000", "--dump-dom", new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri,
                 })
            psi.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {Executable}.");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                process.WaitForExit();
                Assert.Fail($"chromium did not finish loading {htmlPath} within {timeout.TotalSeconds:0} s. stderr:\n{Tail(stderr.Result)}");
            }
            process.WaitForExit();
            if (process.ExitCode != 0 || stdout.Result.Length == 0)
                Assert.Fail($"chromium exited with code {process.ExitCode} and {stdout.Result.Length} characters of DOM for {htmlPath}. stderr:\n{Tail(stderr.Result)}");
            return stdout.Result + "\n<!-- chromium stderr:\n" + Tail(stderr.Result) + "\n-->";
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static string Tail(string s) => s.Length <= 4000 ? s : "…" + s[^4000..];
}
