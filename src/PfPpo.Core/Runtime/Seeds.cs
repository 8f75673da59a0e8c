namespace PfPpo.Runtime;

/// <summary>
/// Independent, reproducible seeds for the streams of one seeded run (task drawing, data order, each sample), so
/// that a stream's numbers never depend on how many numbers another stream drew. Never string.GetHashCode or
/// HashCode, which change per process.
/// </summary>
public static class Seeds
{
    /// <summary>A 31-bit <see cref="System.Random"/> seed for (<paramref name="seed"/>, <paramref name="stream"/>): the SplitMix64 finaliser.</summary>
    public static int Derive(long seed, long stream)
    {
        ulong x = unchecked((ulong)seed ^ (ulong)stream * 0x9E3779B97F4A7C15UL);
        x = unchecked((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL);
        x = unchecked((x ^ (x >> 27)) * 0x94D049BB133111EBUL);
        return (int)((x ^ (x >> 31)) & int.MaxValue);
    }

    /// <summary>The seed of item <paramref name="minor"/> within group <paramref name="major"/> (e.g. sample s of prompt p).</summary>
    public static int Derive(long seed, int major, int minor) => Derive(seed, (long)((ulong)(uint)major << 32 | (uint)minor));
}
