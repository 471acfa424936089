namespace Shrink.Experiments;

/// <summary>
/// Base of every hyperparameter record (open_lth's <c>Hparams</c>): an immutable <c>record</c> whose properties all have
/// defaults, so <c>new XHparams()</c> is the documented default configuration and a notebook changes one knob with
/// <c>with</c> or an object initialiser.
/// <code>
/// public sealed record TeacherRun : Hparams
/// {
///     /// &lt;summary&gt;Embedding width D.&lt;/summary&gt;
///     public int Dim { get; init; } = 64;
///     /// &lt;summary&gt;How the teacher is trained.&lt;/summary&gt;
///     public TrainingHparams Training { get; init; } = new();
/// }
/// string folder = RunFolder.For("runs", new TeacherRun { Dim = 96 });   // runs/TeacherRun_&lt;hash&gt;/
/// </code>
/// A record's identity is its <see cref="RunName"/>: the type name plus a hash of the properties that differ from the
/// defaults, so adding a new property with a default never renames existing runs.
/// <para>
/// Rules for subclasses (checked by <see cref="RunName.Canonical"/>): every public property has a default (an
/// initialiser, or a positional parameter with a default value); property types are bool, integers, float, double,
/// decimal, string, enums, <see cref="Shrink.Training.Step"/> (any <see cref="IParsable{TSelf}"/> value type whose
/// ToString is canonical), nested <see cref="Hparams"/>, nullable versions of these, or arrays / lists of them.
/// Mark a property that cannot change the result (a progress interval, a checkpoint interval) with
/// <see cref="NotInRunNameAttribute"/> to leave it out of the name.
/// </para>
/// </summary>
public abstract record Hparams
{
    /// <summary>
    /// The canonical description: the type name and the non-default properties sorted by name, e.g.
    /// <c>TrainingHparams(Lr=0.01, Steps=2ep)</c> (see <see cref="RunName.Canonical"/>).
    /// </summary>
    public string Describe() => RunName.Canonical(this);
}

/// <summary>
/// Leaves a property of an <see cref="Hparams"/> record out of its <see cref="RunName"/>: use it only for settings that
/// cannot change what a run computes (how often to print progress or write a checkpoint).
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter, Inherited = true)]
public sealed class NotInRunNameAttribute : Attribute
{
}
