using System.Text.Json;

namespace PfPpo.Benchmarks;

/// <summary>Benchmark formats PfPpo reads; detected from a line's fields (see docs/formats.md).</summary>
public enum ProblemFormat
{
    /// <summary>human-eval / HumanEval+: prompt, canonical_solution, test with check(candidate), entry_point.</summary>
    HumanEval,
    /// <summary>MBPP (original or sanitized): code, test_setup_code, test_list, challenge_test_list.</summary>
    Mbpp,
    /// <summary>LeetCode contest style: human-eval fields with a <c>class Solution:</c> stub.</summary>
    LeetCode,
    /// <summary>PfPpo's own: human-eval fields plus io_tests (inputs and expected outputs, compared outside the sandbox).</summary>
    Structured,
    /// <summary>EvalPlus releases (HumanEval+, MBPP+): base_input + plus_input; expected outputs are the reference
    /// solution's, computed in the sandbox on this machine and compared outside it with <see cref="Problem.Atol"/>.</summary>
    EvalPlus,
}

/// <summary>One structured test: positional arguments and the expected return value, as JSON (undefined for
/// <see cref="ProblemFormat.EvalPlus"/>, whose expected values come from the reference).</summary>
public sealed record IoTest(JsonElement Input, JsonElement Output);

/// <summary>One benchmark problem, in whichever format it came.</summary>
/// <param name="TaskId">The problem's id (MBPP's integer ids become strings).</param>
/// <param name="Format">The detected format.</param>
/// <param name="Prompt">What a completion is appended to (human-eval styles), or MBPP's text.</param>
/// <param name="Reference">The reference program, whole (prompt + canonical_solution, or MBPP's code); null when absent.</param>
/// <param name="Test">human-eval style test code (defines check(candidate), or plain asserts).</param>
/// <param name="EntryPoint">The function under test, as a Python expression (<c>f</c> or <c>Solution().f</c>).</param>
/// <param name="TestSetupCode">MBPP's test_setup_code (plus test_imports).</param>
/// <param name="TestList">MBPP asserts, run one by one after the setup code (challenge tests included when asked).</param>
/// <param name="IoTests">Structured tests.</param>
/// <param name="Source">file:line the problem was read from.</param>
/// <param name="Atol">EvalPlus absolute tolerance for floats (0 means evalplus's default of 1e-6).</param>
public sealed record Problem(
    string TaskId,
    ProblemFormat Format,
    string Prompt,
    string? Reference,
    string Test,
    string? EntryPoint,
    string TestSetupCode,
    IReadOnlyList<string> TestList,
    IReadOnlyList<IoTest> IoTests,
    string Source,
    double Atol = 0)
{
    /// <summary>Number of tests a verdict is split into.</summary>
    public int TestCount => Format switch
    {
        ProblemFormat.Structured or ProblemFormat.EvalPlus => IoTests.Count,
        ProblemFormat.Mbpp => TestList.Count,
        _ => 1,
    };
}

