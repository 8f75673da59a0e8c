using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace PfPpo.Scoring;

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
        if (depth > 200 || actual.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        using var tags = actual.EnumerateObject();
        if (!tags.MoveNext())
        {
            return false;
        }

        var tag = tags.Current;
        if (tags.MoveNext())
        {
            return false; // exactly one tag
        }

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
                if (kind is not ("l" or "t") || value.ValueKind != JsonValueKind.Array)
                {
                    return false;
                }

                if (value.GetArrayLength() != expected.GetArrayLength())
                {
                    return false;
                }

                using (var e = expected.EnumerateArray().GetEnumerator())
                using (var a = value.EnumerateArray().GetEnumerator())
                {
                    while (e.MoveNext() && a.MoveNext())
                    {
                        if (!Matches(e.Current, a.Current, depth + 1))
                        {
                            return false;
                        }
                    }
                }
                return true;
            case JsonValueKind.Object:
                if (kind != "d" || value.ValueKind != JsonValueKind.Array)
                {
                    return false;
                }

                var expectedProps = expected.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
                if (value.GetArrayLength() != expectedProps.Count)
                {
                    return false;
                }

                foreach (var pair in value.EnumerateArray())
                {
                    if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
                    {
                        return false;
                    }

                    var key = pair[0];
                    if (key.ValueKind != JsonValueKind.Object || !key.TryGetProperty("s", out var keyText) || keyText.ValueKind != JsonValueKind.String)
                    {
                        return false;
                    }

                    if (!expectedProps.Remove(keyText.GetString()!, out var expectedValue))
                    {
                        return false;
                    }

                    if (!Matches(expectedValue, pair[1], depth + 1))
                    {
                        return false;
                    }
                }
                return expectedProps.Count == 0;
            default:
                return false;
        }
    }

    /// <summary>Compares two tagged values (EvalPlus: the candidate's against the reference's), as Python's
    /// <c>==</c> would on exact builtin types, except that floats (and an int against a float) match within
    /// <paramref name="atol"/> (evalplus's default of 1e-6 when 0). Sets and dict keys compare regardless of order.</summary>
    public static bool MatchesTagged(JsonElement expected, JsonElement actual, double atol) =>
        TaggedMatches(expected, actual, atol > 0 ? atol : Tolerance, 0);

    private static bool TaggedMatches(JsonElement expected, JsonElement actual, double atol, int depth)
    {
        if (depth > 200 || !Single(expected, out string ek, out var ev) || !Single(actual, out string ak, out var av))
        {
            return false;
        }

        if (ek is "i" or "f" && ak is "i" or "f")
        {
            if (ek == "i" && ak == "i")
            {
                return ev.GetString() == av.GetString();
            }

            if (!TryNumber(ev, out double e) || !TryNumber(av, out double a))
            {
                return false;
            }

            if (double.IsNaN(e) || double.IsNaN(a))
            {
                return double.IsNaN(e) && double.IsNaN(a);
            }

            return e == a || Math.Abs(e - a) <= atol;
        }
        if (ek != ak)
        {
            return false;
        }

        switch (ek)
        {
            case "z":
                return true;
            case "b":
            case "s":
                return ev.GetRawText() == av.GetRawText();
            case "l":
            case "t":
                if (ev.GetArrayLength() != av.GetArrayLength())
                {
                    return false;
                }

                for (int i = 0; i < ev.GetArrayLength(); i++)
                {
                    if (!TaggedMatches(ev[i], av[i], atol, depth + 1))
                    {
                        return false;
                    }
                }
                return true;
            case "d":
            {
                // Keys must be equal exactly (as Python hashes them); values compare recursively.
                if (ev.GetArrayLength() != av.GetArrayLength())
                    {
                        return false;
                    }

                    var actualByKey = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var pair in av.EnumerateArray())
                    {
                        actualByKey[pair[0].GetRawText()] = pair[1];
                    }

                    foreach (var pair in ev.EnumerateArray())
                {
                    if (!actualByKey.Remove(pair[0].GetRawText(), out var value) || !TaggedMatches(pair[1], value, atol, depth + 1))
                        {
                            return false;
                        }
                    }
                return actualByKey.Count == 0;
            }
            case "set":
            {
                // Unordered: exact matches first, then tolerance matches among what is left.
                if (ev.GetArrayLength() != av.GetArrayLength())
                    {
                        return false;
                    }

                    var left = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
                foreach (var item in av.EnumerateArray())
                {
                    string key = item.GetRawText();
                    if (!left.TryGetValue(key, out var list))
                        {
                            left[key] = list = [];
                        }

                        list.Add(item);
                }
                var unmatched = new List<JsonElement>();
                foreach (var item in ev.EnumerateArray())
                {
                    if (left.TryGetValue(item.GetRawText(), out var list) && list.Count > 0)
                        {
                            list.RemoveAt(list.Count - 1);
                        }
                        else
                        {
                            unmatched.Add(item);
                        }
                    }
                var rest = left.Values.SelectMany(l => l).ToList();
                foreach (var item in unmatched)
                {
                    int hit = rest.FindIndex(candidate => TaggedMatches(item, candidate, atol, depth + 1));
                    if (hit < 0)
                        {
                            return false;
                        }

                        rest.RemoveAt(hit);
                }
                return true;
            }
            default:
                return false;
        }
    }

    private static bool Single(JsonElement tagged, out string kind, out JsonElement value)
    {
        kind = "";
        value = default;
        if (tagged.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        using var e = tagged.EnumerateObject();
        if (!e.MoveNext())
        {
            return false;
        }

        (kind, value) = (e.Current.Name, e.Current.Value);
        if (e.MoveNext())
        {
            return false;
        }

        return kind is "z" || (kind is "b" && value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            || (kind is "i" or "f" or "s" && value.ValueKind == JsonValueKind.String)
            || (kind is "l" or "t" or "set" && value.ValueKind == JsonValueKind.Array)
            || (kind is "d" && value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(p => p.ValueKind == JsonValueKind.Array && p.GetArrayLength() == 2));
    }

    private static bool TryNumber(JsonElement text, out double value)
    {
        string s = text.GetString()!;
        value = s switch { "inf" => double.PositiveInfinity, "-inf" => double.NegativeInfinity, "nan" => double.NaN, _ => 0 };
        return s is "inf" or "-inf" or "nan" || double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static bool NumberMatches(string expectedText, string kind, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        string text = value.GetString()!;
        bool expectedIsInteger = expectedText.IndexOfAny(['.', 'e', 'E']) < 0;
        if (expectedIsInteger)
        {
            return kind == "i"
                && BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var a)
                && a == BigInteger.Parse(expectedText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        if (kind is not ("f" or "i"))
        {
            return false;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double actual) || !double.IsFinite(actual))
        {
            return false;
        }

        double wanted = double.Parse(expectedText, NumberStyles.Float, CultureInfo.InvariantCulture);
        return Math.Abs(actual - wanted) <= Math.Max(Tolerance, Tolerance * Math.Max(Math.Abs(actual), Math.Abs(wanted)));
    }
}
