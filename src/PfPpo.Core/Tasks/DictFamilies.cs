
namespace PfPpo.Tasks;

/// <summary>Look-ups on a dict: get with a default, membership, sum of values.</summary>
internal sealed class DictLookupFamily() : TaskFamily("dict_lookup", difficulty: 2, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string d = random.Pick(TaskRandom.DictNames);
        string key = random.Pick((IReadOnlyList<string>)["key", "name", "item"]);
        int variant = random.Next(3);
        long fallback = random.Int(-1, 5);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the value stored under {key} in {d}, or {fallback} if {key} is missing.",
            (1, 0) => $"Return True if {key} is a key of {d}.",
            (_, 0) => $"Return the sum of all values in {d}.",
            (0, 1) => $"Look up {key} in the dictionary {d}; when it is absent return {fallback}.",
            (1, 1) => $"Check whether the dictionary {d} has the key {key}.",
            (_, 1) => $"Add up the values of the dictionary {d}.",
            (0, _) => $"Given a dict {d} and a key {key}, return {d}[{key}] if present, else {fallback}.",
            (1, _) => $"Given a dict {d} and a key {key}, return whether {key} appears among its keys.",
            _ => $"Given a dict {d} mapping names to integers, return the total of its values.",
        };
        bool withKey = variant < 2;
        IReadOnlyList<Parameter> parameters = withKey ? [new(d, "dict[str, int]"), new(key, "str")] : [new(d, "dict[str, int]")];
        (IReadOnlyList<string> names, string returnType, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["lookup", "get_value", "fetch"], "int", $"return {d}.get({key}, {fallback})"),
            1 => (["has_key", "contains_key", "is_present"], "bool", $"return {key} in {d}"),
            _ => (["total_value", "sum_values", "value_total"], "int", $"return sum({d}.values())"),
        };
        Func<object?[]> draw = withKey
            ? () =>
            {
                var dict = random.Dict(1, 4, 0, 20);
                return [dict, random.Next(2) == 0 ? dict.GetAt(random.Next(dict.Count)).Key : random.Pick(TaskRandom.Words)];
            }
            : () => [random.Dict(1, 4, -5, 20)];
        object?[][] edges = withKey
            ? [[new OrderedDictionary<string, long>(), "a"], [new OrderedDictionary<string, long> { ["a"] = 0 }, "a"], [new OrderedDictionary<string, long> { ["b"] = 3 }, "a"]]
            : [[new OrderedDictionary<string, long>()], [new OrderedDictionary<string, long> { ["a"] = 0 }], [new OrderedDictionary<string, long> { ["x"] = -2, ["y"] = 2 }]];
        return new FunctionSpec(random.Pick(names), parameters, returnType, description, [body],
            Cases(random, draw, edges),
            args =>
            {
                var dict = (OrderedDictionary<string, long>)args[0]!;
                return variant switch
                {
                    0 => dict.TryGetValue((string)args[1]!, out long value) ? value : fallback,
                    1 => dict.ContainsKey((string)args[1]!),
                    _ => (object)dict.Values.Sum(),
                };
            });
    }
}

