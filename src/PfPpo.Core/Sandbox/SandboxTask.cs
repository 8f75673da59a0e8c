namespace PfPpo.Sandbox;

/// <summary>How the worker runs a task's tests.</summary>
public enum SandboxMode
{
    /// <summary>Run <see cref="SandboxTask.Setup"/>, then each test snippet in order (asserts); a snippet passes when it
    /// runs to its end. The task only counts as completed when the worker saw the harness reach its end.</summary>
    Asserts,

    /// <summary>Call the entry point once per input (each call in its own forked process) and return each result
    /// serialised with exact builtin types only, to be compared outside the sandbox.</summary>
    Calls,
}

/// <summary>One program and its tests, as sent to a sandbox worker.</summary>
/// <param name="Solution">The candidate program (prompt + completion, or a whole solution).</param>
/// <param name="Mode">How the tests are run.</param>
/// <param name="EntryPoint">A Python expression naming the function under test (<c>f</c> or <c>Solution().f</c>).</param>
/// <param name="Tests">Test snippets (<see cref="SandboxMode.Asserts"/>), each run after the previous one.</param>
/// <param name="CallInputs">JSON arrays of positional arguments (<see cref="SandboxMode.Calls"/>), one per test.</param>
/// <param name="Setup">Code run after the solution and before the tests (MBPP's test_setup_code).</param>
/// <param name="GuardEntryPoint">Wrap the entry point so that it may only return exact builtin values (defeats objects
/// whose <c>__eq__</c> is always true in assert-based tests).</param>
/// <param name="Limits">Overrides the pool's limits for this task (for example a calibrated timeout).</param>
public sealed record SandboxTask(
    string Solution,
    SandboxMode Mode,
    string? EntryPoint,
    IReadOnlyList<string> Tests,
    IReadOnlyList<string> CallInputs,
    string? Setup = null,
    bool GuardEntryPoint = true,
    SandboxLimits? Limits = null)
{
    /// <summary>A task whose tests are assert snippets.</summary>
    public static SandboxTask ForAsserts(string solution, IReadOnlyList<string> tests, string? entryPoint = null, string? setup = null) =>
        new(solution, SandboxMode.Asserts, entryPoint, tests, [], setup);

    /// <summary>A task that calls <paramref name="entryPoint"/> with each JSON argument array.</summary>
    public static SandboxTask ForCalls(string solution, string entryPoint, IReadOnlyList<string> callInputs) =>
        new(solution, SandboxMode.Calls, entryPoint, [], callInputs);

    /// <summary>Number of tests the task has.</summary>
    public int TestCount => Mode == SandboxMode.Calls ? CallInputs.Count : Tests.Count;
}
