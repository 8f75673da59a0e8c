
namespace PfPpo.Scoring;

/// <summary>Overall verdict of one sample. <see cref="Error"/> is an infrastructure fault: the sample is neither
/// passed nor failed and is left out of pass@k.</summary>
public enum SampleStatus { Passed, Failed, Timeout, Error }

/// <summary>Verdict of one test of a sample.</summary>
public enum TestStatus { Passed, Failed, Error, Timeout }

/// <summary>One test's verdict, with the reason when it did not pass.</summary>
public sealed record TestVerdict(int Index, TestStatus Status, string? Message = null);

/// <summary>The score of one sample.</summary>
/// <param name="Forgeable">The problem's tests could not run against proxies and ran in the program's own process,
/// so a hostile program could have forged this verdict (<see cref="ForgeableReason"/> says why).</param>
public sealed record SampleResult(
    string TaskId,
    SampleStatus Status,
    int TestsPassed,
    int TestsTotal,
    double DurationMs,
    string? Error,
    string Output,
    IReadOnlyList<TestVerdict> Tests,
    string? ForgeableReason = null)
{
    public bool Forgeable => ForgeableReason is not null;

    public bool Passed => Status == SampleStatus.Passed;
}
