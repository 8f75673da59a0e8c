using static PfPpo.Tasks.PyMath;

namespace PfPpo.Tasks;

/// <summary>Two steps on a list, then a sum: sum of the evens, of the odds, of those above t, of the squares.</summary>
internal sealed class FilterSumFamily() : TaskFamily("filter_sum", difficulty: 3, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string xs = random.Pick(TaskRandom.ListNames);
        int variant = random.Next(4);
        long t = random.Int(-3, 8);
        string which = variant switch { 0 => "the even numbers", 1 => "the odd numbers", 2 => $"the numbers greater than {t}", _ => "the squares of the numbers" };
        string description = wording switch
        {
            0 => $"Return the sum of {which} in {xs}.",
            1 => variant == 3 ? $"Square every element of {xs} and add the squares up." : $"Add up {which} in {xs}; an empty selection sums to 0.",
            _ => $"Given a list {xs}, return the total of {which} in it.",
        };
        (IReadOnlyList<string>, string, Func<long[], long>) choice = variant switch
        {
            0 => (["sum_even", "even_total", "add_evens"], $"x for x in {xs} if x % 2 == 0", items => items.Where(x => Mod(x, 2) == 0).Sum()),
            1 => (["sum_odd", "odd_total", "add_odds"], $"x for x in {xs} if x % 2 == 1", items => items.Where(x => Mod(x, 2) == 1).Sum()),
            2 => (["sum_above", "total_above", "add_large"], $"x for x in {xs} if x > {t}", items => items.Where(x => x > t).Sum()),
            _ => (["sum_squares", "square_total", "add_squares"], $"x * x for x in {xs}", items => items.Sum(x => x * x)),
        };
        (IReadOnlyList<string> names, string generator, Func<long[], long> evaluate) = choice;
        return new FunctionSpec(random.Pick(names), [new(xs, "list[int]")], "int", description,
            [$"return sum({generator})"],
            Cases(random, () => [random.Ints(3, 7, -10, 15)], [Array.Empty<long>()], [new long[] { t, t + 1 }], [new long[] { -3, -2, 5 }]),
            args => evaluate((long[])args[0]!));
    }
}

/// <summary>Filter then map in one comprehension: squares of the evens, k times the positives, k added to those below t.</summary>
internal sealed class FilterMapFamily() : TaskFamily("filter_map", difficulty: 3, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string xs = random.Pick(TaskRandom.ListNames);
        int variant = random.Next(3);
        long k = random.Int(2, 5), t = random.Int(0, 8);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the squares of the even numbers in {xs}, in order.",
            (1, 0) => $"Return the positive numbers of {xs}, each multiplied by {k}, in order.",
            (_, 0) => $"Return the numbers of {xs} that are less than {t}, each increased by {k}, in order.",
            (0, 1) => $"Keep the even elements of {xs} and square them.",
            (1, 1) => $"Keep the elements of {xs} that are above zero and multiply each by {k}.",
            (_, 1) => $"Keep the elements of {xs} that are below {t} and add {k} to each.",
            (0, _) => $"Given a list {xs}, return [x * x for each even x in it].",
            (1, _) => $"Given a list {xs}, return [x * {k} for each x > 0 in it].",
            _ => $"Given a list {xs}, return [x + {k} for each x < {t} in it].",
        };
        (IReadOnlyList<string>, string, Func<long[], long[]>) choice = variant switch
        {
            0 => (["even_squares", "square_evens", "evens_squared"], $"return [x * x for x in {xs} if x % 2 == 0]",
                items => items.Where(x => Mod(x, 2) == 0).Select(x => x * x).ToArray()),
            1 => (["scale_positive", "positive_times", "boost_positive"], $"return [x * {k} for x in {xs} if x > 0]",
                items => items.Where(x => x > 0).Select(x => x * k).ToArray()),
            _ => (["shift_small", "raise_low", "bump_below"], $"return [x + {k} for x in {xs} if x < {t}]",
                items => items.Where(x => x < t).Select(x => x + k).ToArray()),
        };
        (IReadOnlyList<string> names, string body, Func<long[], long[]> evaluate) = choice;
        return new FunctionSpec(random.Pick(names), [new(xs, "list[int]")], "list[int]", description, [body],
            Cases(random, () => [random.Ints(3, 7, -8, 12)], [Array.Empty<long>()], [new long[] { 0, t, -1 }], [new long[] { 2, 4, 6 }]),
            args => evaluate((long[])args[0]!));
    }
}

