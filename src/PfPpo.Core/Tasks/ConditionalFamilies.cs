using static PfPpo.Tasks.PyMath;

namespace PfPpo.Tasks;

/// <summary><c>if x &gt; t: return A; return B</c> with a comparison of &gt;, &gt;= or &lt;.</summary>
internal sealed class ThresholdFamily() : TaskFamily("threshold", difficulty: 2, wordings: 3)
{
    private static readonly IReadOnlyList<string> Names = ["classify", "label", "rate", "grade", "categorize"];
    private static readonly IReadOnlyList<string> Args = ["x", "score", "value", "level", "temp"];
    private static readonly IReadOnlyList<(string, string)> Labels = [("high", "low"), ("big", "small"), ("hot", "cold"), ("pass", "fail"), ("yes", "no")];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string x = random.Pick(Args);
        (string yes, string no) = random.Pick(Labels);
        long t = random.Int(-10, 50);
        int comparison = random.Next(3);
        string op = comparison switch { 0 => ">", 1 => ">=", _ => "<" };
        string description = (comparison, wording) switch
        {
            (0, 0) => $"Return '{yes}' if {x} is greater than {t}, otherwise return '{no}'.",
            (1, 0) => $"Return '{yes}' if {x} is at least {t}, otherwise return '{no}'.",
            (_, 0) => $"Return '{yes}' if {x} is less than {t}, otherwise return '{no}'.",
            (0, 1) => $"Classify {x}: '{yes}' when it is above {t}, else '{no}'.",
            (1, 1) => $"Classify {x}: '{yes}' when it is {t} or more, else '{no}'.",
            (_, 1) => $"Classify {x}: '{yes}' when it is below {t}, else '{no}'.",
            _ => $"If {x} {op} {t}, return '{yes}'; otherwise return '{no}'.",
        };
        return new FunctionSpec(random.Pick(Names), [new(x, "int")], "str", description,
            [$"if {x} {op} {t}:", $"    return {Lit(yes)}", $"return {Lit(no)}"],
            Cases(random, () => [random.Int(t - 20, t + 20)], [t], [t + 1], [t - 1]),
            args =>
            {
                long value = (long)args[0]!;
                bool holds = comparison switch { 0 => value > t, 1 => value >= t, _ => value < t };
                return holds ? yes : no;
            });
    }
}

/// <summary>Three-way sign: positive / negative / zero, as words or as 1 / -1 / 0.</summary>
internal sealed class SignFamily() : TaskFamily("sign", difficulty: 2, wordings: 3)
{
    private static readonly IReadOnlyList<string> Names = ["sign", "sign_of", "describe_sign", "polarity"];
    private static readonly IReadOnlyList<string> Args = ["x", "n", "value", "delta"];
    private static readonly IReadOnlyList<(string, string, string)> Labels = [("positive", "negative", "zero"), ("pos", "neg", "zero"), ("up", "down", "flat")];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string x = random.Pick(Args);
        bool words = random.Next(2) == 0;
        (string p, string m, string z) = random.Pick(Labels);
        string description = (words, wording) switch
        {
            (true, 0) => $"Return '{p}' if {x} is above zero, '{m}' if it is below zero and '{z}' otherwise.",
            (true, 1) => $"Describe the sign of {x} as '{p}', '{m}' or '{z}'.",
            (true, _) => $"Given an integer {x}, return '{p}' for {x} > 0, '{m}' for {x} < 0 and '{z}' for {x} == 0.",
            (false, 0) => $"Return 1 if {x} is above zero, -1 if it is below zero and 0 otherwise.",
            (false, 1) => $"Describe the sign of {x} as 1, -1 or 0.",
            _ => $"Given an integer {x}, return 1 for {x} > 0, -1 for {x} < 0 and 0 for {x} == 0.",
        };
        object?[] results = words ? [p, m, z] : [1L, -1L, 0L];
        string pyP = words ? Lit(p) : "1", pyM = words ? Lit(m) : "-1", pyZ = words ? Lit(z) : "0";
        return new FunctionSpec(random.Pick(Names), [new(x, "int")], words ? "str" : "int", description,
            [$"if {x} > 0:", $"    return {pyP}", $"if {x} < 0:", $"    return {pyM}", $"return {pyZ}"],
            Cases(random, () => [random.Int(-100, 100)], [0L], [1L], [-1L]),
            args => (long)args[0]! switch { > 0 => results[0], < 0 => results[1], _ => results[2] });
    }
}

