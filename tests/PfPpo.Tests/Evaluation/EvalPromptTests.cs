using PfPpo.Evaluation;

namespace PfPpo.Tests.Evaluation;

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
}
