using System.Text;
using PfPpo.Benchmarks;
using PfPpo.Runtime;

namespace PfPpo.Tasks;

/// <summary>A (family, wording) combination; the split holds some out of training entirely.</summary>
public sealed record FamilyWording(string Family, int Wording);

/// <summary>The generated benchmark: training and test tasks and the combinations only the test set uses.</summary>
/// <param name="Validation">
/// Tasks drawn like the test tasks (held-out combinations included) but disjoint from them and from training: for choosing
/// checkpoints and settings without looking at the test set. Empty unless asked for; asking for them leaves the other
/// splits unchanged.
/// </param>
public sealed record TaskSplits(IReadOnlyList<CodeTask> Train, IReadOnlyList<CodeTask> Test, IReadOnlyList<FamilyWording> HeldOut,
    IReadOnlyList<CodeTask> Validation);

/// <summary>
/// Generates the embedded code benchmark. Deterministic for a seed: the same seed and counts give byte-identical
/// tasks on every run and machine. The training split never uses a held-out (family, wording) pair and no test
/// prompt equals a training prompt.
/// </summary>
public static class TaskGenerator
{
    public const int DefaultSeed = 1234;
    public const int DefaultTrainCount = 4000;
    public const int DefaultTestCount = 200;

    /// <summary>The docstring's width before it wraps, as in HumanEval.</summary>
    private const int DocstringWidth = 100;

    /// <summary>Candidates a test draw makes while looking for a signature and description unseen in training.</summary>
    private const int HeaderRetries = 30;

    /// <summary>Generates both splits from <see cref="TaskFamilies.All"/>.</summary>
    public static TaskSplits Generate(int seed = DefaultSeed, int trainCount = DefaultTrainCount, int testCount = DefaultTestCount,
        int validationCount = 0) =>
        Generate(TaskFamilies.All, seed, trainCount, testCount, validationCount);

