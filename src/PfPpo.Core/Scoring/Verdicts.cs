using System.Text.Json;
using PfPpo.Benchmarks;
using PfPpo.Sandbox;

namespace PfPpo.Scoring;

/// <summary>Turns a raw sandbox result into verdicts. A sample passes only when every test passed and the trusted
/// harness reached its end; structured outputs are compared here, outside the sandbox, always. A problem whose tests
/// are unusable (none, assert nothing, never call the program) is an error, never a pass.</summary>
public static class Verdicts
{
    /// <param name="groundTruth">For <see cref="ProblemFormat.EvalPlus"/>: the reference's tagged return value per test.</param>
    public static SampleResult Judge(Problem problem, SandboxResult run, IReadOnlyList<JsonElement>? groundTruth = null)
    {
        if (problem.Format == ProblemFormat.EvalPlus && groundTruth is null && run.InfraError is null)
        {
            throw new ArgumentException($"{problem.Source}: EvalPlus problem '{problem.TaskId}' needs the reference's outputs to be judged", nameof(groundTruth));
        }
        int total = problem.TestCount;
        if (run.InfraError is not null)
        {
            return new SampleResult(problem.TaskId, SampleStatus.Error, 0, total, run.DurationMs,
                $"sandbox failure after {run.Attempts} attempt(s): {run.InfraError}", run.Output,
                Enumerable.Range(0, total).Select(i => new TestVerdict(i, TestStatus.Error, run.InfraError)).ToArray());
        }
        if (run.ProblemError is not null)
        {
            string unusable = $"{problem.Source}: problem '{problem.TaskId}' has no usable tests: {run.ProblemError}";
            return new SampleResult(problem.TaskId, SampleStatus.Error, 0, total, run.DurationMs, unusable, run.Output,
                Enumerable.Range(0, total).Select(i => new TestVerdict(i, TestStatus.Error, run.ProblemError)).ToArray());
        }
        var tests = new TestVerdict[total];
        for (int i = 0; i < total; i++)
        {
            var t = i < run.Tests.Count ? run.Tests[i] : new TestRun(i, TestRunKind.Error, "did not run");
            tests[i] = t.Kind switch
            {
                _ when run.SetupError is not null => new TestVerdict(i, TestStatus.Error, run.SetupError),
                TestRunKind.Ran => new TestVerdict(i, TestStatus.Passed),
                TestRunKind.Returned when problem.Format == ProblemFormat.Structured =>
                    OutputComparer.Matches(problem.IoTests[i].Output, t.Value!.Value)
                        ? new TestVerdict(i, TestStatus.Passed)
                        : new TestVerdict(i, TestStatus.Failed, $"returned {Preview(PythonRepr.FromTagged(t.Value!.Value))}, expected {Preview(PythonRepr.FromJson(problem.IoTests[i].Output))}"),
                TestRunKind.Returned when problem.Format == ProblemFormat.EvalPlus =>
                    OutputComparer.MatchesTagged(groundTruth![i], t.Value!.Value, problem.Atol)
                        ? new TestVerdict(i, TestStatus.Passed)
                        : new TestVerdict(i, TestStatus.Failed, $"returned {Preview(PythonRepr.FromTagged(t.Value!.Value))}, reference returned {Preview(PythonRepr.FromTagged(groundTruth![i]))}"),
                TestRunKind.Returned => new TestVerdict(i, TestStatus.Error, "unexpected return value"),
                TestRunKind.AssertionFailed => new TestVerdict(i, TestStatus.Failed, t.Message),
                TestRunKind.Timeout => new TestVerdict(i, TestStatus.Timeout, t.Message),
                _ => new TestVerdict(i, TestStatus.Error, t.Message),
            };
        }
        int passed = tests.Count(t => t.Status == TestStatus.Passed);
        SampleStatus status;
        string? error = null;
        if (passed == total && run.Completed && run.SetupError is null)
        {
            status = SampleStatus.Passed;
        }
        else if (run.TimedOut || tests.Any(t => t.Status == TestStatus.Timeout))
        {
            status = SampleStatus.Timeout;
            error = "time limit exceeded";
        }
        else
        {
            status = SampleStatus.Failed;
            error = run.SetupError
                ?? tests.FirstOrDefault(t => t.Status != TestStatus.Passed)?.Message
                ?? (run.Signal is int sig ? $"killed by signal {sig}" : "the program did not run its tests to the end");
        }
        return new SampleResult(problem.TaskId, status, passed, total, run.DurationMs, error, run.Output, tests, run.Forgeable);
    }

    private static string Preview(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
