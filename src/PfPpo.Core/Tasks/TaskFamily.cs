namespace PfPpo.Tasks;

/// <summary>
/// A family of small Python functions: given a seeded <see cref="Random"/> and a wording (docstring template) it
/// draws names and constants and returns the function's signature, docstring, body and a C# evaluator for its
/// expected outputs. Families hold no state; the same random stream always yields the same function.
/// </summary>
public abstract class TaskFamily
{
    protected TaskFamily(string name, int difficulty, int wordings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(difficulty, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(difficulty, 3);
        ArgumentOutOfRangeException.ThrowIfLessThan(wordings, 1);
        Name = name;
        Difficulty = difficulty;
        Wordings = wordings;
    }

    /// <summary>The family's id, written to each task's <c>family</c> field.</summary>
    public string Name { get; }

    /// <summary>1 (easy) to 3 (hard).</summary>
    public int Difficulty { get; }

    /// <summary>How many docstring templates the family has; wordings are numbered from 0.</summary>
    public int Wordings { get; }

    /// <summary>Draws one function of this family in the given wording.</summary>
    public FunctionSpec Generate(Random random, int wording)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(wording);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(wording, Wordings);
        return Create(random, wording);
    }

    /// <summary>Draws one function; <paramref name="wording"/> is already checked to be in range.</summary>
    protected abstract FunctionSpec Create(Random random, int wording);

    /// <summary>
    /// Between 5 and 10 distinct argument lists: two drawn by <paramref name="draw"/> first (the docstring shows
    /// those), then the <paramref name="edges"/>, then more drawn ones.
    /// </summary>
    protected static IReadOnlyList<object?[]> Cases(Random random, Func<object?[]> draw, params object?[][] edges)
    {
        int count = random.Next(5, 11);
        var cases = new List<object?[]>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void TryAdd(object?[] arguments)
        {
            if (cases.Count < count && seen.Add(PyValue.ToJson(arguments).GetRawText()))
            {
                cases.Add(arguments);
            }
        }

        int attempts = 0;
        while (cases.Count < 2 && attempts++ < 100)
        {
            TryAdd(draw());
        }
        foreach (object?[] edge in edges)
        {
            TryAdd(edge);
        }
        while (cases.Count < count && attempts++ < 200)
        {
            TryAdd(draw());
        }
        if (cases.Count < 5)
        {
            throw new InvalidOperationException($"could not draw 5 distinct test inputs ({cases.Count} after {attempts} draws)");
        }
        return cases;
    }
}

/// <summary>A parameter of a generated function: its name and Python type annotation.</summary>
public sealed record Parameter(string Name, string Type);

/// <summary>
/// One generated function before it becomes a <see cref="CodeTask"/>.
/// </summary>
/// <param name="Name">The function's name (the entry point).</param>
/// <param name="Parameters">Parameters in order.</param>
/// <param name="ReturnType">The Python return annotation.</param>
/// <param name="Description">The docstring's text (one or more lines, no indentation, no examples).</param>
/// <param name="Body">The body's lines with their indentation relative to the body (4 spaces a level).</param>
/// <param name="Inputs">Argument lists for the tests; the first one or two also appear as docstring examples.</param>
/// <param name="Evaluate">Computes the expected return value for an argument list, in C#.</param>
public sealed record FunctionSpec(
    string Name,
    IReadOnlyList<Parameter> Parameters,
    string ReturnType,
    string Description,
    IReadOnlyList<string> Body,
    IReadOnlyList<object?[]> Inputs,
    Func<object?[], object?> Evaluate);

/// <summary>Drawing helpers shared by the families.</summary>
internal static class TaskRandom
{
    /// <summary>Short lower-case English words for strings and sentences.</summary>
    public static readonly IReadOnlyList<string> Words =
    [
        "apple", "river", "stone", "cloud", "green", "light", "table", "music", "paper", "tiger",
        "cat", "dog", "sun", "moon", "tree", "bird", "fish", "road", "book", "door",
        "blue", "red", "cold", "warm", "fast", "slow", "code", "data", "test", "line",
        "a", "an", "the", "is", "on", "in", "at", "to", "of", "and",
    ];

    /// <summary>Parameter names for a list of integers.</summary>
    public static readonly IReadOnlyList<string> ListNames = ["xs", "nums", "numbers", "values", "items"];

    /// <summary>Parameter names for a dict from names to integers.</summary>
    public static readonly IReadOnlyList<string> DictNames = ["d", "counts", "prices", "scores", "stock"];

    public static T Pick<T>(this Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>A uniform integer in [<paramref name="low"/>, <paramref name="high"/>], both inclusive.</summary>
    public static long Int(this Random random, long low, long high) => random.NextInt64(low, high + 1);

    /// <summary>A uniform integer in [low, high] other than zero.</summary>
    public static long NonZero(this Random random, long low, long high)
    {
        long value;
        do
        {
            value = random.Int(low, high);
        }
        while (value == 0);
        return value;
    }

    public static long[] Ints(this Random random, int minLength, int maxLength, long low, long high)
    {
        var items = new long[random.Next(minLength, maxLength + 1)];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = random.Int(low, high);
        }
        return items;
    }

    /// <summary>A string of random characters from <paramref name="alphabet"/>.</summary>
    public static string Chars(this Random random, int minLength, int maxLength, string alphabet)
    {
        var chars = new char[random.Next(minLength, maxLength + 1)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }
        return new string(chars);
    }

    /// <summary>Words joined by single spaces.</summary>
    public static string Sentence(this Random random, int minWords, int maxWords)
    {
        var words = new string[random.Next(minWords, maxWords + 1)];
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = random.Pick(Words);
        }
        return string.Join(' ', words);
    }

    /// <summary>A list of distinct names (drawn from <see cref="Words"/>) mapped to small integers, in insertion order.</summary>
    public static OrderedDictionary<string, long> Dict(this Random random, int minCount, int maxCount, long low, long high)
    {
        int count = random.Next(minCount, maxCount + 1);
        var dictionary = new OrderedDictionary<string, long>(StringComparer.Ordinal);
        while (dictionary.Count < count)
        {
            dictionary.TryAdd(random.Pick(Words), random.Int(low, high));
        }
        return dictionary;
    }
}

/// <summary>Python's integer semantics where they differ from C#'s.</summary>
internal static class PyMath
{
    /// <summary>Python's <c>a % b</c>: the result has the sign of <paramref name="b"/>.</summary>
    public static long Mod(long a, long b)
    {
        long r = a % b;
        return r != 0 && (r < 0) != (b < 0) ? r + b : r;
    }

    /// <summary>The Python literal for a string constant used in a body or docstring.</summary>
    public static string Lit(string text) => PyValue.Repr(text);

    /// <summary>" + 3" or " - 3": a constant added in an expression, written the way a person would.</summary>
    public static string Plus(long value) => value < 0 ? $" - {-value}" : $" + {value}";
}
