using static PfPpo.Tasks.PyMath;

namespace PfPpo.Tasks;

/// <summary>sum, max, min or len of a list.</summary>
internal sealed class ListAggregateFamily() : TaskFamily("list_aggregate", difficulty: 1, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string xs = random.Pick(TaskRandom.ListNames);
        int variant = random.Next(4);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the sum of the numbers in {xs}.",
            (1, 0) => $"Return the largest number in {xs}.",
            (2, 0) => $"Return the smallest number in {xs}.",
            (_, 0) => $"Return how many numbers are in {xs}.",
            (0, 1) => $"Add up all elements of the list {xs}.",
            (1, 1) => $"Find the maximum of the non-empty list {xs}.",
            (2, 1) => $"Find the minimum of the non-empty list {xs}.",
            (_, 1) => $"Count the elements of the list {xs}.",
            (0, _) => $"Given a list of integers {xs}, return their total.",
            (1, _) => $"Given a non-empty list of integers {xs}, return the biggest one.",
            (2, _) => $"Given a non-empty list of integers {xs}, return the smallest one.",
            _ => $"Given a list of integers {xs}, return its length.",
        };
        (IReadOnlyList<string> names, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["total", "list_sum", "add_all"], $"return sum({xs})"),
            1 => (["largest", "list_max", "biggest"], $"return max({xs})"),
            2 => (["smallest", "list_min", "lowest"], $"return min({xs})"),
            _ => (["length", "count_items", "size"], $"return len({xs})"),
        };
        object?[][] edges = variant is 1 or 2 ? [[new long[] { 5 }], [new long[] { -3, -8, -1 }], [new long[] { 2, 2, 2 }]]
            : [[Array.Empty<long>()], [new long[] { 5 }], [new long[] { -3, 3 }]];
        return new FunctionSpec(random.Pick(names), [new(xs, "list[int]")], "int", description, [body],
            Cases(random, () => [random.Ints(2, 6, -20, 20)], edges),
            args =>
            {
                long[] items = (long[])args[0]!;
                return variant switch { 0 => items.Sum(), 1 => items.Max(), 2 => items.Min(), _ => (long)items.Length };
            });
    }
}

/// <summary>First or last element of a list; first or last k characters of a string.</summary>
internal sealed class IndexFamily() : TaskFamily("index", difficulty: 1, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        int variant = random.Next(4);
        long k = random.Int(2, 4);
        string a = variant < 2 ? random.Pick(TaskRandom.ListNames) : random.Pick((IReadOnlyList<string>)["s", "text", "word"]);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the first element of {a}.",
            (1, 0) => $"Return the last element of {a}.",
            (2, 0) => $"Return the first {k} characters of {a}.",
            (_, 0) => $"Return the last {k} characters of {a}.",
            (0, 1) => $"Given a non-empty list {a}, return the item at the front.",
            (1, 1) => $"Given a non-empty list {a}, return the item at the end.",
            (2, 1) => $"Return the prefix of {a} of length {k}, or all of {a} if it is shorter.",
            (_, 1) => $"Return the suffix of {a} of length {k}, or all of {a} if it is shorter.",
            (0, _) => $"Return the element at index 0 of {a}.",
            (1, _) => $"Return the element at index -1 of {a}, that is the final one.",
            (2, _) => $"Return {a} cut down to at most its first {k} characters.",
            _ => $"Return only the final {k} characters of {a} (all of it when it is shorter).",
        };
        (IReadOnlyList<string> names, string body) = variant switch
        {
            0 => ((IReadOnlyList<string>)["first", "head", "front"], $"return {a}[0]"),
            1 => (["last", "tail_item", "back"], $"return {a}[-1]"),
            2 => (["prefix", "take_first", "head_chars"], $"return {a}[:{k}]"),
            _ => (["suffix", "take_last", "tail_chars"], $"return {a}[-{k}:]"),
        };
        bool list = variant < 2;
        object?[][] edges = list ? [[new long[] { 7 }], [new long[] { 0, -1 }]] : [[""], ["a"], ["abcdef"]];
        return new FunctionSpec(random.Pick(names), [new(a, list ? "list[int]" : "str")], list ? "int" : "str", description, [body],
            Cases(random, list ? () => [random.Ints(1, 6, -20, 20)] : () => [random.Pick(TaskRandom.Words)], edges),
            args => variant switch
            {
                0 => ((long[])args[0]!)[0],
                1 => ((long[])args[0]!)[^1],
                2 => ((string)args[0]!)[..Math.Min((int)k, ((string)args[0]!).Length)],
                _ => ((string)args[0]!)[Math.Max(0, ((string)args[0]!).Length - (int)k)..],
            });
    }
}

