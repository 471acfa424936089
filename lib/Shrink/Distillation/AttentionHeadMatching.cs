namespace Shrink.Distillation;

/// <summary>How <see cref="AttentionDistillation"/> pairs the student's attention heads with the teacher's.</summary>
public enum AttentionHeadMatching
{
    /// <summary>Average each model's maps over its heads first, then compare one map per layer (works for any head counts).</summary>
    Averaged,

    /// <summary>Compare head h of the student with head h of the teacher and average over heads (equal head counts).</summary>
    Matched,
}
