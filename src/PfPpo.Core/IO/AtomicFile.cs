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

    /// <summary>Calls <paramref name="write"/> on a temporary file beside <paramref name="path"/>, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        Directory.CreateDirectory(directory);
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
