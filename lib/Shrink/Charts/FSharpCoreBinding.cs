using System.Reflection;
using System.Runtime.Loader;

namespace Shrink.Charts;

/// <summary>
/// Binds FSharp.Core (needed by Plotly.NET and by Deedle, see Reports/ResultFrames.cs) to one copy per process.
/// Plotly.NET 6.0.0 and Deedle 8.1.0 ask for FSharp.Core 10.1.0.0,
/// while the .NET Interactive kernel (dotnet-interactive 1.0.712001) has already loaded its own FSharp.Core 10.0.0.0;
/// a second copy loaded next to it breaks Plotly.NET (types from two FSharp.Core's do not match:
/// MissingMethodException). So Shrink's output folder carries no FSharp.Core.dll at its top (only <c>fsharp/</c>), and
/// when a request cannot be met otherwise this resolver answers with, in order: the FSharp.Core the host already
/// loaded (the kernel's), the host's own (its dependency list), or the copy in <c>fsharp/</c> beside Shrink.dll
/// (a host without F#, e.g. a plain C# script runner). Hosts whose own FSharp.Core satisfies Plotly.NET (Shrink's
/// tests, programs that reference Shrink through NuGet) never reach it.
/// </summary>
internal static class FSharpCoreBinding
{
    private const string Name = "FSharp.Core";

    private static int _installed;

    [ThreadStatic] private static bool _resolving;

    /// <summary>Installs the resolver (idempotent). Called by <see cref="ChartFormatters"/>'s module initializer.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1) return;
        AppDomain.CurrentDomain.AssemblyResolve += Resolve;
    }

    private static Assembly? Resolve(object? sender, ResolveEventArgs args)
    {
        if (_resolving || !string.Equals(new AssemblyName(args.Name).Name, Name, StringComparison.Ordinal)) return null;
        _resolving = true;
        try
        {
            var loaded = AppDomain.CurrentDomain.GetAssemblies()
                .Where(a => string.Equals(a.GetName().Name, Name, StringComparison.Ordinal))
                .OrderByDescending(a => AssemblyLoadContext.GetLoadContext(a) == AssemblyLoadContext.Default)
                .FirstOrDefault();
            if (loaded is not null) return loaded;
            try { return AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName(Name)); }
            catch (FileNotFoundException) { }
            catch (FileLoadException) { }
            var beside = Path.Combine(Path.GetDirectoryName(typeof(FSharpCoreBinding).Assembly.Location) ?? "", "fsharp", Name + ".dll");
            if (!File.Exists(beside)) return null;
            var context = AssemblyLoadContext.GetLoadContext(typeof(FSharpCoreBinding).Assembly) ?? AssemblyLoadContext.Default;
            return context.LoadFromAssemblyPath(beside);
        }
        finally { _resolving = false; }
    }
}