/// <summary>Two string methods chained.</summary>
internal sealed class StringComposeFamily() : TaskFamily("string_compose", difficulty: 3, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string s = random.Pick((IReadOnlyList<string>)["s", "text", "phrase", "line"]);
        int variant = random.Next(4);
        long k = random.Int(2, 4);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return {s} reversed and converted to upper case.",
            (1, 0) => $"Return {s} with all spaces removed, in lower case.",
            (2, 0) => $"Return the first {k} characters of {s}, in upper case.",
            (_, 0) => $"Return the words of {s} sorted alphabetically and joined by single spaces.",
            (0, 1) => $"Reverse {s}, then upper-case every letter.",
            (1, 1) => $"Delete the spaces from {s}, then lower-case every letter.",
            (2, 1) => $"Take the first {k} characters of {s} and upper-case them.",
            (_, 1) => $"Split {s} into words, sort them, and join them back with spaces.",
            (0, _) => $"Given a string {s}, return its upper-case version read backwards.",
            (1, _) => $"Given a string {s}, return it lower-cased and without any ' ' characters.",
            (2, _) => $"Given a string {s}, return its prefix of length {k} (or all of it if shorter) in capitals.",
            _ => $"Given a sentence {s}, return the same words in alphabetical order, separated by one space.",
        };
        (IReadOnlyList<string> names, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["shout_backwards", "reverse_upper", "mirror_caps"], $"return {s}[::-1].upper()"),
            1 => (["squash", "compact_lower", "normalize"], $"return {s}.replace(' ', '').lower()"),
            2 => (["short_caps", "upper_prefix", "head_upper"], $"return {s}[:{k}].upper()"),
            _ => (["sort_words", "alphabetize", "ordered_words"], $"return ' '.join(sorted({s}.split()))"),
        };
        return new FunctionSpec(random.Pick(names), [new(s, "str")], "str", description, [body],
            Cases(random, () => [variant == 3 ? random.Sentence(2, 5) : random.Chars(2, 9, "abcdeFGHij XYz")], [""], ["a"], ["Ab Cd"]),
            args =>
            {
                string text = (string)args[0]!;
                return variant switch
                {
                    0 => new string(text.Reverse().ToArray()).ToUpperInvariant(),
                    1 => text.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant(),
                    2 => text[..Math.Min((int)k, text.Length)].ToUpperInvariant(),
                    _ => string.Join(' ', text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)),
                };
            });
    }
}

