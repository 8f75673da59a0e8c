using System.Text.Json;

namespace PfPpo.IO;

/// <summary>Reads the record files benchmarks ship: jsonl (one object per line, blank lines skipped), a JSON array
/// (e.g. MBPP's sanitized-mbpp.json), either optionally gzip-compressed (HumanEval.jsonl.gz). Errors name
/// <c>file:line</c> (jsonl) or <c>file:[index]</c> (array).</summary>
public static class JsonLines
{
    /// <summary>How PfPpo writes JSON records: non-ASCII and quotes as themselves, not \uXXXX escapes.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes one JSON object per record and line, atomically (<see cref="AtomicFile"/>); <paramref name="writeObject"/> writes one object.</summary>
    public static void Write<T>(string path, IEnumerable<T> records, Action<Utf8JsonWriter, T> writeObject) => AtomicFile.Write(path, stream =>
    {
        foreach (T record in records)
        {
            using (var writer = new Utf8JsonWriter(stream, WriterOptions))
            {
                writeObject(writer, record);
            }
            stream.WriteByte((byte)'\n');
        }
    });

    public static IEnumerable<(string Where, JsonElement Record)> Read(string path)
    {
        if (Directory.Exists(path))
        {
            throw new DataFormatException($"{path}: is a directory, not a file");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file", path);
        }

        using var reader = Open(path);
        int first;
        while ((first = reader.Peek()) >= 0 && char.IsWhiteSpace((char)first))
        {
            reader.Read();
        }

        if (first == '[')
        {
            using var doc = Parse(reader.ReadToEnd(), path);
            int index = 0;
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                yield return ($"{path}:[{index}]", item);
                index++;
            }
            yield break;
        }
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string where = $"{path}:{lineNumber}";
            using var doc = Parse(line, where);
            yield return (where, doc.RootElement);
        }
    }

    private static StreamReader Open(string path)
    {
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            stream = new System.IO.Compression.GZipStream(stream, System.IO.Compression.CompressionMode.Decompress);
        }
        return new StreamReader(stream);
    }

    /// <summary>
    /// Parses one JSON value; malformed JSON, and strings that are not valid UTF-16 (a lone surrogate escape such as
    /// <c>\ud800</c>, which the parser accepts but no string can hold), are a <see cref="DataFormatException"/> naming
    /// <paramref name="where"/>.
    /// </summary>
    public static JsonDocument Parse(string text, string where)
    {
        ArgumentNullException.ThrowIfNull(text);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            string position = e.LineNumber is > 0 ? $"line {e.LineNumber + 1}, " : "";
            throw new DataFormatException($"{where}: invalid JSON ({e.Message.Split(" LineNumber", 2)[0].TrimEnd('.')}, {position}column {(e.BytePositionInLine ?? 0) + 1})");
        }
        // Only a \u escape can spell a lone surrogate (raw invalid UTF-8 is refused by the parser), so most lines skip the walk.
        if (text.Contains("\\u", StringComparison.Ordinal) && FirstInvalidString(document.RootElement) is string path)
        {
            document.Dispose();
            throw new DataFormatException($"{where}: invalid JSON (the string at {path} is not valid UTF-16: it holds a lone surrogate escape such as \\ud800)");
        }
        return document;
    }

    /// <summary>The JSON path of the first string or property name that cannot be read as UTF-16, or null.</summary>
    private static string? FirstInvalidString(JsonElement element, string path = "$")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Readable(() => element.GetString()) ? null : path;
            case JsonValueKind.Array:
                int index = 0;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    if (FirstInvalidString(item, $"{path}[{index++}]") is string found)
                    {
                        return found;
                    }
                }
                return null;
            case JsonValueKind.Object:
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    string name = "";
                    if (!Readable(() => name = property.Name))
                    {
                        return $"{path} (a property name)";
                    }
                    if (FirstInvalidString(property.Value, $"{path}.{name}") is string found)
                    {
                        return found;
                    }
                }
                return null;
            default:
                return null;
        }
    }

    private static bool Readable(Action read)
    {
        try
        {
            read();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