    /// <summary>Generates the splits from the given families.</summary>
    public static TaskSplits Generate(IReadOnlyList<TaskFamily> families, int seed, int trainCount, int testCount, int validationCount = 0)
    {
        ArgumentNullException.ThrowIfNull(families);
        ArgumentOutOfRangeException.ThrowIfZero(families.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(trainCount);
        ArgumentOutOfRangeException.ThrowIfNegative(testCount);
        ArgumentOutOfRangeException.ThrowIfNegative(validationCount);

        HashSet<FamilyWording> heldOut = ChooseHeldOut(families, new Random(Seeds.Derive(seed, 0)));
        var usedPrompts = new HashSet<string>(StringComparer.Ordinal);
        List<CodeTask> train = Draw(families, new Random(Seeds.Derive(seed, 1)), "train", trainCount, heldOut, usedPrompts, trainHeaders: null);
        var trainHeaders = train.Select(t => Header(t.Prompt)).ToHashSet(StringComparer.Ordinal);
        List<CodeTask> test = Draw(families, new Random(Seeds.Derive(seed, 2)), "test", testCount, heldOut, usedPrompts, trainHeaders);
        // drawn last, from its own stream, so asking for a validation split changes neither training nor test
        List<CodeTask> validation = Draw(families, new Random(Seeds.Derive(seed, 3)), "validation", validationCount, heldOut, usedPrompts, trainHeaders);
        List<FamilyWording> heldOutList = [.. heldOut.OrderBy(p => p.Family, StringComparer.Ordinal).ThenBy(p => p.Wording)];
        return new TaskSplits(train, test, heldOutList, validation);
    }

    /// <summary>Turns a generated function into a task: prompt with examples, body, check() and io_tests.</summary>
    public static CodeTask ToTask(string taskId, TaskFamily family, int wording, bool heldOut, FunctionSpec spec, int examples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(examples, 1);
        IoTest[] ioTests = [.. spec.Inputs.Select(args => new IoTest(PyValue.ToJson(args), PyValue.ToJson(spec.Evaluate(args))))];
        static string Arguments(IoTest test) => string.Join(", ", test.Input.EnumerateArray().Select(PyValue.ToPython));

        var prompt = new StringBuilder();
        prompt.Append("def ").Append(spec.Name).Append('(')
            .AppendJoin(", ", spec.Parameters.Select(p => $"{p.Name}: {p.Type}"))
            .Append(") -> ").Append(spec.ReturnType).Append(":\n");
        List<string> docLines = Wrap(spec.Description, DocstringWidth);
        prompt.Append("    \"\"\"").Append(docLines[0]).Append('\n');
        foreach (string line in docLines.Skip(1))
        {
            prompt.Append("    ").Append(line).Append('\n');
        }
        foreach (IoTest example in ioTests.Take(examples))
        {
            prompt.Append("    >>> ").Append(spec.Name).Append('(').Append(Arguments(example)).Append(")\n");
            prompt.Append("    ").Append(PyValue.ToPython(example.Output)).Append('\n');
        }
        prompt.Append("    \"\"\"\n");

        var solution = new StringBuilder();
        foreach (string line in spec.Body)
        {
            solution.Append("    ").Append(line).Append('\n');
        }

        var test = new StringBuilder("\n\ndef check(candidate):\n");
        foreach (IoTest io in ioTests)
        {
            test.Append("    assert candidate(").Append(Arguments(io))
                .Append(") == ").Append(PyValue.ToPython(io.Output)).Append('\n');
        }

        return new CodeTask(taskId, prompt.ToString(), solution.ToString(), test.ToString(), spec.Name, ioTests,
            family.Name, wording, family.Difficulty, heldOut);
    }

    /// <summary>Holds out one wording in every other family (shuffled by the seed); families with one wording keep it.</summary>
    private static HashSet<FamilyWording> ChooseHeldOut(IReadOnlyList<TaskFamily> families, Random random)
    {
        TaskFamily[] shuffled = [.. families.Where(f => f.Wordings > 1)];
        random.Shuffle(shuffled);
        var heldOut = new HashSet<FamilyWording>();
        foreach (TaskFamily family in shuffled.Take((shuffled.Length + 1) / 2))
        {
            heldOut.Add(new FamilyWording(family.Name, random.Next(family.Wordings)));
        }
        return heldOut;
    }

    /// <summary>
    /// Draws <paramref name="count"/> tasks whose prompts are not in <paramref name="usedPrompts"/> (and adds them).
    /// For training (<paramref name="trainHeaders"/> null) held-out pairs are skipped. For the test split each draw
    /// makes up to <see cref="HeaderRetries"/> candidates of the chosen (family, wording) and prefers one whose
    /// signature and description never occur in training, so few test tasks differ from a training task only in
    /// their examples; where a family's space is too small for that it keeps a new prompt.
    /// </summary>
    private static List<CodeTask> Draw(IReadOnlyList<TaskFamily> families, Random random, string split, int count,
        HashSet<FamilyWording> heldOut, HashSet<string> usedPrompts, HashSet<string>? trainHeaders)
    {
        var tasks = new List<CodeTask>(count);
        long maxAttempts = 100L * count + 1000;
        for (long attempt = 0; tasks.Count < count; attempt++)
        {
            if (attempt >= maxAttempts)
            {
                throw new ArgumentException(
                    $"could not draw {count} distinct {split} prompts ({tasks.Count} after {attempt} draws); ask for fewer tasks");
            }
            TaskFamily family = random.Pick(families);
            int wording = random.Next(family.Wordings);
            bool isHeldOut = heldOut.Contains(new FamilyWording(family.Name, wording));
            if (trainHeaders is null && isHeldOut)
            {
                continue;
            }
            CodeTask? chosen = null;
            for (int candidate = 0; candidate < (trainHeaders is null ? 1 : HeaderRetries); candidate++)
            {
                FunctionSpec spec = family.Generate(random, wording);
                CodeTask task = ToTask($"PfPpo/{split}/{tasks.Count}", family, wording, isHeldOut, spec, examples: random.Next(1, 3));
                if (usedPrompts.Contains(task.Prompt))
                {
                    continue;
                }
                chosen ??= task;
                if (trainHeaders is null || !trainHeaders.Contains(Header(task.Prompt)))
                {
                    chosen = task;
                    break;
                }
            }
            if (chosen is not null)
            {
                usedPrompts.Add(chosen.Prompt);
                tasks.Add(chosen);
            }
        }
        return tasks;
    }

    /// <summary>A prompt's signature and description: everything before its first example.</summary>
    public static string Header(string prompt)
    {
        int examples = prompt.IndexOf("    >>> ", StringComparison.Ordinal);
        return examples < 0 ? prompt : prompt[..examples];
    }

    /// <summary>Greedy word wrap of each line of <paramref name="text"/> at <paramref name="width"/> characters.</summary>
    private static List<string> Wrap(string text, int width)
    {
        var lines = new List<string>();
        foreach (string paragraph in text.Split('\n'))
        {
            var line = new StringBuilder();
            foreach (string word in paragraph.Split(' '))
            {
                if (line.Length > 0 && line.Length + 1 + word.Length > width)
                {
                    lines.Add(line.ToString());
                    line.Clear();
                }
                if (line.Length > 0)
                {
                    line.Append(' ');
                }
                line.Append(word);
            }
            lines.Add(line.ToString());
        }
        return lines;
    }
}
