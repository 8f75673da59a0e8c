using PfPpo.IO;
using PfPpo.Evaluation;

namespace PfPpo.Tests.Evaluation;

public class ProblemSetTests
{
    [Theory]
    [InlineData("humaneval.jsonl", ProblemFormat.HumanEval)]
    [InlineData("mbpp.jsonl", ProblemFormat.Mbpp)]
    [InlineData("leetcode.jsonl", ProblemFormat.LeetCode)]
    [InlineData("structured.jsonl", ProblemFormat.Structured)]
    [InlineData("evalplus.jsonl", ProblemFormat.EvalPlus)]
    public void DetectsTheFormatFromTheFields(string file, ProblemFormat format)
    {
        var set = ProblemSet.Load(TestData.PathOf(file));
        Assert.All(set.Problems, p => Assert.Equal(format, p.Format));
        Assert.All(set.Problems, p => Assert.NotNull(p.Reference));
        Assert.Same(set.Problems[0], set.Find(set.Problems[0].TaskId));
    }

    [Fact]
    public void MbppKeepsSetupCodeAndAddsChallengeTestsOnlyWhenAsked()
    {
        var plain = ProblemSet.Load(TestData.PathOf("mbpp.jsonl"));
        var withChallenge = ProblemSet.Load(TestData.PathOf("mbpp.jsonl"), includeChallengeTests: true);
        var pair = plain.Find("7001")!;
        Assert.Equal("P = Pair(3, 4)", pair.TestSetupCode);
        Assert.Equal(2, pair.TestCount);
        Assert.Equal(3, withChallenge.Find("7001")!.TestCount);
        Assert.Equal("2", plain.Problems[0].TaskId);
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
            Assert.StartsWith($"{array}:[2]: ", e.Message);
            File.WriteAllText(array, "[" + string.Join(",", File.ReadAllLines(TestData.PathOf("mbpp.jsonl"))) + "]");
            Assert.Equal(2, ProblemSet.Load(array).Problems.Count);
        }
        finally
        {
            File.Delete(gz);
            File.Delete(array);
        }
    }
}
