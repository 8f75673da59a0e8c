using PfPpo.Benchmarks;
using PfPpo.Sandbox;
using PfPpo.Scoring;
using PfPpo.Tests.Benchmarks;
using PfPpo.Tests.Sandbox;

namespace PfPpo.Tests.Scoring;

[Collection(SandboxCollection.Name)]
public class ScorerTests(SandboxFixture fixture)
{
    private static readonly string[] Files = ["humaneval.jsonl", "mbpp.jsonl", "sanitized-mbpp.json", "leetcode.jsonl", "structured.jsonl", "evalplus.jsonl"];

    /// <summary>A solution to the LeetCode contest fixture, written for these tests (the data set ships no references).</summary>
    private const string MinimumPushesBody = "return sum(i // 8 + 1 for i in range(len(word)))\n";

    [Fact]
    public async Task ReferenceSolutionsOfEveryFormatPass()
    {
        foreach (string file in Files)
        {
            var set = ProblemSet.Load(TestData.PathOf(file), includeChallengeTests: true);
            var results = await fixture.Scorer.ScoreAsync(set.Problems.Select(p => new ScoreRequest(p, p.Reference!, SampleKind.Solution)).ToArray());
            Assert.All(results, r => Assert.True(r.Passed, $"{file} {r.TaskId}: {r.Status} {r.Error}"));
            Assert.All(results, r => Assert.Equal(r.TestsTotal, r.TestsPassed));
        }
    }

