using static PfPpo.Tasks.PyMath;

namespace PfPpo.Tasks;

/// <summary><c>return a * x + b</c>.</summary>
internal sealed class LinearFamily() : TaskFamily("linear", difficulty: 1, wordings: 4)
{
    private static readonly IReadOnlyList<string> Names = ["scale_and_shift", "affine", "linear_map", "transform", "apply_rule", "compute"];
    private static readonly IReadOnlyList<string> Args = ["x", "n", "value", "num"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string x = random.Pick(Args);
        long a = random.Int(2, 9), b = random.NonZero(-9, 9);
        string plusB = b < 0 ? $"minus {-b}" : $"plus {b}";
        string description = wording switch
        {
            0 => $"Return {x} multiplied by {a}, {plusB}.",
            1 => $"Compute {a} * {x}{Plus(b)}.",
            2 => b < 0 ? $"Multiply {x} by {a}, then subtract {-b}." : $"Multiply {x} by {a}, then add {b}.",
            _ => $"Given an integer {x}, return {a} times {x} {plusB}.",
        };
        return new FunctionSpec(random.Pick(Names), [new(x, "int")], "int", description,
            [$"return {a} * {x}{Plus(b)}"],
            Cases(random, () => [random.Int(-20, 20)], [0L], [1L], [-1L], [100L]),
            args => a * (long)args[0]! + b);
    }
}

/// <summary><c>return a + b</c>, <c>a - b</c> or <c>a * b</c>.</summary>
internal sealed class BinaryOpFamily() : TaskFamily("binary_op", difficulty: 1, wordings: 3)
{
    private static readonly IReadOnlyList<string> Names = ["combine", "calculate", "apply_op", "compute", "evaluate"];
    private static readonly IReadOnlyList<(string, string)> Args = [("a", "b"), ("x", "y"), ("m", "n"), ("first", "second"), ("left", "right")];

    protected override FunctionSpec Create(Random random, int wording)
    {
        (string a, string b) = random.Pick(Args);
        int op = random.Next(3);
        string symbol = op switch { 0 => "+", 1 => "-", _ => "*" };
        string description = (op, wording) switch
        {
            (0, 0) => $"Return the sum of {a} and {b}.",
            (1, 0) => $"Return {a} minus {b}.",
            (_, 0) => $"Return the product of {a} and {b}.",
            (0, 1) => $"Add {a} and {b} and return the result.",
            (1, 1) => $"Subtract {b} from {a} and return the result.",
            (_, 1) => $"Multiply {a} by {b} and return the result.",
            _ => $"Compute {a} {symbol} {b} for two integers {a} and {b}.",
        };
        return new FunctionSpec(random.Pick(Names), [new(a, "int"), new(b, "int")], "int", description,
            [$"return {a} {symbol} {b}"],
            Cases(random, () => [random.Int(-20, 20), random.Int(-20, 20)], [0L, 0L], [-3L, 5L], [7L, -7L], [1L, 12L]),
            args =>
            {
                long left = (long)args[0]!, right = (long)args[1]!;
                return op switch { 0 => left + right, 1 => left - right, _ => left * right };
            });
    }
}

/// <summary><c>return x % k == 0</c>.</summary>
internal sealed class DivisibleFamily() : TaskFamily("divisible", difficulty: 1, wordings: 3)
{
    private static readonly IReadOnlyList<string> Names = ["is_divisible", "is_multiple", "divides_evenly", "check_multiple"];
    private static readonly IReadOnlyList<string> Args = ["x", "n", "number", "value"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string x = random.Pick(Args);
        long k = random.Int(2, 9);
        string description = wording switch
        {
            0 => $"Return True if {x} is divisible by {k}, otherwise False.",
            1 => $"Check whether {x} is a multiple of {k}.",
            _ => $"Return True when {k} divides {x} with no remainder.",
        };
        return new FunctionSpec(random.Pick(Names), [new(x, "int")], "bool", description,
            [$"return {x} % {k} == 0"],
            Cases(random, () => [random.Int(-50, 50)], [0L], [k], [k + 1], [-k], [k * 7]),
            args => (long)args[0]! % k == 0);
    }
}

/// <summary><c>return max(a, b)</c> or <c>min(a, b)</c>.</summary>
internal sealed class MinMaxTwoFamily() : TaskFamily("min_max_two", difficulty: 1, wordings: 3)
{
    private static readonly IReadOnlyList<(string, string)> Args = [("a", "b"), ("x", "y"), ("p", "q"), ("first", "second")];

    protected override FunctionSpec Create(Random random, int wording)
    {
        (string a, string b) = random.Pick(Args);
        bool larger = random.Next(2) == 0;
        string description = wording switch
        {
            0 => $"Return the {(larger ? "larger" : "smaller")} of {a} and {b}.",
            1 => $"Return whichever of {a} and {b} is {(larger ? "greater" : "less")}.",
            _ => $"Given two integers {a} and {b}, return the {(larger ? "maximum" : "minimum")}.",
        };
        IReadOnlyList<string> names = larger ? ["larger", "bigger_of", "max_of_two", "pick_max"] : ["smaller", "lesser_of", "min_of_two", "pick_min"];
        return new FunctionSpec(random.Pick(names), [new(a, "int"), new(b, "int")], "int", description,
            [$"return {(larger ? "max" : "min")}({a}, {b})"],
            Cases(random, () => [random.Int(-30, 30), random.Int(-30, 30)], [4L, 4L], [-2L, -9L], [0L, 1L]),
            args => larger ? Math.Max((long)args[0]!, (long)args[1]!) : Math.Min((long)args[0]!, (long)args[1]!));
    }
}

