namespace PfPpo.Sandbox;

/// <summary>How the worker runs a task's tests.</summary>
public enum SandboxMode
{
    /// <summary>Run <see cref="SandboxTask.Setup"/>, then each test snippet in order (asserts) in the trusted harness
    /// process, which calls the program through proxies; a snippet passes when it runs to its end. Tests that cannot
    /// run against proxies run in the program's process instead (<see cref="SandboxResult.Forgeable"/>).</summary>
    Asserts,

    /// <summary>Call the entry point once per input (each call in its own forked process) and return each result
    /// serialised as builtin data, to be compared outside the sandbox.</summary>
    Calls,
}

/// <summary>One program and its tests, as sent to a sandbox worker.</summary>
/// <param name="Solution">The candidate program (prompt + completion, or a whole solution).</param>
/// <param name="Mode">How the tests are run.</param>
/// <param name="EntryPoint">A Python expression naming the function under test (<c>f</c> or <c>Solution().f</c>).</param>
/// <param name="Tests">Test snippets (<see cref="SandboxMode.Asserts"/>), each run after the previous one.</param>
/// <param name="CallInputs">JSON arrays of positional arguments (<see cref="SandboxMode.Calls"/>), one per test.</param>
/// <param name="Setup">Code run after the solution and before the tests (MBPP's test_setup_code).</param>
/// <param name="Limits">Overrides the pool's limits for this task (for example a calibrated timeout).</param>
/// <param name="Context">Trusted code of the problem (the prompt's helpers, LeetCode's prelude) run in the harness
/// before the tests; never the candidate's code.</param>
/// <param name="Reference">The problem's reference solution, only parsed (never run) by the harness to learn which
/// names are classes.</param>
/// <param name="InProcess">Run the tests in the program's process (the forgeable fallback) whatever they look like.</param>
public sealed record SandboxTask(
    string Solution,
    SandboxMode Mode,
    string? EntryPoint,
    IReadOnlyList<string> Tests,
    IReadOnlyList<string> CallInputs,
    string? Setup = null,
    SandboxLimits? Limits = null,
    string? Context = null,
    string? Reference = null,
    bool InProcess = false)
{
    /// <summary>A task whose tests are assert snippets.</summary>
    public static SandboxTask ForAsserts(string solution, IReadOnlyList<string> tests, string? entryPoint = null, string? setup = null) =>
        new(solution, SandboxMode.Asserts, entryPoint, tests, [], setup);

    /// <summary>The name test code uses for the entry point (HumanEval's <c>check(candidate)</c> gets it).</summary>
    public const string CandidateName = "__pfppo_candidate__";

    /// <summary>A task that calls <paramref name="entryPoint"/> with each JSON argument array.</summary>
    public static SandboxTask ForCalls(string solution, string entryPoint, IReadOnlyList<string> callInputs) =>
        new(solution, SandboxMode.Calls, entryPoint, [], callInputs);

    /// <summary>Number of tests the task has.</summary>
    public int TestCount => Mode == SandboxMode.Calls ? CallInputs.Count : Tests.Count;
}
