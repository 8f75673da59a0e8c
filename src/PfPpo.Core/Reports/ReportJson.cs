using System.Text.Json;
using PfPpo.IO;

namespace PfPpo.Reports;

/// <summary>
/// Reads the JSON files a report is built from. Every error is a <see cref="DataFormatException"/> that names the file and
/// the field (<c>DIR/compare.json: methods.sft.pass_at_1.mean must be a number, not "x"</c>); a missing file is a
/// <see cref="FileNotFoundException"/> naming it. An absent field or a JSON null reads as null: the report leaves it out.
/// </summary>
internal static class ReportJson
{
    /// <summary>Parses the whole file (malformed JSON names it, with line and column).</summary>
    public static JsonDocument Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file", path);
        }
        return JsonLines.Parse(File.ReadAllText(path), path);
    }

    /// <summary>The field's value, or null when it is absent or JSON null; <paramref name="element"/> must be an object.</summary>
    public static JsonElement? Field(JsonElement element, string name, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new DataFormatException($"{where}: expected a JSON object, not {Describe(element)}");
        }
        return element.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value : null;
    }

    public static JsonElement Required(JsonElement element, string name, string where) =>
        Field(element, name, where) ?? throw new DataFormatException($"{where}: missing field \"{name}\"");

    public static double? Number(JsonElement element, string name, string where) => Field(element, name, where) is JsonElement value
        ? AsNumber(value, $"{where}.{name}")
        : null;

    public static double AsNumber(JsonElement value, string where) => value.ValueKind == JsonValueKind.Number
        ? value.GetDouble()
        : throw new DataFormatException($"{where} must be a number, not {Describe(value)}");

    public static long? Integer(JsonElement element, string name, string where) => Field(element, name, where) is JsonElement value
        ? value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number)
            ? number
            : throw new DataFormatException($"{where}.{name} must be an integer, not {Describe(value)}")
        : null;

    /// <summary>A string field; a number or boolean is written as its JSON text (a report shows it, it does not compute with it).</summary>
    public static string? Text(JsonElement element, string name, string where) => Field(element, name, where) is JsonElement value
        ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => throw new DataFormatException($"{where}.{name} must be a string, not {Describe(value)}"),
        }
        : null;

    public static IEnumerable<JsonProperty> Properties(JsonElement element, string where) => element.ValueKind == JsonValueKind.Object
        ? element.EnumerateObject()
        : throw new DataFormatException($"{where} must be a JSON object, not {Describe(element)}");

    public static IEnumerable<JsonElement> Items(JsonElement element, string where) => element.ValueKind == JsonValueKind.Array
        ? element.EnumerateArray()
        : throw new DataFormatException($"{where} must be a JSON array, not {Describe(element)}");

    private static string Describe(JsonElement value)
    {
        string text = value.GetRawText();
        return text.Length <= 40 ? text : text[..40] + "...";
    }
}
