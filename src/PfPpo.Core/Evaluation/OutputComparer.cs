using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace PfPpo.Evaluation;

/// <summary>Compares an expected JSON value with a type-tagged value returned from the sandbox, outside the
/// sandbox. Rules (docs/formats.md): JSON integers need a Python int (bool is not an int); JSON numbers with a
/// fraction or exponent accept a float or an int within tolerance; strings, booleans and null need exactly that
/// type; arrays accept a list or a tuple of matching elements; objects need a dict with the same string keys.</summary>
public static class OutputComparer
{
    /// <summary>Absolute and relative tolerance for floats: |a - e| &lt;= max(Tolerance, Tolerance * max(|a|, |e|)).</summary>
    public const double Tolerance = 1e-6;

    /// <summary>True when <paramref name="actual"/> (tagged, as produced by the worker) matches <paramref name="expected"/>.</summary>
    public static bool Matches(JsonElement expected, JsonElement actual) => Matches(expected, actual, 0);

    private static bool Matches(JsonElement expected, JsonElement actual, int depth)
    {
        if (depth > 200 || actual.ValueKind != JsonValueKind.Object) return false;
        using var tags = actual.EnumerateObject();
        if (!tags.MoveNext()) return false;
        var tag = tags.Current;
        if (tags.MoveNext()) return false; // exactly one tag
        string kind = tag.Name;
        var value = tag.Value;
        switch (expected.ValueKind)
        {
            case JsonValueKind.Null:
                return kind == "z";
            case JsonValueKind.True:
            case JsonValueKind.False:
                return kind == "b" && value.ValueKind is JsonValueKind.True or JsonValueKind.False
                    && value.GetBoolean() == expected.GetBoolean();
            case JsonValueKind.String:
                return kind == "s" && value.ValueKind == JsonValueKind.String && value.GetString() == expected.GetString();
            case JsonValueKind.Number:
                return NumberMatches(expected.GetRawText(), kind, value);
            case JsonValueKind.Array:
                if (kind is not ("l" or "t") || value.ValueKind != JsonValueKind.Array) return false;
                if (value.GetArrayLength() != expected.GetArrayLength()) return false;
                using (var e = expected.EnumerateArray().GetEnumerator())
                using (var a = value.EnumerateArray().GetEnumerator())
                {
                    while (e.MoveNext() && a.MoveNext())
                    {
                        if (!Matches(e.Current, a.Current, depth + 1)) return false;
                    }
                }
                return true;
            case JsonValueKind.Object:
                if (kind != "d" || value.ValueKind != JsonValueKind.Array) return false;
                var expectedProps = expected.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
                if (value.GetArrayLength() != expectedProps.Count) return false;
                foreach (var pair in value.EnumerateArray())
                {
                    if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2) return false;
                    var key = pair[0];
                    if (key.ValueKind != JsonValueKind.Object || !key.TryGetProperty("s", out var keyText) || keyText.ValueKind != JsonValueKind.String)
                        return false;
                    if (!expectedProps.Remove(keyText.GetString()!, out var expectedValue)) return false;
                    if (!Matches(expectedValue, pair[1], depth + 1)) return false;
                }
                return expectedProps.Count == 0;
            default:
                return false;
        }
    }

    private static bool NumberMatches(string expectedText, string kind, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String) return false;
        string text = value.GetString()!;
        bool expectedIsInteger = expectedText.IndexOfAny(['.', 'e', 'E']) < 0;
        if (expectedIsInteger)
        {
            return kind == "i"
                && BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var a)
                && a == BigInteger.Parse(expectedText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        if (kind is not ("f" or "i")) return false;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double actual) || !double.IsFinite(actual)) return false;
        double wanted = double.Parse(expectedText, NumberStyles.Float, CultureInfo.InvariantCulture);
        return Math.Abs(actual - wanted) <= Math.Max(Tolerance, Tolerance * Math.Max(Math.Abs(actual), Math.Abs(wanted)));
    }
}
