using System.Text;

namespace PfPpo.IO;

/// <summary>Writes files so that a crash never leaves a partial file: write a temporary file beside the target, then rename it.</summary>
public static class AtomicFile
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes <paramref name="contents"/> as UTF-8 (no BOM) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string contents) => Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, Utf8NoBom, leaveOpen: true);
        writer.Write(contents);
    });

    /// <summary>How old a temporary file must be before a later write treats it as left by a killed writer.</summary>
    public static TimeSpan StaleAfter { get; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Deletes the temporary files that a killed write left in <paramref name="directory"/>: only names of the form
    /// <c>.NAME.GUID.tmp</c> that this class makes, and only when untouched for <see cref="StaleAfter"/>, so that another
    /// live writer's file is never removed. A file that vanishes or cannot be deleted meanwhile is left alone.
    /// </summary>
    public static void RemoveStaleTemps(string directory)
    {
        DateTime cutoff = DateTime.UtcNow - StaleAfter;
        foreach (string file in Directory.EnumerateFiles(directory, ".*.tmp"))
        {
            if (IsTempName(Path.GetFileName(file)) && File.GetLastWriteTimeUtc(file) < cutoff)
            {
                try
                {
                    File.Delete(file);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another process removed or holds it; it is not ours to fight over.
                }
            }
        }
    }

    /// <summary>Whether <paramref name="name"/> is <c>.NAME.GUID.tmp</c> with a 32-hex-digit GUID.</summary>
    private static bool IsTempName(string name)
    {
        const int GuidLength = 32;
        if (!name.StartsWith('.') || !name.EndsWith(".tmp", StringComparison.Ordinal) || name.Length < 1 + 1 + 1 + GuidLength + 4)
        {
            return false;
        }
        ReadOnlySpan<char> guid = name.AsSpan(name.Length - 4 - GuidLength, GuidLength);
        return name[name.Length - 4 - GuidLength - 1] == '.' && Guid.TryParseExact(guid, "N", out _);
    }

    /// <summary>Calls <paramref name="write"/> on a temporary file beside <paramref name="path"/>, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        Directory.CreateDirectory(directory);
        RemoveStaleTemps(directory);
        string temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
