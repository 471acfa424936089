using System.Text.Json;
using Shrink.Experiments;
using Shrink.Training;

namespace Shrink.Distillation;

/// <summary>
/// The teacher cost of a distillation run, kept in its run folder (<see cref="FileName"/>) so a reused or resumed run
/// reports what the whole run cost: the cache-fill passes and seconds are added when a fill happens, the live and
/// live-equivalent passes are written when training finishes.
/// </summary>
internal sealed record TeacherPassRecord
{
    /// <summary>The file name in a run folder.</summary>
    public const string FileName = "teacher-passes.json";

    public long LiveTeacherForwardPasses { get; init; }
    public long CacheFillTeacherForwardPasses { get; init; }
    public double CacheFillSeconds { get; init; }
    public long LiveEquivalentTeacherForwardPasses { get; init; }

    /// <summary>The record in <paramref name="runFolder"/>, or an empty one when there is none.</summary>
    /// <exception cref="RunFileException">The file is not a valid record.</exception>
    public static TeacherPassRecord Load(string runFolder)
    {
        var path = Path.Combine(runFolder, FileName);
        if (!File.Exists(path)) return new TeacherPassRecord();
        try
        {
            var r = JsonSerializer.Deserialize<TeacherPassRecord>(File.ReadAllText(path), TrainerJson.Compact)
                ?? throw new RunFileException(path, "the file holds null instead of a teacher-pass record; delete the run folder to recompute the run.");
            if (r.LiveTeacherForwardPasses < 0 || r.CacheFillTeacherForwardPasses < 0 || r.LiveEquivalentTeacherForwardPasses < 0 || !(r.CacheFillSeconds >= 0))
                throw new RunFileException(path, "a count or a duration is negative; delete the run folder to recompute the run.");
            return r;
        }
        catch (JsonException e) { throw new RunFileException(path, "the file is not a valid teacher-pass record (" + e.Message + "); delete the run folder to recompute the run.", e); }
    }

    /// <summary>Writes the record into <paramref name="runFolder"/> (atomically), creating the folder when it does not exist yet.</summary>
    public void Save(string runFolder)
    {
        Directory.CreateDirectory(runFolder);
        AtomicFile.WriteAllText(Path.Combine(runFolder, FileName), JsonSerializer.Serialize(this, TrainerJson.Indented) + "\n");
    }
}