/// <summary>Digit sum, digit count, or occurrences of one digit of a non-negative integer.</summary>
internal sealed class DigitsFamily() : TaskFamily("digits", difficulty: 2, wordings: 3)
{
    private static readonly IReadOnlyList<string> Args = ["n", "number", "num", "value"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string n = random.Pick(Args);
        int variant = random.Next(3);
        char digit = (char)('0' + random.Next(10));
        (string description, string name, string body) = (variant, wording) switch
        {
            (0, 0) => ($"Return the sum of the decimal digits of {n}.", "digit_sum", $"return sum(int(d) for d in str({n}))"),
            (0, 1) => ($"Add together the digits of the non-negative integer {n}.", "sum_digits", $"return sum(int(d) for d in str({n}))"),
            (0, _) => ($"Given {n} >= 0, return the total of its digits.", "add_digits", $"return sum(int(d) for d in str({n}))"),
            (1, 0) => ($"Return how many decimal digits {n} has.", "digit_count", $"return len(str({n}))"),
            (1, 1) => ($"Count the digits of the non-negative integer {n}.", "count_digits", $"return len(str({n}))"),
            (1, _) => ($"Given {n} >= 0, return the length of its decimal representation.", "num_digits", $"return len(str({n}))"),
            (_, 0) => ($"Return how many times the digit {digit} appears in {n}.", "count_digit", $"return str({n}).count('{digit}')"),
            (_, 1) => ($"Count the occurrences of the digit {digit} in the non-negative integer {n}.", "digit_occurrences", $"return str({n}).count('{digit}')"),
            _ => ($"Given {n} >= 0, return the number of its digits equal to {digit}.", "digit_frequency", $"return str({n}).count('{digit}')"),
        };
        return new FunctionSpec(name, [new(n, "int")], "int", description, [body],
            Cases(random, () => [random.Int(0, random.Next(2) == 0 ? 999 : 9_999_999)], [0L], [7L], [(long)(digit - '0') * 11], [1_000_000L]),
            args =>
            {
                string text = ((long)args[0]!).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return variant switch
                {
                    0 => (long)text.Sum(c => c - '0'),
                    1 => (long)text.Length,
                    _ => (long)text.Count(c => c == digit),
                };
            });
    }
}

/// <summary>A loop over 1..n: sum of the multiples of k, sum of squares, or factorial.</summary>
internal sealed class RangeLoopFamily() : TaskFamily("range_loop", difficulty: 2, wordings: 3)
{
    private static readonly IReadOnlyList<string> Args = ["n", "limit", "count", "upto"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string n = random.Pick(Args);
        int variant = random.Next(3);
        long k = random.Int(2, 7);
        string description = (variant, wording) switch
        {
            (0, 0) => $"Return the sum of all multiples of {k} from 1 to {n} inclusive.",
            (0, 1) => $"Add up every number between 1 and {n} that is divisible by {k}.",
            (0, _) => $"Given a non-negative integer {n}, return the total of the multiples of {k} that are at most {n}.",
            (1, 0) => $"Return the sum of the squares of the integers from 1 to {n}.",
            (1, 1) => $"Add up i * i for every i from 1 to {n}.",
            (1, _) => $"Given a non-negative integer {n}, return 1*1 + 2*2 + ... + {n}*{n}.",
            (_, 0) => $"Return the product of the integers from 1 to {n} (1 when {n} is 0).",
            (_, 1) => $"Multiply together all integers from 1 up to {n}; return 1 if {n} is 0.",
            _ => $"Given a non-negative integer {n}, return {n} factorial.",
        };
        (string name, IReadOnlyList<string> body) = variant switch
        {
            0 => ("sum_multiples", (IReadOnlyList<string>)[
                "total = 0", $"for i in range(1, {n} + 1):", $"    if i % {k} == 0:", "        total += i", "return total"]),
            1 => ("sum_of_squares", ["total = 0", $"for i in range(1, {n} + 1):", "    total += i * i", "return total"]),
            _ => ("factorial", ["result = 1", $"for i in range(1, {n} + 1):", "    result *= i", "return result"]),
        };
        long max = variant == 2 ? 12 : 60;
        return new FunctionSpec(name, [new(n, "int")], "int", description, body,
            Cases(random, () => [random.Int(2, max)], [0L], [1L], [k], [max]),
            args =>
            {
                long limit = (long)args[0]!;
                long total = variant == 2 ? 1 : 0;
                for (long i = 1; i <= limit; i++)
                {
                    total = variant switch
                    {
                        0 => i % k == 0 ? total + i : total,
                        1 => total + i * i,
                        _ => total * i,
                    };
                }
                return total;
            });
    }
}
