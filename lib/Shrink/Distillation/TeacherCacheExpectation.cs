using Shrink.Data;

namespace Shrink.Distillation;

/// <summary>
/// What a user of a <see cref="TeacherLogitCache"/> needs from it; <see cref="TeacherLogitCache.Load"/> refuses a file
/// that differs in any given (non-null) property with a <see cref="TeacherCacheFormatException"/>.
/// </summary>
public sealed record TeacherCacheExpectation
{
    /// <summary>The dataset the records must describe (compared by <see cref="TeacherLogitCache.Fingerprint"/>).</summary>
    public ImageDataset? Dataset { get; init; }

    /// <summary>The number of stored classes per record k.</summary>
    public int? TopK { get; init; }

    /// <summary>What the records must hold.</summary>
    public TeacherCacheValues? Values { get; init; }

    /// <summary>The teacher's name.</summary>
    public string? TeacherName { get; init; }

    /// <summary>The input description (<see cref="TeacherLogitCache.DescribeInputs"/> of the loader the student trains with).</summary>
    public string? InputDescription { get; init; }

    /// <summary>The number of epochs an augmented cache must cover (ignored for an epoch-independent cache).</summary>
    public int? MinEpochs { get; init; }
}
