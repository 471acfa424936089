using System.Diagnostics;
using System.Globalization;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Directives;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace Shrink.Notebooks.Execution;

/// <summary>
/// <c>#!time</c>, as the .NET Interactive tool registers it on its root kernel (it lives in the tool, not in the
/// packages): the cell is timed and a <c>text/plain</c> display "Wall time: …ms" follows its other outputs.
/// </summary>
internal static class TimeMagicCommand
{
    /// <summary>Adds <c>#!time</c> to <paramref name="kernel"/>.</summary>
    public static T UseTime<T>(this T kernel) where T : Kernel
    {
        kernel.AddDirective(new KernelActionDirective("#!time") { Description = "Time the execution of the cell" }, MeasureTime);
        return kernel;
    }

    static Task MeasureTime(Microsoft.DotNet.Interactive.Commands.KernelCommand command, KernelInvocationContext context)
    {
        var timer = Stopwatch.StartNew();
        context.OnComplete(invocation =>
        {
            var elapsed = timer.Elapsed;
            invocation.Publish(new DisplayedValueProduced(elapsed, context.Command,
                [new FormattedValue(PlainTextFormatter.MimeType, $"Wall time: {elapsed.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms")]));
        });
        return Task.CompletedTask;
    }
}