/// <summary>Sort, then select: the k smallest, the k largest, or the range max - min.</summary>
internal sealed class SortSelectFamily() : TaskFamily("sort_select", difficulty: 3, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string xs = random.Pick(TaskRandom.ListNames);
        int variant = random.Next(3);
        long k = random.Int(2, 3);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the {k} smallest numbers of {xs} in ascending order (fewer if {xs} is shorter).",
            (1, 0) => $"Return the {k} largest numbers of {xs} in descending order (fewer if {xs} is shorter).",
            (_, 0) => $"Return the difference between the largest and the smallest number in {xs}.",
            (0, 1) => $"Sort {xs} in ascending order and keep the first {k} elements.",
            (1, 1) => $"Sort {xs} from largest to smallest and keep the first {k} elements.",
            (_, 1) => $"Compute max minus min of the non-empty list {xs}.",
            (0, _) => $"Given a list {xs}, return sorted({xs}) cut to its first {k} items.",
            (1, _) => $"Given a list {xs}, return its top {k} values, biggest first.",
            _ => $"Given a non-empty list {xs}, return how far apart its extreme values are.",
        };
        (IReadOnlyList<string> names, string returnType, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["smallest_k", "bottom_values", "lowest_few"], "list[int]", $"return sorted({xs})[:{k}]"),
            1 => (["largest_k", "top_values", "highest_few"], "list[int]", $"return sorted({xs}, reverse=True)[:{k}]"),
            _ => (["spread", "value_range", "max_gap"], "int", $"return max({xs}) - min({xs})"),
        };
        object?[][] edges = variant == 2
            ? [[new long[] { 4 }], [new long[] { -5, 5 }], [new long[] { 3, 3, 3 }]]
            : [[Array.Empty<long>()], [new long[] { 4 }], [new long[] { 3, 3, 3, 1 }]];
        return new FunctionSpec(random.Pick(names), [new(xs, "list[int]")], returnType, description, [body],
            Cases(random, () => [random.Ints(3, 7, -20, 20)], edges),
            args =>
            {
                long[] items = (long[])args[0]!;
                return variant switch
                {
                    0 => items.Order().Take((int)k).ToArray(),
                    1 => items.OrderDescending().Take((int)k).ToArray(),
                    _ => (object)(items.Max() - items.Min()),
                };
            });
    }
}

/// <summary>Walks over neighbours: running totals, consecutive differences, adjacent equal pairs.</summary>
internal sealed class SequenceFamily() : TaskFamily("sequence", difficulty: 3, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string xs = random.Pick(TaskRandom.ListNames);
        int variant = random.Next(3);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the running totals of {xs}: element i is the sum of the first i + 1 numbers.",
            (1, 0) => $"Return the differences between consecutive numbers of {xs} (each element minus the one before it).",
            (_, 0) => $"Return how many neighbouring pairs in {xs} hold equal numbers.",
            (0, 1) => $"Compute the prefix sums of the list {xs}.",
            (1, 1) => $"List {xs}[i + 1] - {xs}[i] for every pair of neighbours in {xs}.",
            (_, 1) => $"Count the positions i where {xs}[i] equals {xs}[i + 1].",
            (0, _) => $"Given a list {xs}, return a list of the same length whose element i is {xs}[0] + ... + {xs}[i].",
            (1, _) => $"Given a list {xs}, return the step from each element to the next, as a list one shorter.",
            _ => $"Given a list {xs}, return the number of times an element is immediately followed by the same value.",
        };
        (IReadOnlyList<string> names, string returnType, IReadOnlyList<string> body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["running_total", "prefix_sums", "cumulative"], "list[int]",
                (IReadOnlyList<string>)["result = []", "total = 0", $"for x in {xs}:", "    total += x", "    result.append(total)", "return result"]),
            1 => (["differences", "steps", "deltas"], "list[int]", [$"return [{xs}[i + 1] - {xs}[i] for i in range(len({xs}) - 1)]"]),
            _ => (["count_repeats", "equal_neighbours", "adjacent_pairs"], "int", [$"return sum(1 for i in range(len({xs}) - 1) if {xs}[i] == {xs}[i + 1])"]),
        };
        Func<object?[]> draw = variant == 2 ? () => [random.Ints(3, 8, 0, 3)] : () => [random.Ints(3, 6, -10, 10)];
        return new FunctionSpec(random.Pick(names), [new(xs, "list[int]")], returnType, description, body,
            Cases(random, draw, [Array.Empty<long>()], [new long[] { 5 }], [new long[] { 2, 2, 2 }]),
            args =>
            {
                long[] items = (long[])args[0]!;
                switch (variant)
                {
                    case 0:
                        var totals = new long[items.Length];
                        long total = 0;
                        for (int i = 0; i < items.Length; i++)
                        {
                            totals[i] = total += items[i];
                        }
                        return totals;
                    case 1:
                        return items.Zip(items.Skip(1), (a, b) => b - a).ToArray();
                    default:
                        return (long)items.Zip(items.Skip(1)).Count(p => p.First == p.Second);
                }
            });
    }
}
