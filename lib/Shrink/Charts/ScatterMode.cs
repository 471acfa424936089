namespace Shrink.Charts;

/// <summary>How a <see cref="Scatter"/> trace draws its points (Plotly's <c>mode</c>).</summary>
public enum ScatterMode
{
    /// <summary>A line through the points (<c>lines</c>).</summary>
    Lines,

    /// <summary>A marker at each point (<c>markers</c>).</summary>
    Markers,

    /// <summary>Both (<c>lines+markers</c>).</summary>
    LinesAndMarkers,
}
