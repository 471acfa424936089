using System.Buffers.Binary;
using System.Text;

namespace Shrink.Torch;

/// <summary>
/// Reads and edits the version requirements (<c>.gnu.version_r</c>, ELF's <c>Elf64_Verneed</c>/<c>Elf64_Vernaux</c>
/// records) of a 64-bit little-endian ELF shared library. Used for one purpose: TorchSharp 0.107's native shim
/// <c>libLibTorchSharp.so</c> asks for <c>GLIBCXX_3.4.32</c> (GCC 13) for a single symbol,
/// <c>std::ios_base_library_init()</c>, which GCC 13's &lt;iostream&gt; references with a bare <c>.globl</c> and which
/// no relocation uses. Debian 12's libstdc++ (GCC 12) stops at 3.4.30, so the dynamic loader refuses the library.
/// Marking that requirement weak (<c>VER_FLG_WEAK</c>) turns the refusal into nothing at all: glibc skips a missing
/// weak version, and the symbol is never looked up. libtorch itself needs only 3.4.26.
/// </summary>
public static class ElfVersionNeeds
{
    /// <summary>ELF's <c>VER_FLG_WEAK</c>: a missing version is not an error.</summary>
    public const ushort WeakFlag = 2;
    private const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>One version a library needs: the library it is needed from, the version name, and whether it is weak.</summary>
    public sealed record Need(string File, string Version, bool Weak, int FlagsOffset);

    /// <summary>Every version requirement of the ELF image <paramref name="elf"/>; throws <see cref="InvalidDataException"/> on a malformed image.</summary>
    public static IReadOnlyList<Need> Read(ReadOnlySpan<byte> elf, string name = "the library")
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException($"{name} is not an ELF file.");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException($"{name} is not a 64-bit little-endian ELF file.");
        long shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3a..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(elf[0x3c..]);
        if (shentsize < 64 || shoff <= 0 || shoff + (long)shnum * shentsize > elf.Length)
            throw new InvalidDataException($"{name}: the section header table lies outside the file.");
        var needs = new List<Need>();
        for (int i = 0; i < shnum; i++)
        {
            var sh = elf.Slice((int)(shoff + (long)i * shentsize), shentsize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed) continue;
            long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(sh[0x18..]);
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(sh[0x28..]);
            if (link >= shnum) throw new InvalidDataException($"{name}: .gnu.version_r links to a missing string table.");
            var strSh = elf.Slice((int)(shoff + (long)link * shentsize), shentsize);
            long strOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(strSh[0x18..]);
            long vn = offset;
            for (int guard = 0; guard < 4096; guard++)
            {
                if (vn < 0 || vn + 16 > elf.Length) throw new InvalidDataException($"{name}: a version requirement lies outside the file.");
                int count = BinaryPrimitives.ReadUInt16LittleEndian(elf[(int)(vn + 2)..]);
                string file = Str(elf, strOffset, name, BinaryPrimitives.ReadUInt32LittleEndian(elf[(int)(vn + 4)..]));
                long aux = vn + BinaryPrimitives.ReadUInt32LittleEndian(elf[(int)(vn + 8)..]);
                for (int a = 0; a < count; a++)
                {
                    if (aux < 0 || aux + 16 > elf.Length) throw new InvalidDataException($"{name}: a version requirement lies outside the file.");
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(elf[(int)(aux + 4)..]);
                    string version = Str(elf, strOffset, name, BinaryPrimitives.ReadUInt32LittleEndian(elf[(int)(aux + 8)..]));
                    needs.Add(new Need(file, version, (flags & WeakFlag) != 0, (int)(aux + 4)));
                    uint nextAux = BinaryPrimitives.ReadUInt32LittleEndian(elf[(int)(aux + 12)..]);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = BinaryPrimitives.ReadUInt32LittleEndian(elf[(int)(vn + 12)..]);
                if (next == 0) break;
                vn += next;
            }
        }
        return needs;
    }

    private static string Str(ReadOnlySpan<byte> elf, long strOffset, string name, uint at)
    {
        long start = strOffset + at;
        if (start < 0 || start >= elf.Length) throw new InvalidDataException($"{name}: a version name lies outside the file.");
        int end = elf[(int)start..].IndexOf((byte)0);
        if (end < 0) throw new InvalidDataException($"{name}: an unterminated version name.");
        return Encoding.ASCII.GetString(elf.Slice((int)start, end));
    }

    /// <summary>
    /// Marks the requirement of <paramref name="version"/> weak in the ELF image; returns false when the image does
    /// not need that version or already marks it weak (nothing to do).
    /// </summary>
    public static bool MarkWeak(Span<byte> elf, string version, string name = "the library")
    {
        bool changed = false;
        foreach (var need in Read(elf, name))
        {
            if (need.Version != version || need.Weak) continue;
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(elf[need.FlagsOffset..]);
            BinaryPrimitives.WriteUInt16LittleEndian(elf[need.FlagsOffset..], (ushort)(flags | WeakFlag));
            changed = true;
        }
        return changed;
    }
}
