using PfPpo.Evaluation;
using PfPpo.Scoring;

namespace PfPpo.Tests.Scoring;

public class ProgramAssemblerTests
{
    private const string Stub = "class Solution:\n    def f(self, x: int) -> int:\n        ";
    private const string WholeClass = "class Solution:\n    def f(self, x: int) -> int:\n        return x\n";

    [Fact]
    public void LeetCodeCompletionsContinueThePromptsStub()
    {
        string program = ProgramAssembler.LeetCodeProgram("\"\"\"\nReturn x.\n\"\"\"\n" + Stub, "return x\n");
        Assert.Equal(ProgramAssembler.LeetCodePrelude + "\"\"\"\nReturn x.\n\"\"\"\n" + Stub + "return x\n", program);
    }

    [Theory]
    [InlineData("\"\"\"\nYou are given an integer x.\nReturn x.\n\"\"\"\n" + Stub, "")] // DeepSeek-Coder contest: statement + stub
    [InlineData(Stub, "")] // a bare stub
    [InlineData("You are given an integer x. Return x.\n", "")] // a statement in prose
    [InlineData("from typing import *\n\nclass ListNode:\n    def __init__(self, val=0, next=None):\n        self.val = val\n        self.next = next\n",
        "from typing import *\n\nclass ListNode:\n    def __init__(self, val=0, next=None):\n        self.val = val\n        self.next = next\n")] // LeetCodeDataset helpers
    public void AWholeClassReplacesTheStubAndKeepsOnlyPromptCode(string prompt, string kept)
    {
        Assert.Equal(ProgramAssembler.LeetCodePrelude + kept + WholeClass, ProgramAssembler.LeetCodeProgram(prompt, WholeClass));
    }
}
