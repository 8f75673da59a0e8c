using PfPpo.Benchmarks;
using PfPpo.IO;

namespace PfPpo.Tests.Benchmarks;

public class ProblemSetTests
{
    [Theory]
    [InlineData("humaneval.jsonl", ProblemFormat.HumanEval, true)]
    [InlineData("mbpp.jsonl", ProblemFormat.Mbpp, true)]
    [InlineData("sanitized-mbpp.json", ProblemFormat.Mbpp, true)]
    [InlineData("leetcode.jsonl", ProblemFormat.LeetCode, true)]
    [InlineData("leetcode-contest.jsonl", ProblemFormat.LeetCode, false)]
    [InlineData("structured.jsonl", ProblemFormat.Structured, true)]
    [InlineData("evalplus.jsonl", ProblemFormat.EvalPlus, true)]
    public void DetectsTheFormatFromTheFields(string file, ProblemFormat format, bool hasReferences)
    {
        var set = ProblemSet.Load(TestData.PathOf(file));
        Assert.All(set.Problems, p => Assert.Equal(format, p.Format));
        Assert.All(set.Problems, p => Assert.Equal(hasReferences, p.Reference is not null));
        Assert.Same(set.Problems[0], set.Find(set.Problems[0].TaskId));
    }

    [Fact]
    public void MbppKeepsSetupCodeAndAddsChallengeTestsOnlyWhenAsked()
    {
        var plain = ProblemSet.Load(TestData.PathOf("mbpp.jsonl"));
        var withChallenge = ProblemSet.Load(TestData.PathOf("mbpp.jsonl"), includeChallengeTests: true);
        Assert.Equal(["2", "11", "927"], plain.Problems.Select(p => p.TaskId));
        var tree = plain.Find("927")!;
        Assert.StartsWith("root = Node(1) \r\nroot.left = Node(2)", tree.TestSetupCode);
        Assert.StartsWith("class Node:", tree.Reference);
        Assert.Equal("Write a function to calculate the height of the given binary tree.", tree.Prompt);
        Assert.Equal((3, 3), (tree.TestCount, withChallenge.Find("927")!.TestCount));
        Assert.Equal((3, 5), (plain.Find("11")!.TestCount, withChallenge.Find("11")!.TestCount));
    }

    [Fact]
    public void SanitizedMbppReadsPromptAndPutsTestImportsBeforeTheTests()
    {
        var set = ProblemSet.Load(TestData.PathOf("sanitized-mbpp.json"));
        Assert.Equal(["2", "56", "98", "126"], set.Problems.Select(p => p.TaskId));
        var mean = set.Find("98")!;
        Assert.Equal("Write a function to multiply all the numbers in a list and divide with the length of the list.", mean.Prompt);
        Assert.Equal("import math\n", mean.TestSetupCode);
        Assert.StartsWith("def multiply_num(numbers):", mean.Reference);
        Assert.Equal("", set.Find("2")!.TestSetupCode);
        Assert.Equal($"{TestData.PathOf("sanitized-mbpp.json")}:[2]", mean.Source);
    }

    [Fact]
    public void DeepSeekLeetCodeContestRecordsNeedNoEntryPointAndHaveNoReference()
    {
        var problem = ProblemSet.Load(TestData.PathOf("leetcode-contest.jsonl")).Problems[0];
        Assert.Equal("weekly-contest-381-minimum-number-of-pushes-to-type-word-i", problem.TaskId);
        Assert.Equal(ProblemFormat.LeetCode, problem.Format);
        Assert.Null(problem.EntryPoint);
        Assert.Null(problem.Reference);
        Assert.StartsWith("\"\"\"\nYou are given a string word", problem.Prompt);
        Assert.EndsWith("class Solution:\n    def minimumPushes(self, word: str) -> int:\n        ", problem.Prompt);
        Assert.StartsWith("\nmy_solution = Solution()\n", problem.Test);
        Assert.Equal(1, problem.TestCount);
    }