/// <summary>Build a dict of counts: characters, words, or first letters.</summary>
internal sealed class DictCountFamily() : TaskFamily("dict_count", difficulty: 3, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string s = random.Pick((IReadOnlyList<string>)["s", "text", "sentence"]);
        int variant = random.Next(3);
        string unit = variant switch { 0 => "character", 1 => "word", _ => "first letter of a word" };
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return a dict mapping each character of {s} to the number of times it occurs.",
            (1, 0) => $"Return a dict mapping each word of {s} to the number of times it occurs.",
            (_, 0) => $"Return a dict mapping each first letter of the words in {s} to how many words start with it.",
            (_, 1) => $"Count how often each {unit} appears in {s} and return the counts as a dict.",
            _ => $"Given a string {s}, build a frequency table (dict) of its {unit}s." + (variant == 0 ? "" : " Words are separated by spaces."),
        };
        (IReadOnlyList<string> names, string loop, string key) = variant switch
        {
            0 => ((IReadOnlyList<string>)["char_counts", "letter_frequency", "count_chars"], $"for ch in {s}:", "ch"),
            1 => (["word_counts", "word_frequency", "count_words"], $"for w in {s}.split():", "w"),
            _ => (["initial_counts", "first_letters", "count_initials"], $"for w in {s}.split():", "w[0]"),
        };
        Func<object?[]> draw = variant == 0 ? () => [random.Chars(1, 8, "aabbcde")] : () => [random.Sentence(2, 6)];
        return new FunctionSpec(random.Pick(names), [new(s, "str")], "dict[str, int]", description,
            ["counts = {}", loop, $"    counts[{key}] = counts.get({key}, 0) + 1", "return counts"],
            Cases(random, draw, [""], ["a"], ["the cat the dog"]),
            args =>
            {
                string text = (string)args[0]!;
                IEnumerable<string> keys = variant switch
                {
                    0 => text.Select(c => c.ToString()),
                    1 => text.Split(' ', StringSplitOptions.RemoveEmptyEntries),
                    _ => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => w[..1]),
                };
                var counts = new OrderedDictionary<string, long>(StringComparer.Ordinal);
                foreach (string k in keys)
                {
                    counts[k] = counts.GetValueOrDefault(k) + 1;
                }
                return counts;
            });
    }
}

/// <summary>Queries over a dict's items: sorted keys above a threshold, key of the largest value, scaled values.</summary>
internal sealed class DictQueryFamily() : TaskFamily("dict_query", difficulty: 3, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string d = random.Pick(TaskRandom.DictNames);
        int variant = random.Next(3);
        long t = random.Int(0, 10), m = random.Int(2, 5);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the keys of {d} whose value is greater than {t}, sorted alphabetically.",
            (1, 0) => $"Return the key of {d} with the largest value; on a tie, the one that comes first in {d}.",
            (_, 0) => $"Return a new dict with the same keys as {d} and every value multiplied by {m}.",
            (0, 1) => $"List, in alphabetical order, the keys of the dictionary {d} that map to a value above {t}.",
            (1, 1) => $"Find the key whose value is the maximum in the non-empty dictionary {d} (the earliest key wins ties).",
            (_, 1) => $"Multiply each value of the dictionary {d} by {m} and return the resulting dict.",
            (0, _) => $"Given a dict {d}, return sorted(list of keys k with {d}[k] > {t}).",
            (1, _) => $"Given a non-empty dict {d}, return the first key that has the highest value.",
            _ => $"Given a dict {d}, return {{k: v * {m}}} for every item k, v of {d}.",
        };
        (IReadOnlyList<string> names, string returnType, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["keys_above", "large_keys", "select_keys"], "list[str]", $"return sorted(k for k in {d} if {d}[k] > {t})"),
            1 => (["best_key", "argmax_key", "top_key"], "str", $"return max({d}, key={d}.get)"),
            _ => (["scale_values", "multiply_values", "scaled"], "dict[str, int]", $"return {{k: v * {m} for k, v in {d}.items()}}"),
        };
        object?[][] edges = variant == 1
            ? [[new OrderedDictionary<string, long> { ["a"] = 1 }], [new OrderedDictionary<string, long> { ["b"] = 4, ["a"] = 4 }]]
            : [[new OrderedDictionary<string, long>()], [new OrderedDictionary<string, long> { ["b"] = t, ["a"] = t + 1 }]];
        return new FunctionSpec(random.Pick(names), [new(d, "dict[str, int]")], returnType, description, [body],
            Cases(random, () => [random.Dict(2, 5, 0, 15)], edges),
            args =>
            {
                var dict = (OrderedDictionary<string, long>)args[0]!;
                switch (variant)
                {
                    case 0:
                        return dict.Where(p => p.Value > t).Select(p => p.Key).Order(StringComparer.Ordinal).ToArray();
                    case 1:
                        return dict.Aggregate((best, p) => p.Value > best.Value ? p : best).Key;
                    default:
                        var scaled = new OrderedDictionary<string, long>(StringComparer.Ordinal);
                        foreach ((string k, long v) in dict)
                        {
                            scaled[k] = v * m;
                        }
                        return scaled;
                }
            });
    }
}
