namespace Shrink.Distillation;

/// <summary>What a <see cref="TeacherLogitCache"/> stores per record.</summary>
public enum TeacherCacheValues
{
    /// <summary>
    /// TinyViT's layout: the top-k teacher probabilities softmax(z_t) (τ = 1) as IEEE half floats with their class indices
    /// (uint16). Dense targets are rebuilt by TinyViT's rule (the C − k missing classes share the remaining mass
    /// equally); with k = C they are exact up to fp16 rounding. 4 + 4k bytes per record.
    /// </summary>
    Float16Probabilities,

    /// <summary>
    /// All C teacher logits as float32 (k = C, no indices): targets at any temperature softmax(z_t/τ) are exact, bit for
    /// bit those of a live teacher on the same batch. 4 + 4C bytes per record — cheap for the un-augmented case (one
    /// epoch) and small C.
    /// </summary>
    Float32Logits,
}
