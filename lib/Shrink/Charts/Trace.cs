using System.Text.Json;

namespace Shrink.Charts;

/// <summary>
/// One Plotly trace: a named data series drawn in one panel of a <see cref="Figure"/>. The concrete kinds are
/// <see cref="Scatter"/>, <see cref="Bar"/>, <see cref="Heatmap"/>, <see cref="Contour"/> and <see cref="Surface"/>;
/// build them with <see cref="Chart"/>. Traces are immutable and validate their shapes when built.
/// </summary>
public abstract class Trace
{
    private protected Trace(string? name) => Name = name;

    /// <summary>The legend name, or null for Plotly's default.</summary>
    public string? Name { get; }

    /// <summary>Plotly's trace type, e.g. <c>scatter</c>, <c>bar</c>, <c>heatmap</c>.</summary>
    public abstract string Kind { get; }

    /// <summary>True for traces drawn in a 3-D scene (<see cref="Surface"/>) rather than on x/y axes.</summary>
    public virtual bool Is3D => false;

    /// <summary>The panel (subplot) this trace is drawn in: 0 unless the figure is a <see cref="Chart.Grid"/>.</summary>
    internal int Panel { get; private set; }

    /// <summary>A copy drawn in <paramref name="panel"/>.</summary>
    internal Trace OnPanel(int panel)
    {
        var copy = (Trace)MemberwiseClone();
        copy.Panel = panel;
        return copy;
    }

    /// <summary>True when the trace draws a colour bar (which a grid places beside its panel).</summary>
    internal virtual bool HasColorBar => false;

    /// <summary>The trace's own properties (data, mode, colours); type, name and axes are written by <see cref="FigureJson"/>.</summary>
    internal abstract void WriteProperties(Utf8JsonWriter w);

    /// <summary>A short description for <see cref="Figure.ToString"/>, e.g. <c>scatter 'train' 30 pts</c>.</summary>
    public override string ToString() => Name is null ? $"{Kind} {SizeText}" : $"{Kind} '{Name}' {SizeText}";

    /// <summary>How much data the trace holds, e.g. <c>30 pts</c> or <c>10×12</c>.</summary>
    private protected abstract string SizeText { get; }
}
