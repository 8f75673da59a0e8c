using System.Text.Json;

namespace PfPpo.IO;

/// <summary>Reads the record files benchmarks ship: jsonl (one object per line, blank lines skipped), a JSON array
/// (e.g. MBPP's sanitized-mbpp.json), either optionally gzip-compressed (HumanEval.jsonl.gz). Errors name
/// <c>file:line</c> (jsonl) or <c>file:[index]</c> (array).</summary>
public static class JsonLines
{
    /// <summary>How PfPpo writes JSON records: non-ASCII and quotes as themselves, not \uXXXX escapes.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IEnumerable<(string Where, JsonElement Record)> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        using var reader = Open(path);
        int first;
        while ((first = reader.Peek()) >= 0 && char.IsWhiteSpace((char)first)) reader.Read();
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
            if (string.IsNullOrWhiteSpace(line)) continue;
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

    public static JsonDocument Parse(string text, string where)
    {
        try
        {
            return JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            string position = e.LineNumber is > 0 ? $"line {e.LineNumber + 1}, " : "";
            throw new DataFormatException($"{where}: invalid JSON ({e.Message.Split(" LineNumber", 2)[0].TrimEnd('.')}, {position}column {(e.BytePositionInLine ?? 0) + 1})");
        }
    }
}
