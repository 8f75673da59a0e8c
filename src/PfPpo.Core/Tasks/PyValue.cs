using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PfPpo.Tasks;

/// <summary>
/// The values tasks pass and return (integers, strings, booleans, None, lists and dicts with string keys), as JSON
/// and as Python literals. Generators compute expected values in C#; this class is the single place that turns them
/// into the io_tests JSON and into the literals of the docstring examples and the <c>check</c> asserts.
/// </summary>
public static class PyValue
{
    /// <summary>
    /// Converts a C# value to JSON: null, bool, int, long, string, <see cref="IDictionary"/> with string keys
    /// (insertion order kept) and any other <see cref="IEnumerable"/> (a list).
    /// </summary>
    public static JsonElement ToJson(object? value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, value);
        }
        using JsonDocument document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>The Python literal for a JSON value, as <c>repr()</c> would print it (lists, dicts, str, int, bool, None).</summary>
    public static string ToPython(JsonElement value)
    {
        var builder = new StringBuilder();
        AppendPython(builder, value);
        return builder.ToString();
    }

    /// <summary>A Python string literal for <paramref name="text"/>, quoted the way <c>repr()</c> quotes it.</summary>
    public static string Repr(string text)
    {
        char quote = text.Contains('\'') && !text.Contains('"') ? '"' : '\'';
        var builder = new StringBuilder(text.Length + 2);
        builder.Append(quote);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\\': builder.Append(@"\\"); break;
                case '\n': builder.Append(@"\n"); break;
                case '\r': builder.Append(@"\r"); break;
                case '\t': builder.Append(@"\t"); break;
                default:
                    if (c == quote)
                    {
                        builder.Append('\\').Append(c);
                    }
                    else if (c < ' ' || c > '~')
                    {
                        throw new ArgumentException($"task strings are printable ASCII; got U+{(int)c:X4} in {text}", nameof(text));
                    }
                    else
                    {
                        builder.Append(c);
                    }
                    break;
            }
        }
        return builder.Append(quote).ToString();
    }

    private static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case int i: writer.WriteNumberValue(i); break;
            case long l: writer.WriteNumberValue(l); break;
            case string s: writer.WriteStringValue(s); break;
            case IDictionary dictionary:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    writer.WritePropertyName(entry.Key as string
                        ?? throw new ArgumentException($"dictionary keys must be strings (JSON objects); got {entry.Key.GetType().Name}", nameof(value)));
                    Write(writer, entry.Value);
                }
                writer.WriteEndObject();
                break;
            case IEnumerable list:
                writer.WriteStartArray();
                foreach (object? item in list)
                {
                    Write(writer, item);
                }
                writer.WriteEndArray();
                break;
            default:
                throw new ArgumentException($"{value.GetType().Name} is not a task value (use int, long, string, bool, null, a list or a dict with string keys)", nameof(value));
        }
    }

    private static void AppendPython(StringBuilder builder, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null: builder.Append("None"); break;
            case JsonValueKind.True: builder.Append("True"); break;
            case JsonValueKind.False: builder.Append("False"); break;
            case JsonValueKind.String: builder.Append(Repr(value.GetString()!)); break;
            case JsonValueKind.Number:
                builder.Append(value.TryGetInt64(out long integer)
                    ? integer.ToString(CultureInfo.InvariantCulture)
                    : throw new ArgumentException($"task values are integers, not {value.GetRawText()}", nameof(value)));
                break;
            case JsonValueKind.Array:
                builder.Append('[');
                bool firstItem = true;
                foreach (JsonElement item in value.EnumerateArray())
                {
                    if (!firstItem)
                    {
                        builder.Append(", ");
                    }
                    firstItem = false;
                    AppendPython(builder, item);
                }
                builder.Append(']');
                break;
            case JsonValueKind.Object:
                builder.Append('{');
                bool firstProperty = true;
                foreach (JsonProperty property in value.EnumerateObject())
                {
                    if (!firstProperty)
                    {
                        builder.Append(", ");
                    }
                    firstProperty = false;
                    builder.Append(Repr(property.Name)).Append(": ");
                    AppendPython(builder, property.Value);
                }
                builder.Append('}');
                break;
            default:
                throw new ArgumentException($"not a task value: {value.ValueKind}", nameof(value));
        }
    }
}
