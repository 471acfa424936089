namespace Shrink.Data;

/// <summary>
/// The random choices <see cref="Augmentation"/> made for one sample: the crop offsets <see cref="Dy"/>, <see cref="Dx"/>
/// into the image zero-padded by p on every side (0..2p; dy = dx = p is no shift) and whether it was mirrored. Together
/// with the sample's bytes, the padding and the normalisation they determine the augmented image exactly, so a stored
/// draw replays the augmentation (<see cref="DataLoader.Replay"/>) — the role of TinyViT's per-sample augmentation seed,
/// without depending on a random-number generator's algorithm.
/// </summary>
/// <param name="Dy">Row offset of the crop window in the padded image, 0..2p.</param>
/// <param name="Dx">Column offset of the crop window in the padded image, 0..2p.</param>
/// <param name="Flip">Mirrored left–right after the crop.</param>
public readonly record struct AugmentationDraw(int Dy, int Dx, bool Flip)
{
    /// <summary>Largest offset <see cref="Pack"/> can store (15 bits).</summary>
    public const int MaxOffset = (1 << 15) - 1;

    /// <summary>The draw that leaves an image unchanged under padding <paramref name="padding"/>: dy = dx = p, no flip.</summary>
    public static AugmentationDraw Identity(int padding) => new(padding, padding, false);

    /// <summary>
    /// Packs the draw into 32 bits: bits 0–14 dy, bits 15–29 dx, bit 30 flip, bit 31 set (so a packed draw is never 0 and
    /// 0 can mean "no record").
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An offset is outside 0..<see cref="MaxOffset"/>.</exception>
    public uint Pack()
    {
        if ((uint)Dy > MaxOffset || (uint)Dx > MaxOffset)
            throw new ArgumentOutOfRangeException(nameof(Dy), $"AugmentationDraw: offsets ({Dy}, {Dx}) must be in 0..{MaxOffset} to be packed.");
        return (uint)Dy | (uint)Dx << 15 | (Flip ? 1u << 30 : 0u) | 1u << 31;
    }

    /// <summary>The draw packed by <see cref="Pack"/>.</summary>
    /// <exception cref="ArgumentException">Bit 31 is clear (not a packed draw).</exception>
    public static AugmentationDraw Unpack(uint packed)
    {
        if ((packed & 1u << 31) == 0) throw new ArgumentException($"AugmentationDraw: 0x{packed:X8} is not a packed draw (bit 31 is clear).", nameof(packed));
        return new((int)(packed & MaxOffset), (int)(packed >> 15 & MaxOffset), (packed & 1u << 30) != 0);
    }
}
