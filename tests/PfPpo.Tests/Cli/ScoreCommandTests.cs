using System.Text.Json;
using PfPpo.Tests.Benchmarks;

namespace PfPpo.Tests.Cli;

public class ScoreCommandTests
{
    [Fact]
    public void CanonicalSolutionsOfEveryFormatPass()
    {
        foreach (string file in new[] { "humaneval.jsonl", "mbpp.jsonl", "sanitized-mbpp.json", "leetcode.jsonl", "structured.jsonl" })
        {
            var result = CliRunner.Run("score", "--problems", TestData.PathOf(file), "--canonical", "--json", "--k", "1");
            Assert.True(result.ExitCode == 0, $"{file}: {result.StdErr}");
            using var summary = JsonDocument.Parse(result.StdOut);
            Assert.Equal(summary.RootElement.GetProperty("samples").GetInt32(), summary.RootElement.GetProperty("passed").GetInt32());
            Assert.Equal(1.0, summary.RootElement.GetProperty("pass_at_k").GetProperty("1").GetDouble());
            Assert.Equal("Bubblewrap", summary.RootElement.GetProperty("isolation").GetString());
        }
    }

    [Fact]
    public void LeetCodeContestSetHasNoReferencesButScoresSamples()
    {
        string problems = TestData.PathOf("leetcode-contest.jsonl");
        var canonical = CliRunner.Run("score", "--problems", problems, "--canonical");
        Assert.NotEqual(0, canonical.ExitCode);
        Assert.Contains($"error: {problems}:1: problem 'weekly-contest-381-minimum-number-of-pushes-to-type-word-i' has no reference solution", canonical.StdErr);
        Assert.DoesNotContain("   at ", canonical.StdErr);

        using var samples = new TestData.TempFile(
            "{\"task_id\": \"weekly-contest-381-minimum-number-of-pushes-to-type-word-i\", \"completion\": \"return sum(i // 8 + 1 for i in range(len(word)))\\n\"}",
            "{\"task_id\": \"weekly-contest-381-minimum-number-of-pushes-to-type-word-i\", \"completion\": \"return len(word)\\n\"}");
        var result = CliRunner.Run("score", "--problems", problems, "--samples", samples.Path, "--json", "--k", "1");
        Assert.True(result.ExitCode == 0, result.StdErr);
        using var summary = JsonDocument.Parse(result.StdOut);
        Assert.Equal((2, 1), (summary.RootElement.GetProperty("samples").GetInt32(), summary.RootElement.GetProperty("passed").GetInt32()));
    }

    [Fact]
    public void ScoresSamplesWritesResultsInInputOrderAndPrintsPassAtK()
    {
        using var samples = new TestData.TempFile(
            "{\"task_id\": \"pfppo/describe\", \"completion\": \"    return None\\n\"}",
            "{\"task_id\": \"pfppo/sum_pairs\", \"completion\": \"```python\\n    return {'total': sum(xs) * scale, 'pairs': [xs[i] + xs[i + 1] for i in range(len(xs) - 1)]}\\n```\"}",
            "{\"task_id\": \"pfppo/sum_pairs\", \"solution\": \"def sum_pairs(xs, scale):\\n    while True:\\n        pass\\n\"}",
            "{\"task_id\": \"pfppo/describe\", \"solution\": \"def describe(n):\\n    return None if n < 0 else [n % 2 == 0, str(n), n / 3]\\n\"}");
        string outPath = samples.Path + ".out";
        try
        {
            var result = CliRunner.Run("score", "--problems", TestData.PathOf("structured.jsonl"), "--samples", samples.Path,
                "--out", outPath, "--k", "1,2", "--workers", "2", "--timeout", "1");
            Assert.True(result.ExitCode == 0, result.StdErr);
            Assert.Contains("pass@1", result.StdOut);
            Assert.Contains("50.00%", result.StdOut); // each problem: 1 of 2 correct
            Assert.Contains("pass@2", result.StdOut);
            var lines = File.ReadAllLines(outPath).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
            Assert.Equal(["pfppo/describe", "pfppo/sum_pairs", "pfppo/sum_pairs", "pfppo/describe"], lines.Select(l => l.GetProperty("task_id").GetString()));
            Assert.Equal(["failed", "passed", "timeout", "passed"], lines.Select(l => l.GetProperty("status").GetString()));
            Assert.Equal([false, true, false, true], lines.Select(l => l.GetProperty("passed").GetBoolean()));
            Assert.Equal((1, 2), (lines[0].GetProperty("tests_passed").GetInt32(), lines[0].GetProperty("tests_total").GetInt32()));
            Assert.True(lines[1].GetProperty("duration_ms").GetDouble() > 0);
        }
        finally
        {
            File.Delete(outPath);
        }
    }

    [Theory]
    [InlineData("unknown task_id 'nope'", "{\"task_id\": \"nope\", \"completion\": \"x\"}")]
    [InlineData(":1: invalid JSON", "{oops")]
    public void BadSamplesGiveAClearErrorWithoutAStackTrace(string message, string line)
    {
        using var samples = new TestData.TempFile(line);
        var result = CliRunner.Run("score", "--problems", TestData.PathOf("mbpp.jsonl"), "--samples", samples.Path);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", result.StdErr);
        Assert.Contains(message, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Theory]
    [InlineData("--k", "0")]
    [InlineData("--timeout", "-1")]
    public void BadOptionsAreRejected(string option, string value)
    {
        var result = CliRunner.Run("score", "--problems", TestData.PathOf("mbpp.jsonl"), "--canonical", option, value);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith(option, result.StdErr); // refused while parsing, naming the flag
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public void NeedsSamplesOrCanonical()
    {
        var result = CliRunner.Run("score", "--problems", TestData.PathOf("mbpp.jsonl"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("exactly one of --samples FILE or --canonical", result.StdErr);
    }
}
