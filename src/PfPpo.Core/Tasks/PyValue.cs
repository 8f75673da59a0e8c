using System.Buffers;
using System.Collections;
using System.Text.Json;
using PfPpo.Evaluation;
using PfPpo.Scoring;

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

    /// <summary>The Python literal for a task value (lists, dicts, str, int, bool, None), as <c>repr()</c> would print it.</summary>
    public static string ToPython(JsonElement value)
    {
        RequireTaskValue(value);
        return PythonRepr.FromJson(value);
    }

    /// <summary>A Python string literal for <paramref name="text"/> (printable ASCII, as every task string is), quoted the way <c>repr()</c> quotes it.</summary>
    public static string Repr(string text)
    {
        RequirePrintableAscii(text);
        return PythonRepr.String(text);
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

    /// <summary>Task values are integers, printable-ASCII strings, booleans, None, lists and dicts with string keys.</summary>
    private static void RequireTaskValue(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.True or JsonValueKind.False:
                break;
            case JsonValueKind.String:
                RequirePrintableAscii(value.GetString()!);
                break;
            case JsonValueKind.Number when !value.TryGetInt64(out _):
                throw new ArgumentException($"task values are integers, not {value.GetRawText()}", nameof(value));
            case JsonValueKind.Number:
                break;
            case JsonValueKind.Array:
                foreach (JsonElement item in value.EnumerateArray())
                {
                    RequireTaskValue(item);
                }
                break;
            case JsonValueKind.Object:
                foreach (JsonProperty property in value.EnumerateObject())
                {
                    RequirePrintableAscii(property.Name);
                    RequireTaskValue(property.Value);
                }
                break;
            default:
                throw new ArgumentException($"not a task value: {value.ValueKind}", nameof(value));
        }
    }

    private static void RequirePrintableAscii(string text)
    {
        foreach (char c in text)
        {
            if ((c < ' ' && c is not ('\n' or '\r' or '\t')) || c > '~')
            {
                throw new ArgumentException($"task strings are printable ASCII; got U+{(int)c:X4} in {text}", nameof(text));
            }
        }
    }
}
