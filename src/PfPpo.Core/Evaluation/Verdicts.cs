using PfPpo.Sandbox;

namespace PfPpo.Evaluation;

/// <summary>Turns a raw sandbox result into verdicts. A sample passes only when every test passed and the harness
/// proved it reached its end; structured outputs are compared here, outside the sandbox.</summary>
public static class Verdicts
{
    public static SampleResult Judge(Problem problem, SandboxResult run)
    {
        int total = problem.TestCount;
        if (run.InfraError is not null)
        {
            return new SampleResult(problem.TaskId, SampleStatus.Error, 0, total, run.DurationMs,
                $"sandbox failure after {run.Attempts} attempt(s): {run.InfraError}", run.Output,
                Enumerable.Range(0, total).Select(i => new TestVerdict(i, TestStatus.Error, run.InfraError)).ToArray());
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
                        : new TestVerdict(i, TestStatus.Failed, $"returned {Preview(t.Value!.Value.GetRawText())}, expected {Preview(problem.IoTests[i].Output.GetRawText())}"),
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
        return new SampleResult(problem.TaskId, status, passed, total, run.DurationMs, error, run.Output, tests);
    }

    private static string Preview(string json) => json.Length <= 200 ? json : json[..200] + "...";
}
