using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shrink.Training;

/// <summary>
/// A training duration or point in training, typed so that "10 epochs" and "10 iterations" cannot be confused
/// (open_lth's <c>Step</c>). Written <c>"10ep"</c> (whole epochs), <c>"500it"</c> (iterations, i.e. optimiser steps)
/// or <c>"2ep100it"</c> (2 epochs then 100 more iterations). A step stays symbolic until the number of iterations
/// per epoch I is known: <see cref="ToIterations"/> gives <c>Epochs · I + Iterations</c>.
/// <code>
/// var hp = new TrainingHparams { Steps = "10ep", Warmup = "500it" };
/// int total = hp.Steps.ToIterations(loader.Count);
/// </code>
/// Equality is structural on (<see cref="Epochs"/>, <see cref="Iterations"/>): <c>"1ep"</c> and <c>"100it"</c> are
/// different values even when an epoch has 100 iterations (compare <see cref="ToIterations"/> results for that).
/// In JSON a step is its string (<c>"2ep100it"</c>).
/// </summary>
[JsonConverter(typeof(StepJsonConverter))]
public readonly record struct Step : IParsable<Step>, ISpanFormattable
{
    private Step(int epochs, int iterations) { Epochs = epochs; Iterations = iterations; }

    /// <summary>Whole epochs (≥ 0).</summary>
    public int Epochs { get; }

    /// <summary>Iterations (optimiser steps) after the whole epochs (≥ 0; may exceed an epoch's length).</summary>
    public int Iterations { get; }

    /// <summary>The empty duration, <c>"0it"</c>.</summary>
    public static Step Zero => default;

    /// <summary>True for <c>"0it"</c> / <c>"0ep"</c>.</summary>
    public bool IsZero => Epochs == 0 && Iterations == 0;

    /// <summary><paramref name="epochs"/> whole epochs, <c>"{epochs}ep"</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public static Step FromEpochs(int epochs) => Create(epochs, 0);

    /// <summary><paramref name="iterations"/> iterations, <c>"{iterations}it"</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public static Step FromIterations(int iterations) => Create(0, iterations);

    /// <summary><paramref name="epochs"/> epochs then <paramref name="iterations"/> iterations, <c>"{epochs}ep{iterations}it"</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public static Step Create(int epochs, int iterations)
    {
        if (epochs < 0) throw new ArgumentOutOfRangeException(nameof(epochs), $"Step: epochs must be ≥ 0, got {epochs}.");
        if (iterations < 0) throw new ArgumentOutOfRangeException(nameof(iterations), $"Step: iterations must be ≥ 0, got {iterations}.");
        return new Step(epochs, iterations);
    }

    /// <summary>
    /// The number of iterations this step stands for when an epoch has <paramref name="iterationsPerEpoch"/> iterations:
    /// <c>Epochs · iterationsPerEpoch + Iterations</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="iterationsPerEpoch"/> ≤ 0 while <see cref="Epochs"/> &gt; 0.</exception>
    /// <exception cref="OverflowException">The count exceeds <see cref="int.MaxValue"/>.</exception>
    public int ToIterations(int iterationsPerEpoch)
    {
        if (Epochs > 0 && iterationsPerEpoch <= 0)
            throw new ArgumentOutOfRangeException(nameof(iterationsPerEpoch), $"Step {this}: iterations per epoch must be > 0, got {iterationsPerEpoch}.");
        return checked(Epochs * Math.Max(iterationsPerEpoch, 0) + Iterations);
    }

    /// <summary>
    /// Parses <c>"{E}ep"</c>, <c>"{I}it"</c> or <c>"{E}ep{I}it"</c> with non-negative decimal integers E and I
    /// (surrounding white space is ignored; nothing else is accepted).
    /// </summary>
    /// <exception cref="FormatException">The text is not a step; the message shows it and the accepted forms.</exception>
    public static Step Parse(string s) => Parse(s, null);

    /// <inheritdoc cref="Parse(string)"/>
    public static Step Parse(string s, IFormatProvider? provider)
    {
        ArgumentNullException.ThrowIfNull(s);
        return TryParse(s, out var step, out var why) ? step
            : throw new FormatException($"Step: '{s}' is not a training step ({why}). Write whole epochs and/or iterations as non-negative integers: \"10ep\", \"500it\" or \"2ep100it\".");
    }

    /// <summary>Parses like <see cref="Parse(string)"/>; false (and <see cref="Zero"/>) when <paramref name="s"/> is not a step.</summary>
    public static bool TryParse([NotNullWhen(true)] string? s, IFormatProvider? provider, out Step result) => TryParse(s, out result, out _);

    /// <inheritdoc cref="TryParse(string?, IFormatProvider?, out Step)"/>
    public static bool TryParse([NotNullWhen(true)] string? s, out Step result) => TryParse(s, out result, out _);

    private static bool TryParse(string? s, out Step result, out string why)
    {
        result = default;
        if (s is null) { why = "null"; return false; }
        var text = s.AsSpan().Trim();
        if (text.IsEmpty) { why = "empty"; return false; }
        int epochs = 0, iterations = 0;
        bool sawEpochs = false;
        int ep = text.IndexOf("ep", StringComparison.Ordinal);
        if (ep >= 0)
        {
            if (!TryCount(text[..ep], out epochs, out why)) { why = "epochs: " + why; return false; }
            sawEpochs = true;
            text = text[(ep + 2)..];
        }
        if (text.IsEmpty)
        {
            if (!sawEpochs) { why = "no count"; return false; }
            result = new Step(epochs, 0);
            why = "";
            return true;
        }
        if (!text.EndsWith("it", StringComparison.Ordinal)) { why = sawEpochs ? "only \"it\" may follow \"ep\"" : "it must end in \"ep\" or \"it\""; return false; }
        if (!TryCount(text[..^2], out iterations, out why)) { why = "iterations: " + why; return false; }
        result = new Step(epochs, iterations);
        why = "";
        return true;
    }

    private static bool TryCount(ReadOnlySpan<char> digits, out int value, out string why)
    {
        value = 0;
        if (digits.IsEmpty) { why = "a number is missing"; return false; }
        foreach (var c in digits)
            if (c is < '0' or > '9') { why = $"'{digits}' is not a non-negative integer"; return false; }
        if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value)) { why = $"{digits} is too large"; return false; }
        why = "";
        return true;
    }

    /// <summary>Parses a step written as a string, e.g. <c>Step s = "10ep";</c> (throws <see cref="FormatException"/> for a bad string).</summary>
    public static implicit operator Step(string s) => Parse(s);

    /// <summary>The canonical text: <c>"10ep"</c>, <c>"500it"</c>, <c>"2ep100it"</c>, or <c>"0it"</c> for zero; <see cref="Parse(string)"/> reads it back to an equal step.</summary>
    public override string ToString() =>
        Epochs == 0 ? string.Create(CultureInfo.InvariantCulture, $"{Iterations}it")
        : Iterations == 0 ? string.Create(CultureInfo.InvariantCulture, $"{Epochs}ep")
        : string.Create(CultureInfo.InvariantCulture, $"{Epochs}ep{Iterations}it");

    /// <inheritdoc cref="ToString()"/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        var s = ToString();
        if (s.Length > destination.Length) { charsWritten = 0; return false; }
        s.CopyTo(destination);
        charsWritten = s.Length;
        return true;
    }
}

/// <summary>Reads and writes a <see cref="Step"/> as its string (<c>"2ep100it"</c>).</summary>
public sealed class StepJsonConverter : JsonConverter<Step>
{
    /// <inheritdoc/>
    public override Step Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw new JsonException($"Step: expected a string such as \"10ep\", \"500it\" or \"2ep100it\", got {reader.TokenType}.");
        var s = reader.GetString()!;
        return Step.TryParse(s, out var step) ? step : throw new JsonException($"Step: '{s}' is not a training step; write \"10ep\", \"500it\" or \"2ep100it\".");
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, Step value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
