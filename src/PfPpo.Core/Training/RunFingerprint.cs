using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace PfPpo.Training;

/// <summary>
/// What makes a run the run it is: its settings and a content hash of every input file (data, starting model, config),
/// item by item, so that a refused resume can say exactly what changed.
/// </summary>
public sealed record RunFingerprint(IReadOnlyDictionary<string, string> Items)
{
    /// <summary>
    /// The settings (serialised as JSON, one item per leaf property: nested objects are flattened as <c>Outer.Inner</c>) plus, for each input, the SHA-256 of the file or
    /// of every file of the directory (names and contents, in name order).
    /// </summary>
    public static RunFingerprint Of(object settings, IReadOnlyDictionary<string, string> inputs)
    {
        var items = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using (JsonDocument json = JsonDocument.Parse(JsonSerializer.Serialize(settings, settings.GetType())))
        {
            Flatten(json.RootElement, "", items);
        }
        foreach ((string name, string path) in inputs)
        {
            items["input " + name] = HashPath(path);
        }
        return new RunFingerprint(items);
    }

    /// <summary>The items that differ from <paramref name="saved"/>, as "name: saved → now" lines (empty when they match).</summary>
    public IReadOnlyList<string> Differences(RunFingerprint saved)
    {
        var lines = new List<string>();
        foreach (string key in Items.Keys.Union(saved.Items.Keys).Order(StringComparer.Ordinal))
        {
            string? before = saved.Items.GetValueOrDefault(key);
            string? now = Items.GetValueOrDefault(key);
            if (before != now)
            {
                lines.Add(key.StartsWith("input ", StringComparison.Ordinal)
                    ? $"{key} has changed (content hash {Short(before)} → {Short(now)})"
                    : $"{key}: {before ?? "(absent)"} → {now ?? "(absent)"}");
            }
        }
        return lines;
    }

    private static void Flatten(JsonElement element, string prefix, SortedDictionary<string, string> items)
    {
        foreach (JsonProperty property in element.EnumerateObject())
        {
            string name = prefix + property.Name;
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                Flatten(property.Value, name + ".", items);
            }
            else
            {
                items["setting " + name] = property.Value.GetRawText();
            }
        }
    }

    private static string Short(string? hash) => hash is null ? "(absent)" : hash[..Math.Min(12, hash.Length)];

    private static string HashPath(string path)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (File.Exists(path))
        {
            AppendFile(hash, path);
        }
        else if (Directory.Exists(path))
        {
            foreach (string file in Directory.EnumerateFiles(path).Order(StringComparer.Ordinal))
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + "\0"));
                AppendFile(hash, file);
            }
        }
        else
        {
            throw new FileNotFoundException($"{path}: no such file or directory.", path);
        }
        return Convert.ToHexString(hash.GetHashAndReset()).ToLower(CultureInfo.InvariantCulture);
    }

    private static void AppendFile(IncrementalHash hash, string path)
    {
        using FileStream stream = File.OpenRead(path);
        byte[] buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }
    }
}
