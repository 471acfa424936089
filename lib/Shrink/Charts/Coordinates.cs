using System.Numerics;
using System.Text.Json;

namespace Shrink.Charts;

/// <summary>Positions along one axis: numbers, or category labels (strings).</summary>
internal sealed class Coordinates
{
    private Coordinates(double[]? numbers, string[]? labels) { Numbers = numbers; Labels = labels; }

    /// <summary>Numeric positions, or null for labels.</summary>
    public double[]? Numbers { get; }

    /// <summary>Category labels, or null for numbers.</summary>
    public string[]? Labels { get; }

    /// <summary>How many positions.</summary>
    public int Count => Numbers?.Length ?? Labels!.Length;

    public static Coordinates Of<T>(IEnumerable<T> values, string what) where T : INumberBase<T> => new(Series.ToDoubles(values, what), null);

    public static Coordinates Of(IEnumerable<string> labels, string what)
    {
        ArgumentNullException.ThrowIfNull(labels, what);
        return new(null, labels.Select(l => l ?? "").ToArray());
    }

    public void Write(Utf8JsonWriter w, string property)
    {
        w.WritePropertyName(property);
        if (Numbers is not null) FigureJson.WriteNumbers(w, Numbers);
        else
        {
            w.WriteStartArray();
            foreach (var l in Labels!) w.WriteStringValue(l);
            w.WriteEndArray();
        }
    }
}