/// <summary>A list comprehension that maps every element.</summary>
internal sealed class MapListFamily() : TaskFamily("map_list", difficulty: 2, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string xs = random.Pick(TaskRandom.ListNames);
        int variant = random.Next(4);
        long k = random.Int(2, 9);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return a new list with every element of {xs} multiplied by {k}.",
            (1, 0) => $"Return a new list with every element of {xs} increased by {k}.",
            (2, 0) => $"Return a new list with every element of {xs} squared.",
            (_, 0) => $"Return a new list with every element of {xs} replaced by its absolute value.",
            (0, 1) => $"Multiply each number in {xs} by {k} and return the results as a list.",
            (1, 1) => $"Add {k} to each number in {xs} and return the results as a list.",
            (2, 1) => $"Square each number in {xs} and return the results as a list.",
            (_, 1) => $"Take the absolute value of each number in {xs} and return the results as a list.",
            (0, _) => $"Given a list {xs}, return the list of x * {k} for each x in it.",
            (1, _) => $"Given a list {xs}, return the list of x + {k} for each x in it.",
            (2, _) => $"Given a list {xs}, return the list of x * x for each x in it.",
            _ => $"Given a list {xs}, return the list of abs(x) for each x in it.",
        };
        (IReadOnlyList<string> names, string expression) = variant switch
        {
            0 => ((IReadOnlyList<string>)["scale_all", "multiply_all", "times_each"], $"x * {k}"),
            1 => (["shift_all", "add_to_all", "increment_each"], $"x + {k}"),
            2 => (["square_all", "squares", "square_each"], "x * x"),
            _ => (["abs_all", "absolutes", "magnitudes"], "abs(x)"),
        };
        return new FunctionSpec(random.Pick(names), [new(xs, "list[int]")], "list[int]", description,
            [$"return [{expression} for x in {xs}]"],
            Cases(random, () => [random.Ints(2, 6, -10, 10)], [Array.Empty<long>()], [new long[] { 0 }], [new long[] { -4, 4 }]),
            args => ((long[])args[0]!).Select(x => variant switch { 0 => x * k, 1 => x + k, 2 => x * x, _ => Math.Abs(x) }).ToArray());
    }
}

/// <summary>A list comprehension that filters: even, odd, greater than t, less than t, divisible by k.</summary>
internal sealed class FilterListFamily() : TaskFamily("filter_list", difficulty: 2, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string xs = random.Pick(TaskRandom.ListNames);
        int variant = random.Next(5);
        long t = random.Int(-5, 10), k = random.Int(3, 5);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the even numbers of {xs}, in their original order.",
            (1, 0) => $"Return the odd numbers of {xs}, in their original order.",
            (2, 0) => $"Return the numbers of {xs} that are greater than {t}, in their original order.",
            (3, 0) => $"Return the numbers of {xs} that are less than {t}, in their original order.",
            (_, 0) => $"Return the numbers of {xs} that are divisible by {k}, in their original order.",
            (0, 1) => $"Keep only the even elements of {xs}.",
            (1, 1) => $"Keep only the odd elements of {xs}.",
            (2, 1) => $"Keep only the elements of {xs} that exceed {t}.",
            (3, 1) => $"Keep only the elements of {xs} that are below {t}.",
            (_, 1) => $"Keep only the multiples of {k} in {xs}.",
            (0, _) => $"Remove every odd number from {xs} and return what is left.",
            (1, _) => $"Remove every even number from {xs} and return what is left.",
            (2, _) => $"Remove every number that is at most {t} from {xs} and return what is left.",
            (3, _) => $"Remove every number that is at least {t} from {xs} and return what is left.",
            _ => $"Remove every number not divisible by {k} from {xs} and return what is left.",
        };
        (IReadOnlyList<string>, string, Func<long, bool>) choice = variant switch
        {
            0 => (["evens", "keep_even", "only_even"], "x % 2 == 0", x => Mod(x, 2) == 0),
            1 => (["odds", "keep_odd", "only_odd"], "x % 2 == 1", x => Mod(x, 2) == 1),
            2 => (["above", "greater_than", "keep_large"], $"x > {t}", x => x > t),
            3 => (["below", "less_than", "keep_small"], $"x < {t}", x => x < t),
            _ => (["multiples", "keep_multiples", "divisible_only"], $"x % {k} == 0", x => Mod(x, k) == 0),
        };
        (IReadOnlyList<string> names, string condition, Func<long, bool> keep) = choice;
        return new FunctionSpec(random.Pick(names), [new(xs, "list[int]")], "list[int]", description,
            [$"return [x for x in {xs} if {condition}]"],
            Cases(random, () => [random.Ints(3, 7, -10, 15)], [Array.Empty<long>()], [new long[] { t, t + 1, t - 1 }], [new long[] { -3, -2, 0 }]),
            args => ((long[])args[0]!).Where(keep).ToArray());
    }
}

/// <summary>A counting loop over a list.</summary>
internal sealed class CountIfFamily() : TaskFamily("count_if", difficulty: 2, wordings: 3)
{
    protected override FunctionSpec Create(Random random, int wording)
    {
        string xs = random.Pick(TaskRandom.ListNames);
        int variant = random.Next(4);
        long t = random.Int(-5, 10);
        string what = variant switch { 0 => $"greater than {t}", 1 => $"equal to {t}", 2 => "even", _ => "negative" };
        string description = wording switch
        {
            0 => $"Return how many numbers in {xs} are {what}.",
            1 => $"Count the elements of {xs} that are {what}.",
            _ => $"Given a list {xs}, return the number of its items that are {what}.",
        };
        (IReadOnlyList<string>, string, Func<long, bool>) choice = variant switch
        {
            0 => (["count_above", "count_greater", "num_above"], $"x > {t}", x => x > t),
            1 => (["count_equal", "count_value", "occurrences"], $"x == {t}", x => x == t),
            2 => (["count_even", "num_even", "even_count"], "x % 2 == 0", x => Mod(x, 2) == 0),
            _ => (["count_negative", "num_negative", "negatives"], "x < 0", x => x < 0),
        };
        (IReadOnlyList<string> names, string condition, Func<long, bool> counted) = choice;
        return new FunctionSpec(random.Pick(names), [new(xs, "list[int]")], "int", description,
            ["count = 0", $"for x in {xs}:", $"    if {condition}:", "        count += 1", "return count"],
            Cases(random, () => [random.Ints(3, 7, t - 6, t + 6)], [Array.Empty<long>()], [new long[] { t, t, t + 1 }], [new long[] { -1, 0, 1, 2 }]),
            args => (long)((long[])args[0]!).Count(counted));
    }
}
