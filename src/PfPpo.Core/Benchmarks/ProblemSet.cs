using System.Text.Json;
using PfPpo.IO;
using PfPpo.Scoring;

namespace PfPpo.Benchmarks;

/// <summary>A benchmark: problems loaded from a jsonl file, in file order, addressable by task id.</summary>
public sealed class ProblemSet
{
    private readonly Dictionary<string, Problem> _byId;

    public IReadOnlyList<Problem> Problems { get; }

    public string Path { get; }

    private ProblemSet(string path, List<Problem> problems)
    {
        Path = path;
        Problems = problems;
        _byId = new Dictionary<string, Problem>(StringComparer.Ordinal);
        foreach (var problem in problems)
        {
            if (!_byId.TryAdd(problem.TaskId, problem))
            {
                throw new DataFormatException($"{problem.Source}: duplicate task_id '{problem.TaskId}' (first at {_byId[problem.TaskId].Source})");
            }
        }
    }

    /// <summary>The problem with <paramref name="taskId"/>, or null.</summary>
    public Problem? Find(string taskId) => _byId.GetValueOrDefault(taskId);

    /// <summary>Loads problems from jsonl, a JSON array, or either gzipped (blank lines skipped). The format of each line is detected from its
    /// fields. Throws <see cref="DataFormatException"/> (<c>file:line: what is wrong</c>) or <see cref="FileNotFoundException"/>.</summary>
    /// <param name="includeChallengeTests">Also run MBPP's challenge_test_list.</param>
    public static ProblemSet Load(string path, bool includeChallengeTests = false)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such problems file", path);
        }

        var problems = new List<Problem>();
        foreach (var (where, record) in JsonLines.Read(path))
        {
            problems.Add(Parse(record, where, includeChallengeTests));
        }
        if (problems.Count == 0)
        {
            throw new DataFormatException($"{path}: no problems in the file");
        }

        return new ProblemSet(path, problems);
    }

    /// <summary>Parses one problem object; <paramref name="where"/> prefixes every error.</summary>
    public static Problem Parse(JsonElement obj, string where, bool includeChallengeTests = false)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            throw new DataFormatException($"{where}: expected a JSON object, got {obj.ValueKind}");
        }

        var f = new Fields(obj, where);
        string taskId = f.TaskId();
        if (obj.TryGetProperty("io_tests", out _))
        {
            string prompt = f.RequiredString("prompt");
            string entry = f.RequiredString("entry_point");
            string? canonical = f.OptionalString("canonical_solution");
            var tests = new List<IoTest>();
            var array = f.Array("io_tests");
            if (array.GetArrayLength() == 0)
            {
                throw new DataFormatException($"{where}: field 'io_tests' is empty");
            }

            int i = 0;
            foreach (var t in array.EnumerateArray())
            {
                string at = $"{where}: io_tests[{i}]";
                if (t.ValueKind != JsonValueKind.Object)
                {
                    throw new DataFormatException($"{at}: expected an object with 'input' and 'output'");
                }

                if (!t.TryGetProperty("input", out var input) || input.ValueKind != JsonValueKind.Array)
                {
                    throw new DataFormatException($"{at}: 'input' must be an array of positional arguments");
                }

                if (!t.TryGetProperty("output", out var output))
                {
                    throw new DataFormatException($"{at}: missing 'output'");
                }

                tests.Add(new IoTest(input.Clone(), output.Clone()));
                i++;
            }
            return new Problem(taskId, ProblemFormat.Structured, prompt, canonical is null ? null : prompt + canonical,
                f.OptionalString("test") ?? "", entry, "", [], tests, where);
        }
        if (obj.TryGetProperty("base_input", out _))
        {
            string prompt = f.RequiredString("prompt");
            string entry = f.RequiredString("entry_point");
            string canonical = f.RequiredString("canonical_solution");
            var tests = new List<IoTest>();
            foreach (string field in new[] { "base_input", "plus_input" })
            {
                if (!obj.TryGetProperty(field, out var inputs) || inputs.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                int i = 0;
                foreach (var input in f.Array(field).EnumerateArray())
                {
                    if (input.ValueKind != JsonValueKind.Array)
                    {
                        throw new DataFormatException($"{where}: {field}[{i}] must be an array of positional arguments");
                    }

                    tests.Add(new IoTest(input.Clone(), default));
                    i++;
                }
            }
            if (tests.Count == 0)
            {
                throw new DataFormatException($"{where}: 'base_input' and 'plus_input' hold no tests");
            }

            double atol = obj.TryGetProperty("atol", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetDouble() : 0;
            if (!(atol >= 0))
            {
                throw new DataFormatException($"{where}: field 'atol' must not be negative");
            }

            return new Problem(taskId, ProblemFormat.EvalPlus, prompt, prompt + canonical, f.OptionalString("test") ?? "", entry, "", [], tests, where, atol);
        }
        string? test = f.OptionalString("test");
        bool hasTestList = obj.TryGetProperty("test_list", out _);
        if (hasTestList && (string.IsNullOrWhiteSpace(test) || !obj.TryGetProperty("entry_point", out _)))
        {
            var asserts = f.StringList("test_list");
            if (asserts.Count == 0)
            {
                throw new DataFormatException($"{where}: field 'test_list' is empty");
            }

            if (includeChallengeTests && obj.TryGetProperty("challenge_test_list", out var ch) && ch.ValueKind == JsonValueKind.Array)
            {
                asserts.AddRange(f.StringList("challenge_test_list"));
            }
            string setup = f.OptionalString("test_setup_code") ?? "";
            // Sanitized MBPP's test_imports (e.g. "import math" for math.isclose) run before the setup code and the asserts.
            if (obj.TryGetProperty("test_imports", out var imports) && imports.ValueKind == JsonValueKind.Array && imports.GetArrayLength() > 0)
            {
                setup = string.Join("\n", f.StringList("test_imports")) + "\n" + setup;
            }
            // The original MBPP has 'text', the sanitized file 'prompt'.
            string text = f.OptionalString("prompt") ?? f.OptionalString("text") ?? "";
            string? code = f.OptionalString("code") ?? f.OptionalString("canonical_solution");
            return new Problem(taskId, ProblemFormat.Mbpp, text, code, "", null, setup, asserts, [], where);
        }
        if (test is not null || obj.TryGetProperty("prompt", out _) || obj.TryGetProperty("entry_point", out _))
        {
            string prompt = f.RequiredString("prompt");
            string testCode = f.RequiredString("test");
            string? entry = f.OptionalString("entry_point");
            bool leetCode = (entry?.StartsWith("Solution", StringComparison.Ordinal) ?? false)
                || prompt.Contains("class Solution", StringComparison.Ordinal)
                || (entry is null && testCode.Contains("Solution()", StringComparison.Ordinal));
            if (entry is null && !leetCode)
            {
                throw new DataFormatException($"{where}: missing field 'entry_point'");
            }
            // LeetCodeDataset keeps its reference class in 'completion'.
            string? canonical = f.OptionalString("canonical_solution") ?? (leetCode ? f.OptionalString("completion") : null);
            string? reference = canonical is null ? null
                : leetCode ? ProgramAssembler.LeetCodeProgram(prompt, canonical)
                : prompt + canonical;
            return new Problem(taskId, leetCode ? ProblemFormat.LeetCode : ProblemFormat.HumanEval, prompt, reference, testCode, entry, "", [], [], where);
        }
        throw new DataFormatException($"{where}: cannot tell the format: expected 'io_tests' (PfPpo structured), 'test_list' (MBPP) or 'prompt' + 'test' + 'entry_point' (HumanEval / LeetCode)");
    }

    private readonly struct Fields(JsonElement obj, string where)
    {
        public string TaskId()
        {
            if (!obj.TryGetProperty("task_id", out var id))
            {
                throw new DataFormatException($"{where}: missing field 'task_id'");
            }

            return id.ValueKind switch
            {
                JsonValueKind.String when id.GetString()!.Length > 0 => id.GetString()!,
                JsonValueKind.Number => id.GetRawText(),
                _ => throw new DataFormatException($"{where}: field 'task_id' must be a non-empty string or a number"),
            };
        }

        public string RequiredString(string name) =>
            OptionalString(name) ?? throw new DataFormatException($"{where}: missing field '{name}'");

        public string? OptionalString(string name)
        {
            if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (v.ValueKind != JsonValueKind.String)
            {
                throw new DataFormatException($"{where}: field '{name}' must be a string, got {v.ValueKind}");
            }

            return v.GetString();
        }

        public JsonElement Array(string name)
        {
            if (!obj.TryGetProperty(name, out var v) || v.ValueKind != JsonValueKind.Array)
            {
                throw new DataFormatException($"{where}: field '{name}' must be an array");
            }

            return v;
        }

        public List<string> StringList(string name)
        {
            var list = new List<string>();
            foreach (var item in Array(name).EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                {
                    throw new DataFormatException($"{where}: field '{name}' must hold strings, found {item.ValueKind}");
                }

                list.Add(item.GetString()!);
            }
            return list;
        }
    }
}