    [Fact]
    public void StructuredTestsKeepInputsAndOutputs()
    {
        var problem = ProblemSet.Load(TestData.PathOf("structured.jsonl")).Problems[0];
        Assert.Equal(3, problem.TestCount);
        Assert.Equal("[[1, 2, 3], 2]", problem.IoTests[0].Input.GetRawText());
        Assert.Equal("sum_pairs", problem.EntryPoint);
    }

    [Theory]
    [InlineData("{\"task_id\": \"a\", \"prompt\": \"x\"", "invalid JSON")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("{\"prompt\": \"x\", \"test\": \"y\", \"entry_point\": \"f\"}", "missing field 'task_id'")]
    [InlineData("{\"task_id\": \"a\", \"prompt\": \"x\", \"test\": \"y\"}", "missing field 'entry_point'")]
    [InlineData("{\"task_id\": \"a\", \"prompt\": 3, \"test\": \"y\", \"entry_point\": \"f\"}", "field 'prompt' must be a string")]
    [InlineData("{\"task_id\": \"a\", \"prompt\": \"x\", \"entry_point\": \"f\", \"io_tests\": [{\"input\": 1, \"output\": 2}]}", "io_tests[0]: 'input' must be an array")]
    [InlineData("{\"task_id\": \"a\", \"prompt\": \"x\", \"entry_point\": \"f\", \"io_tests\": [{\"input\": [1]}]}", "io_tests[0]: missing 'output'")]
    [InlineData("{\"task_id\": 1, \"code\": \"x\", \"test_list\": []}", "field 'test_list' is empty")]
    [InlineData("{\"task_id\": \"a\", \"title\": \"x\"}", "cannot tell the format")]
    public void MalformedLinesNameFileLineAndProblem(string badLine, string message)
    {
        string good = "{\"task_id\": \"ok\", \"prompt\": \"def f():\\n\", \"test\": \"\", \"entry_point\": \"f\"}";
        using var file = new TestData.TempFile(good, "", badLine);
        var e = Assert.Throws<DataFormatException>(() => ProblemSet.Load(file.Path));
        Assert.StartsWith($"{file.Path}:3: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void DuplicateTaskIdsAreRejected()
    {
        string line = "{\"task_id\": \"a\", \"prompt\": \"def f():\\n\", \"test\": \"\", \"entry_point\": \"f\"}";
        using var file = new TestData.TempFile(line, line);
        var e = Assert.Throws<DataFormatException>(() => ProblemSet.Load(file.Path));
        Assert.Contains(":2: duplicate task_id 'a'", e.Message);
    }

    [Fact]
    public void ReadsGzippedJsonlAndJsonArrays()
    {
        string gz = Path.Combine(Path.GetTempPath(), $"pfppo-test-{Guid.NewGuid():N}.jsonl.gz");
        string array = Path.Combine(Path.GetTempPath(), $"pfppo-test-{Guid.NewGuid():N}.json");
        try
        {
            using (var file = File.Create(gz))
            using (var zip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
            {
                File.OpenRead(TestData.PathOf("humaneval.jsonl")).CopyTo(zip);
            }
            Assert.Equal(["HumanEval/0", "HumanEval/38"], ProblemSet.Load(gz).Problems.Select(p => p.TaskId));

            File.WriteAllText(array, "[" + string.Join(",", File.ReadAllLines(TestData.PathOf("mbpp.jsonl"))) + ",\n{\"task_id\": 9}]");
            var e = Assert.Throws<DataFormatException>(() => ProblemSet.Load(array));
            Assert.StartsWith($"{array}:[3]: ", e.Message);
            File.WriteAllText(array, "[" + string.Join(",", File.ReadAllLines(TestData.PathOf("mbpp.jsonl"))) + "]");
            Assert.Equal(3, ProblemSet.Load(array).Problems.Count);
        }
        finally
        {
            File.Delete(gz);
            File.Delete(array);
        }
    }
}
