using System.Globalization;

namespace Shrink.Training;

/// <summary>
/// Prints <see cref="TrainingProgress"/> reports. In a terminal (<see cref="Console.Out"/> not redirected) the step
/// progress is one line rewritten in place with <c>\r</c>, at most every <see cref="Interval"/> (default 0.2 s); in a
/// notebook or a log file it prints a plain line every <see cref="Interval"/> (default 10 s). Evaluations, resume,
/// reuse and the end of training are always printed on lines of their own:
/// <code>
/// epoch 2/10 | step 160/800 (20%) | loss 0.5123 | lr 9.05e-04 | 5120 img/s | ETA 0:42
/// epoch 2/10 step 160/800: train loss 0.5310 acc 81.2% | test loss 0.5012 acc 82.3% | lr 9.05e-04 | 9.8 s
/// </code>
/// </summary>
public sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    private readonly TextWriter _writer;
    private DateTime _lastStepLine = DateTime.MinValue;
    private int _openLineLength;

    /// <summary>Creates a reporter.</summary>
    /// <param name="writer">Where to write; default <see cref="Console.Out"/>.</param>
    /// <param name="singleLine">Rewrite one line in place; default: true exactly when writing to a console whose output is not redirected.</param>
    /// <param name="interval">Least time between step lines; default 0.2 s in single-line mode, 10 s otherwise.</param>
    public ConsoleProgress(TextWriter? writer = null, bool? singleLine = null, TimeSpan? interval = null)
    {
        _writer = writer ?? Console.Out;
        SingleLine = singleLine ?? (writer is null && !Console.IsOutputRedirected);
        Interval = interval ?? (SingleLine ? TimeSpan.FromSeconds(0.2) : TimeSpan.FromSeconds(10));
    }

    /// <summary>Whether step progress rewrites one line in place.</summary>
    public bool SingleLine { get; }

    /// <summary>Least time between two step-progress lines.</summary>
    public TimeSpan Interval { get; }

    /// <inheritdoc/>
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Event == TrainingEvent.Step)
        {
            var now = DateTime.UtcNow;
            bool last = value.Step == value.TotalSteps;
            if (now - _lastStepLine < Interval && !last) return;
            _lastStepLine = now;
            var line = StepLine(value);
            if (SingleLine)
            {
                _writer.Write("\r" + line.PadRight(_openLineLength));
                _openLineLength = line.Length;
            }
            else _writer.WriteLine(line);
            _writer.Flush();
            return;
        }
        if (value.Event == TrainingEvent.Checkpointed || value.Message.Length == 0) return;
        EndOpenLine();
        _writer.WriteLine(value.Message);
        _writer.Flush();
    }

    private void EndOpenLine()
    {
        if (_openLineLength == 0) return;
        _writer.WriteLine();
        _openLineLength = 0;
    }

    /// <summary>The step-progress line, e.g. <c>epoch 2/10 | step 160/800 (20%) | loss 0.5123 | lr 9.05e-04 | 5120 img/s | ETA 0:42</c>.</summary>
    public static string StepLine(TrainingProgress p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var ci = CultureInfo.InvariantCulture;
        double pct = p.TotalSteps > 0 ? 100.0 * p.Step / p.TotalSteps : 0;
        var eta = p.Eta is { } e ? " | ETA " + FormatDuration(e) : "";
        return string.Create(ci, $"epoch {p.Epoch}/{p.Epochs} | step {p.Step}/{p.TotalSteps} ({pct:0}%) | loss {p.Loss:0.0000} | lr {p.Lr:0.00e+00} | {p.ImagesPerSecond:0} img/s{eta}");
    }

    /// <summary>A duration as <c>m:ss</c> or <c>h:mm:ss</c>.</summary>
    public static string FormatDuration(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        return t.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalMinutes}:{t.Seconds:00}");
    }
}