/// <summary>Clamp x to [lo, hi].</summary>
internal sealed class ClampFamily() : TaskFamily("clamp", difficulty: 2, wordings: 3)
{
    private static readonly IReadOnlyList<string> Names = ["clamp", "limit", "bound", "restrict", "fit_range"];
    private static readonly IReadOnlyList<string> Args = ["x", "value", "level", "n"];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string x = random.Pick(Args);
        long lo = random.Int(-10, 10), hi = lo + random.Int(3, 40);
        string description = wording switch
        {
            0 => $"Return {x} limited to the range {lo} to {hi}: values below {lo} become {lo} and values above {hi} become {hi}.",
            1 => $"Clamp {x} so that it lies between {lo} and {hi} inclusive.",
            _ => $"Given an integer {x}, return {lo} if it is smaller than {lo}, {hi} if it is larger than {hi}, and {x} itself otherwise.",
        };
        return new FunctionSpec(random.Pick(Names), [new(x, "int")], "int", description,
            [$"if {x} < {lo}:", $"    return {lo}", $"if {x} > {hi}:", $"    return {hi}", $"return {x}"],
            Cases(random, () => [random.Int(lo - 20, hi + 20)], [lo], [hi], [lo - 1], [hi + 1]),
            args => Math.Clamp((long)args[0]!, lo, hi));
    }
}

/// <summary>FizzBuzz with two coprime divisors and varying words.</summary>
internal sealed class FizzBuzzFamily() : TaskFamily("fizzbuzz", difficulty: 3, wordings: 3)
{
    private static readonly IReadOnlyList<string> Names = ["fizzbuzz", "say", "buzz_word", "game_word"];
    private static readonly IReadOnlyList<(long, long)> Divisors = [(3, 5), (2, 7), (3, 4), (2, 5), (4, 7), (3, 7)];
    private static readonly IReadOnlyList<(string, string)> Words = [("Fizz", "Buzz"), ("Foo", "Bar"), ("Ping", "Pong"), ("Tick", "Tock")];

    protected override FunctionSpec Create(Random random, int wording)
    {
        string n = random.Pick((IReadOnlyList<string>)["n", "x", "number"]);
        (long a, long b) = random.Pick(Divisors);
        (string wa, string wb) = random.Pick(Words);
        string both = wa + wb;
        string description = wording switch
        {
            0 => $"Return '{both}' if {n} is divisible by both {a} and {b}, '{wa}' if only by {a}, '{wb}' if only by {b}, and otherwise {n} as a string.",
            1 => $"FizzBuzz with {a} -> '{wa}' and {b} -> '{wb}': return '{both}' for multiples of both, else the matching word, else str({n}).",
            _ => $"Given an integer {n}, return '{wa}' for multiples of {a}, '{wb}' for multiples of {b}, '{both}' for multiples of both, and str({n}) for anything else.",
        };
        return new FunctionSpec(random.Pick(Names), [new(n, "int")], "str", description,
            [
                $"if {n} % {a} == 0 and {n} % {b} == 0:", $"    return {Lit(both)}",
                $"if {n} % {a} == 0:", $"    return {Lit(wa)}",
                $"if {n} % {b} == 0:", $"    return {Lit(wb)}",
                $"return str({n})",
            ],
            Cases(random, () => [random.Int(1, 60)], [a * b], [a], [b], [1L], [0L]),
            args =>
            {
                long value = (long)args[0]!;
                bool byA = value % a == 0, byB = value % b == 0;
                return byA && byB ? both : byA ? wa : byB ? wb : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            });
    }
}
