using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PfPpo.Scoring;

/// <summary>
/// Renders values the way Python's <c>repr()</c> prints them, for verdict messages: plain JSON (expected outputs) and
/// the worker's type-tagged values (what a candidate returned). The one repr implementation of PfPpo: the task
/// generator's literals (<c>PfPpo.Tasks.PyValue</c>) are written through it too. Comparisons are <see cref="OutputComparer"/>'s.
/// </summary>
public static class PythonRepr
{
    /// <summary>A plain JSON value (lists, dicts, str, numbers, true/false/null) as a Python literal.</summary>
    public static string FromJson(JsonElement value) => Build(b => AppendJson(b, value));

    /// <summary>A tagged value (<c>{"i": "3"}</c>, <c>{"l": [...]}</c>, <c>{"d": [[k, v], ...]}</c>, ...) as a Python literal.</summary>
    public static string FromTagged(JsonElement value) => Build(b => AppendTagged(b, value));

    private static string Build(Action<StringBuilder> append)
    {
        var builder = new StringBuilder();
        append(builder);
        return builder.ToString();
    }

    private static void AppendJson(StringBuilder b, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null: b.Append("None"); break;
            case JsonValueKind.True: b.Append("True"); break;
            case JsonValueKind.False: b.Append("False"); break;
            case JsonValueKind.Number: b.Append(value.GetRawText()); break;
            case JsonValueKind.String: AppendString(b, value.GetString()!); break;
            case JsonValueKind.Array:
                AppendSequence(b, "[", "]", value.EnumerateArray(), item => AppendJson(b, item));
                break;
            case JsonValueKind.Object:
                AppendSequence(b, "{", "}", value.EnumerateObject(), property =>
                {
                    AppendString(b, property.Name);
                    b.Append(": ");
                    AppendJson(b, property.Value);
                });
                break;
            default: b.Append(value.GetRawText()); break;
        }
    }

    private static void AppendTagged(StringBuilder b, JsonElement tagged)
    {
        if (tagged.ValueKind != JsonValueKind.Object)
        {
            b.Append(tagged.GetRawText());
            return;
        }
        using JsonElement.ObjectEnumerator tags = tagged.EnumerateObject();
        if (!tags.MoveNext())
        {
            b.Append("{}");
            return;
        }
        JsonProperty tag = tags.Current;
        JsonElement v = tag.Value;
        switch (tag.Name)
        {
            case "z": b.Append("None"); break;
            case "b": b.Append(v.ValueKind == JsonValueKind.True ? "True" : "False"); break;
            case "i" or "f": b.Append(v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()); break;
            case "s": AppendString(b, v.GetString() ?? ""); break;
            case "l": AppendSequence(b, "[", "]", v.EnumerateArray(), item => AppendTagged(b, item)); break;
            case "t":
                AppendSequence(b, "(", v.GetArrayLength() == 1 ? ",)" : ")", v.EnumerateArray(), item => AppendTagged(b, item));
                break;
            case "set":
                if (v.GetArrayLength() == 0)
                {
                    b.Append("set()");
                }
                else
                {
                    AppendSequence(b, "{", "}", v.EnumerateArray(), item => AppendTagged(b, item));
                }
                break;
            case "d":
                AppendSequence(b, "{", "}", v.EnumerateArray(), pair =>
                {
                    AppendTagged(b, pair[0]);
                    b.Append(": ");
                    AppendTagged(b, pair[1]);
                });
                break;
            default: b.Append(tagged.GetRawText()); break;
        }
    }

    private static void AppendSequence<T>(StringBuilder b, string open, string close, IEnumerable<T> items, Action<T> append)
    {
        b.Append(open);
        bool first = true;
        foreach (T item in items)
        {
            if (!first)
            {
                b.Append(", ");
            }
            first = false;
            append(item);
        }
        b.Append(close);
    }

    /// <summary>A str literal quoted as repr() quotes it (single quotes unless the text has ' and no ").</summary>
    public static string String(string text) => Build(b => AppendString(b, text));

    private static void AppendString(StringBuilder b, string text)
    {
        char quote = text.Contains('\'') && !text.Contains('"') ? '"' : '\'';
        b.Append(quote);
        foreach (char c in text)
        {
            switch (c)
            {
                case '\\': b.Append(@"\\"); break;
                case '\n': b.Append(@"\n"); break;
                case '\r': b.Append(@"\r"); break;
                case '\t': b.Append(@"\t"); break;
                default:
                    if (c == quote)
                    {
                        b.Append('\\').Append(c);
                    }
                    else if (c < ' ' || c == '\x7f')
                    {
                        b.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    }
                    else
                    {
                        b.Append(c);
                    }
                    break;
            }
        }
        b.Append(quote);
    }
}
