using PfPpo.Benchmarks;
using PfPpo.IO;

namespace PfPpo.Tests.Benchmarks;

public class SampleFileTests
{
    [Fact]
    public void ReadsCompletionsAndSolutionsInOrder()
    {
        using var file = new TestData.TempFile(
            "{\"task_id\": \"HumanEval/0\", \"completion\": \"    return 1\\n\"}",
            "{\"task_id\": 2, \"solution\": \"```python\\ndef f():\\n    return 2\\n```\\nSome prose.\"}");
        var samples = SampleFile.Load(file.Path);
        Assert.Equal(2, samples.Count);
        Assert.Equal(("HumanEval/0", SampleKind.Completion, "    return 1\n"), (samples[0].TaskId, samples[0].Kind, samples[0].Code));
        Assert.Equal(("2", SampleKind.Solution, "def f():\n    return 2\n"), (samples[1].TaskId, samples[1].Kind, samples[1].Code));
    }

    [Theory]
    [InlineData("no fences\n", "no fences\n")]
    [InlineData("Here:\n```py\nx = 1\n```\nand\n```python\ny = 2\n```\n", "x = 1\n\ny = 2\n")]
    [InlineData("```bash\nls\n```\n```\nz = 3\n```", "z = 3\n")]
    [InlineData("```python\nunterminated = True\n", "unterminated = True\n")]
    public void ExtractsCodeFromMarkdownFences(string text, string code) => Assert.Equal(code, SampleFile.ExtractCode(text));

    [Theory]
    [InlineData("{\"completion\": \"x\"}", "missing field 'task_id'")]
    [InlineData("{\"task_id\": \"a\"}", "exactly one of 'completion' or 'solution'")]
    [InlineData("{\"task_id\": \"a\", \"completion\": \"x\", \"solution\": \"y\"}", "exactly one of")]
    [InlineData("{\"task_id\": \"a\", \"completion\": 5}", "field 'completion' must be a string")]
    [InlineData("not json", "invalid JSON")]
    public void MalformedSamplesNameFileAndLine(string line, string message)
    {
        using var file = new TestData.TempFile("{\"task_id\": \"a\", \"completion\": \"x\"}", line);
        var e = Assert.Throws<DataFormatException>(() => SampleFile.Load(file.Path));
        Assert.StartsWith($"{file.Path}:2: ", e.Message);
        Assert.Contains(message, e.Message);
    }
}
