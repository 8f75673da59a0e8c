using PfPpo.Benchmarks;
using PfPpo.Scoring;

namespace PfPpo.Tests.Benchmarks;

public class EvalPromptTests
{
    private static Problem Make(ProblemFormat format, string prompt, string? reference = null, string? entryPoint = null,
        IReadOnlyList<string>? tests = null) =>
        new("t/1", format, prompt, reference, "", entryPoint, "", tests ?? [], [], "test:1");

    [Fact]
    public void HumanEvalStylePromptsAreUsedAsTheyAreAndTheCompletionIsAppended()
    {
        var problem = Make(ProblemFormat.HumanEval, "def f(x):\n    \"\"\"Double x.\"\"\"\n", entryPoint: "f");
        EvalPrompt prompt = EvalPrompt.For(problem);
        Assert.Equal(problem.Prompt, prompt.Text);
        Assert.Equal(SampleKind.Completion, prompt.Kind);
        Assert.Equal("    return 2 * x\n", prompt.Code("    return 2 * x\n"));
    }

    [Fact]
    public void LeetCodeClassStubsAreCompletionPrompts()
    {
        var problem = Make(ProblemFormat.LeetCode, "class Solution:\n    def twoSum(self, nums: List[int]) -> int:\n");
        Assert.Equal(SampleKind.Completion, EvalPrompt.For(problem).Kind);
    }

    [Fact]
    public void MbppGetsTheReferenceSignatureWithTheTextAndFirstTestAsDocstring()
    {
        var problem = Make(ProblemFormat.Mbpp, "Write a function to find the shared elements of two lists.",
            reference: "import math\ndef helper(a):\n    return a\ndef similar_elements(test_tup1, test_tup2):\n  return tuple(set(test_tup1) & set(test_tup2))",
            tests: ["assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))", "assert True"]);
        EvalPrompt prompt = EvalPrompt.For(problem);
        Assert.Equal(SampleKind.Solution, prompt.Kind);
        Assert.Equal(
            "def similar_elements(test_tup1, test_tup2):\n    \"\"\"\n    Write a function to find the shared elements of two lists.\n" +
            "    assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))\n    \"\"\"\n", prompt.Text);
        Assert.Equal(prompt.Text + "    return 1\n", prompt.Code("    return 1\n"));
    }

    [Fact]
    public void MbppWithoutAUsableSignatureAsksForAWholeProgram()
    {
        var problem = Make(ProblemFormat.Mbpp, "Add two numbers.\nReturn the sum.", reference: "add = lambda a, b: a + b",
            tests: ["assert add(1, 2) == 3"]);
        EvalPrompt prompt = EvalPrompt.For(problem);
        Assert.Equal(SampleKind.Solution, prompt.Kind);
        Assert.Equal("# Add two numbers.\n# Return the sum.\n# assert add(1, 2) == 3\n", prompt.Text);
    }

    [Fact]
    public void DeepSeekLeetCodeContestPromptsAreContinuedInsideTheMethod()
    {
        var problem = ProblemSet.Load(TestData.PathOf("leetcode-contest.jsonl")).Problems[0];
        EvalPrompt prompt = EvalPrompt.For(problem);
        Assert.Equal(SampleKind.Completion, prompt.Kind);
        Assert.Equal(problem.Prompt, prompt.Text);
        Assert.EndsWith("def minimumPushes(self, word: str) -> int:\n        ", prompt.Text);
    }

    [Fact]
    public void RealHumanEvalPromptsWithHelperFunctionsAreKept()
    {
        var problem = ProblemSet.Load(TestData.PathOf("humaneval.jsonl")).Find("HumanEval/38")!;
        EvalPrompt prompt = EvalPrompt.For(problem);
        Assert.Equal((problem.Prompt, SampleKind.Completion), (prompt.Text, prompt.Kind));
        Assert.Contains("def encode_cyclic(s: str):", prompt.Text);
    }

    [Theory]
    [InlineData("mbpp.jsonl", "927", "def max_height(node): ", "Write a function to calculate the height of the given binary tree.", "assert (max_height(root)) == 3")]
    [InlineData("sanitized-mbpp.json", "98", "def multiply_num(numbers):  ", "Write a function to multiply all the numbers in a list and divide with the length of the list.",
        "assert math.isclose(multiply_num((8, 2, 3, -1, 7)), -67.2, rel_tol=0.001)")]
    public void RealMbppRecordsGetTheirTextAndFirstTestUnderTheSignature(string file, string taskId, string def, string text, string firstTest)
    {
        var problem = ProblemSet.Load(TestData.PathOf(file)).Find(taskId)!;
        EvalPrompt prompt = EvalPrompt.For(problem);
        Assert.Equal(SampleKind.Solution, prompt.Kind);
        Assert.Equal($"{def.TrimEnd()}\n    \"\"\"\n    {text}\n    {firstTest}\n    \"\"\"\n", prompt.Text);
    }

    [Fact]
    public void MbppPlusDocstringPromptsAreNotQuotedTwice()
    {
        var problem = ProblemSet.Load(TestData.PathOf("evalplus.jsonl")).Find("Mbpp/2")!;
        EvalPrompt prompt = EvalPrompt.For(problem);
        Assert.Equal(SampleKind.Solution, prompt.Kind);
        Assert.Equal("def similar_elements(test_tup1, test_tup2):\n    \"\"\"\n    Write a function to find the shared elements from the given two lists.\n" +
            "    assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))\n    \"\"\"\n", prompt.Text);
    }
}