    [Fact]
    public async Task BrokenSolutionsOfEveryFormatFail()
    {
        var requests = new List<ScoreRequest>();
        foreach (string file in Files)
        {
            foreach (var p in ProblemSet.Load(TestData.PathOf(file)).Problems)
            {
                // Same program with every return value replaced: still runs, never right.
                string broken = System.Text.RegularExpressions.Regex.Replace(p.Reference!, @"return\s*\(?res\)?|return [^\n]+", "return None");
                requests.Add(new ScoreRequest(p, broken, SampleKind.Solution));
                requests.Add(new ScoreRequest(p, "def broken(:\n", SampleKind.Solution));
            }
        }
        var results = await fixture.Scorer.ScoreAsync(requests);
        Assert.All(results, r => Assert.Equal(SampleStatus.Failed, r.Status));
        Assert.Contains(results, r => r.Error!.Contains("SyntaxError", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CompletionsAreAppendedToThePromptAndPartialCreditIsCounted()
    {
        var problem = ProblemSet.Load(TestData.PathOf("structured.jsonl")).Problems[0];
        // Right total, pairs wrong except for the empty input.
        var result = await fixture.Scorer.ScoreOneAsync(new ScoreRequest(problem, "    return {'total': sum(xs) * scale, 'pairs': []}\n"));
        Assert.Equal(SampleStatus.Failed, result.Status);
        Assert.Equal((1, 3), (result.TestsPassed, result.TestsTotal));
        Assert.Equal([TestStatus.Failed, TestStatus.Failed, TestStatus.Passed], result.Tests.Select(t => t.Status));
        Assert.Contains("expected", result.Tests[0].Message);
    }

    [Fact]
    public async Task OneRaisingTestDoesNotLoseTheOthers()
    {
        var problem = ProblemSet.Load(TestData.PathOf("structured.jsonl")).Problems[1];
        var result = await fixture.Scorer.ScoreOneAsync(new ScoreRequest(problem,
            "    if n < 0:\n        raise ValueError('negative')\n    return [n % 2 == 0, str(n), n / 3]\n"));
        Assert.Equal([TestStatus.Error, TestStatus.Passed], result.Tests.Select(t => t.Status));
        Assert.Contains("ValueError", result.Tests[0].Message);
    }

    [Fact]
    public async Task CalibrationRaisesTheLimitOfSlowReferences()
    {
        var slow = ProblemSet.Parse(System.Text.Json.JsonDocument.Parse("""
            {"task_id": "slow", "prompt": "def f():\n", "canonical_solution": "    import time\n    time.sleep(0.5)\n    return 1\n",
             "entry_point": "f", "io_tests": [{"input": [], "output": 1}]}
            """).RootElement, "inline:1");
        await using var scorer = await Scorer.CreateAsync(new ScorerOptions(Workers: 1,
            Limits: SandboxFixture.Limits with { Timeout = TimeSpan.FromSeconds(0.4) }, CalibrationFactor: 4));
        var before = await scorer.ScoreOneAsync(new ScoreRequest(slow, slow.Reference!, SampleKind.Solution));
        Assert.Equal(SampleStatus.Timeout, before.Status);
        var references = await scorer.CalibrateAsync([slow]);
        Assert.True(references[0].Passed);
        Assert.InRange(scorer.TimeoutFor(slow).TotalSeconds, 2.0, 10.0);
        var after = await scorer.ScoreOneAsync(new ScoreRequest(slow, slow.Reference!, SampleKind.Solution));
        Assert.Equal(SampleStatus.Passed, after.Status);
    }

    [Fact]
    public async Task EvalPlusComparesWithTheReferencesOutputsAndTolerance()
    {
        var set = ProblemSet.Load(TestData.PathOf("evalplus.jsonl"));
        var truncate = set.Find("HumanEval/2")!;
        Assert.Equal((ProblemFormat.EvalPlus, 5, 1e-6), (truncate.Format, truncate.TestCount, truncate.Atol));
        var results = await fixture.Scorer.ScoreAsync([
            new ScoreRequest(truncate, "    return number - int(number) + 1e-9\n"), // within atol
            new ScoreRequest(truncate, "    return round(number - int(number), 2)\n"), // 123.456 and 999.99999 off by more than atol
            new ScoreRequest(set.Find("Mbpp/2")!, "def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))\n"),
            new ScoreRequest(set.Find("Mbpp/2")!, "def similar_elements(a, b):\n    return list(set(a) & set(b))\n"), // list is not a tuple
        ]);
        Assert.Equal([SampleStatus.Passed, SampleStatus.Failed, SampleStatus.Passed, SampleStatus.Failed], results.Select(r => r.Status));
        Assert.Equal(3, results[1].TestsPassed);
        Assert.Contains("reference returned", results[3].Error);
    }

    [Fact]
    public async Task GuardsDoNotCostRecursionDepth()
    {
        var mbpp = ProblemSet.Parse(System.Text.Json.JsonDocument.Parse("""
            {"task_id": 1, "text": "sum", "code": "def total(n):\n    return 0 if n == 0 else n + total(n - 1)\n",
             "test_list": ["assert total(900) == 405450"], "test_setup_code": "", "challenge_test_list": []}
            """).RootElement, "inline:1");
        var humanEval = ProblemSet.Parse(System.Text.Json.JsonDocument.Parse("""
            {"task_id": "t", "prompt": "def total(n):\n", "canonical_solution": "    return 0 if n == 0 else n + total(n - 1)\n",
             "test": "def check(candidate):\n    assert candidate(900) == 405450\n", "entry_point": "total"}
            """).RootElement, "inline:1");
        var results = await fixture.Scorer.ScoreAsync([
            new ScoreRequest(mbpp, mbpp.Reference!, SampleKind.Solution),
            new ScoreRequest(humanEval, humanEval.Reference!, SampleKind.Solution)]);
        Assert.All(results, r => Assert.True(r.Passed, r.Error));
    }

    [Fact]
    public async Task LeetCodeProgramsGetTheJudgesPreludeAndMayWriteTheWholeClass()
    {
        // A contest record whose prompt is a problem statement, with no entry_point and asserts that build Solution().
        var contest = ProblemSet.Parse(System.Text.Json.JsonDocument.Parse("""
            {"task_id": "contest-1", "prompt": "You are given a list of words. Return how often each first letter occurs.\nExample: ...\n",
             "test": "s = Solution()\nassert s.firstLetters(['ab', 'ac', 'b']) == {'a': 2, 'b': 1}\nassert s.firstLetters([]) == {}\n"}
            """).RootElement, "inline:1");
        Assert.Equal(ProblemFormat.LeetCode, contest.Format);
        string whole = "```python\nclass Solution:\n    def firstLetters(self, words: List[str]) -> Dict[str, int]:\n" +
            "        counts = defaultdict(int)\n        for w in words:\n            counts[w[0]] += 1\n        return dict(counts)\n```";
        var results = await fixture.Scorer.ScoreAsync([
            new ScoreRequest(contest, SampleFile.ExtractCode(whole)),
            new ScoreRequest(contest, SampleFile.ExtractCode(whole), SampleKind.Solution),
            new ScoreRequest(contest, SampleFile.ExtractCode(whole).Replace("dict(counts)", "counts")), // a defaultdict equals its dict
            new ScoreRequest(contest, SampleFile.ExtractCode(whole).Replace("w[0]", "w[-1]")),
        ]);
        Assert.Equal([SampleStatus.Passed, SampleStatus.Passed, SampleStatus.Passed, SampleStatus.Failed], results.Select(r => r.Status));
    }

    [Fact]
    public async Task DeepSeekLeetCodeContestRecordsScoreMethodBodiesAndWholeClasses()
    {
        var contest = ProblemSet.Load(TestData.PathOf("leetcode-contest.jsonl")).Problems[0];
        string wholeClass = "from typing import List\n\nclass Solution:\n    def minimumPushes(self, word: str) -> int:\n        " + MinimumPushesBody;
        var results = await fixture.Scorer.ScoreAsync([
            // A base model continues the prompt's stub, which ends with the body's indentation.
            new ScoreRequest(contest, MinimumPushesBody),
            // A chat model answers with the whole class in a fence: it replaces the prompt's statement and stub.
            new ScoreRequest(contest, SampleFile.ExtractCode($"Here it is:\n```python\n{wholeClass}```\nDone.")),
            new ScoreRequest(contest, wholeClass, SampleKind.Solution),
            // Sorting by hand needs the judge's names (Counter) without importing them.
            new ScoreRequest(contest, "return sum((i // 8 + 1) * c for i, (_, c) in enumerate(Counter(word).most_common()))\n"),
            new ScoreRequest(contest, "return len(word)\n"), // right up to 8 letters, wrong beyond
            new ScoreRequest(contest, wholeClass.Replace("// 8", "// 9"), SampleKind.Solution),
        ]);
        Assert.Equal([SampleStatus.Passed, SampleStatus.Passed, SampleStatus.Passed, SampleStatus.Passed, SampleStatus.Failed, SampleStatus.Failed],
            results.Select(r => r.Status));
        Assert.Contains("AssertionError", results[4].Error);
    }

    [Fact]
    public void InfrastructureFailuresAreErrorsNotVerdicts()
    {
        var problem = ProblemSet.Load(TestData.PathOf("mbpp.jsonl")).Problems[0];
        var result = Verdicts.Judge(problem, SandboxResult.Infrastructure("worker crashed", problem.TestCount, 3));
        Assert.Equal(SampleStatus.Error, result.Status);
        Assert.False(result.Passed);
        Assert.Contains("after 3 attempt(s)", result.Error);
    }

    [Theory]
    [InlineData(IsolationLevel.Unshare)]
    [InlineData(IsolationLevel.RlimitsOnly)]
    public async Task WeakerIsolationStillScoresButSaysWhatIsMissing(IsolationLevel level)
    {
        await using var pool = await SandboxPool.CreateAsync(new SandboxPoolOptions(Workers: 1, Limits: SandboxFixture.Limits, MaxIsolation: level));
        Assert.Equal(level, pool.Isolation.Level);
        Assert.NotEmpty(pool.Isolation.Missing);
        Assert.Contains("missing protections", pool.Isolation.Warning);
        // These tests check the program's own side effects, so they run in its process (the forgeable fallback).
        var ok = await pool.RunAsync(SandboxTask.ForAsserts("import os\nopen('x', 'w').write('1')\n", ["assert open('x').read() == '1'", "assert os.getuid() == 65534"]) with { InProcess = true });
        Assert.NotNull(ok.Forgeable);
        Assert.All(ok.Tests, t => Assert.Equal(TestRunKind.Ran, t.Kind));
        var again = await pool.RunAsync(SandboxTask.ForAsserts("import os\n", ["assert not os.path.exists('x')"]) with { InProcess = true });
        Assert.Equal(TestRunKind.Ran, again.Tests[0].Kind);
    }
}
