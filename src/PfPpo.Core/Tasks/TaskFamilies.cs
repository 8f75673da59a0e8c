namespace PfPpo.Tasks;

/// <summary>The families the embedded benchmark draws from, easy to hard.</summary>
public static class TaskFamilies
{
    /// <summary>Every family, in a fixed order (the generator's output depends on it).</summary>
    public static IReadOnlyList<TaskFamily> All { get; } =
    [
        // Difficulty 1: one expression or one method call.
        new LinearFamily(),
        new BinaryOpFamily(),
        new DivisibleFamily(),
        new MinMaxTwoFamily(),
        new StringTransformFamily(),
        new AffixFamily(),
        new StringCheckFamily(),
        new ReplaceFamily(),
        new ListAggregateFamily(),
        new IndexFamily(),
        // Difficulty 2: conditionals, loops, comprehensions, dict look-ups.
        new DigitsFamily(),
        new RangeLoopFamily(),
        new ThresholdFamily(),
        new SignFamily(),
        new ClampFamily(),
        new CountCharsFamily(),
        new WordsFamily(),
        new MapListFamily(),
        new FilterListFamily(),
        new CountIfFamily(),
        new DictLookupFamily(),
        // Difficulty 3: two-step compositions and dict building.
        new FizzBuzzFamily(),
        new DictCountFamily(),
        new DictQueryFamily(),
        new FilterSumFamily(),
        new FilterMapFamily(),
        new StringComposeFamily(),
        new SortSelectFamily(),
        new SequenceFamily(),
    ];

    /// <summary>The family with this <see cref="TaskFamily.Name"/>.</summary>
    public static TaskFamily Get(string name) =>
        All.FirstOrDefault(f => f.Name == name)
        ?? throw new ArgumentException($"unknown task family '{name}'; known: {string.Join(", ", All.Select(f => f.Name))}", nameof(name));
}
