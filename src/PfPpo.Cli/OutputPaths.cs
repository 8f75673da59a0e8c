namespace PfPpo.Cli;

/// <summary>
/// Checks an output path before any work starts, without creating anything: a run that would only fail at its final
/// write (after all generation and scoring) is refused at once, and a refused run leaves no empty folder behind.
/// </summary>
public static class OutputPaths
{
    /// <summary>Why a file cannot be written at <paramref name="path"/>, or null when it can.</summary>
    public static string? FileError(string path)
    {
        if (path.Length == 0)
        {
            return "give a file path, not an empty string.";
        }
        if (Directory.Exists(path))
        {
            return $"'{path}' is a directory; give the path of a file to write.";
        }
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            try
            {
                using var probe = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                return $"'{path}' is not writable ({e.Message}).";
            }
        }
        return FolderError(Path.GetDirectoryName(full) ?? full, path);
    }

    /// <summary>Why a folder cannot be written (or created) at <paramref name="path"/>, or null when it can.</summary>
    public static string? FolderError(string path) => path.Length == 0 ? "give a folder path, not an empty string." : FolderError(path, path);

    private static string? FolderError(string folder, string given)
    {
        string full = Path.GetFullPath(folder);
        string? existing = full;
        while (existing is not null && !Directory.Exists(existing))
        {
            if (File.Exists(existing))
            {
                return existing == Path.GetFullPath(given)
                    ? $"'{given}' is a file, not a folder."
                    : $"cannot create '{given}': '{existing}' is a file, not a folder.";
            }
            existing = Path.GetDirectoryName(existing);
        }
        if (existing is null)
        {
            return $"cannot create '{given}': none of its parent folders exists.";
        }
        try
        {
            string probe = Path.Combine(existing, $".pfppo-write-check.{Guid.NewGuid():N}");
            using var stream = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return $"cannot write to '{given}': '{existing}' is not writable ({e.Message}).";
        }
        return null;
    }
}
