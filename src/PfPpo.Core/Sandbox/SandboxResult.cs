using System.Text.Json;

namespace PfPpo.Sandbox;

/// <summary>What happened to one test inside the sandbox.</summary>
public enum TestRunKind
{
    /// <summary>An assert snippet ran to its end.</summary>
    Ran,
    /// <summary>A call returned; <see cref="TestRun.Value"/> holds the type-tagged value to compare outside.</summary>
    Returned,
    /// <summary>An assertion failed.</summary>
    AssertionFailed,
    /// <summary>The test raised something other than AssertionError, or its process died.</summary>
    Error,
    /// <summary>The test did not finish in time (or never ran because the task ran out of time).</summary>
    Timeout,
}

/// <summary>The raw outcome of one test.</summary>
public sealed record TestRun(int Index, TestRunKind Kind, string? Message = null, JsonElement? Value = null);

/// <summary>The raw outcome of one task. Verdicts are derived from it by the evaluation layer.</summary>
/// <param name="Completed">The trusted harness reached its end and exited cleanly.</param>
/// <param name="TimedOut">The task hit its wall-clock budget.</param>
/// <param name="ExitCode">Exit status of the task process, when it exited.</param>
/// <param name="Signal">Signal that killed the task process, when it was killed.</param>
/// <param name="SetupError">The solution (or setup code) raised before any test ran.</param>
/// <param name="Tests">One entry per test, in order.</param>
/// <param name="Output">Captured stdout+stderr, capped.</param>
/// <param name="OutputTruncated">More output was produced than kept.</param>
/// <param name="DurationMs">Wall time of the task inside the worker.</param>
/// <param name="InfraError">The sandbox itself failed (after retries); no verdict may be drawn from this result.</param>
/// <param name="Attempts">How many times the task was sent to a worker.</param>
/// <param name="ProblemError">The problem's tests are unusable (none, assert nothing, never call the program).</param>
/// <param name="Forgeable">Why the tests ran in the program's own process (so a hostile program could forge them);
/// null when they ran in the trusted harness.</param>
public sealed record SandboxResult(
    bool Completed,
    bool TimedOut,
    int? ExitCode,
    int? Signal,
    string? SetupError,
    IReadOnlyList<TestRun> Tests,
    string Output,
    bool OutputTruncated,
    double DurationMs,
    string? InfraError,
    int Attempts,
    string? ProblemError = null,
    string? Forgeable = null)
{
    /// <summary>A result for a task the sandbox could not run.</summary>
    public static SandboxResult Infrastructure(string error, int testCount, int attempts) => new(
        false, false, null, null, null,
        Enumerable.Range(0, testCount).Select(i => new TestRun(i, TestRunKind.Error, error)).ToArray(),
        "", false, 0, error, attempts);
}

/// <summary>The sandbox (not the program in it) failed: a worker crashed, could not start, or broke the protocol.</summary>
public sealed class SandboxInfrastructureException(string message, Exception? inner = null) : Exception(message, inner);
