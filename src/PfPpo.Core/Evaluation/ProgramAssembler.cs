using PfPpo.Sandbox;

namespace PfPpo.Evaluation;

/// <summary>Turns a problem and a candidate program into a sandbox task, the same way for every caller.</summary>
public static class ProgramAssembler
{
    /// <summary>The name under which the worker exposes the guarded entry point to test code.</summary>
    private const string GuardedCandidate = "__pfppo_candidate__";

    /// <summary>The whole program a sample stands for: prompt + completion for human-eval styles, the code itself for
    /// MBPP and for whole solutions.</summary>
    public static string Program(Problem problem, string code, SampleKind kind) =>
        kind == SampleKind.Completion && problem.Format != ProblemFormat.Mbpp ? problem.Prompt + code : code;

    /// <summary>The sandbox task that scores <paramref name="program"/> (a whole program) on <paramref name="problem"/>.</summary>
    public static SandboxTask Build(Problem problem, string program, SandboxLimits? limits = null)
    {
        SandboxTask task = problem.Format switch
        {
            ProblemFormat.Structured => SandboxTask.ForCalls(program, problem.EntryPoint!,
                problem.IoTests.Select(t => t.Input.GetRawText()).ToArray()),
            ProblemFormat.Mbpp => SandboxTask.ForAsserts(program, problem.TestList, entryPoint: null, setup: problem.TestSetupCode)
                with { GuardEntryPoint = false },
            _ => SandboxTask.ForAsserts(program, [HumanEvalTest(problem)], problem.EntryPoint),
        };
        return limits is null ? task : task with { Limits = limits };
    }

    /// <summary>human-eval runs <c>test</c> then <c>check(entry_point)</c>; we pass the guarded entry point instead.
    /// Test code without a check function (plain asserts) runs as it is.</summary>
    private static string HumanEvalTest(Problem problem) =>
        problem.Test.Contains("def check(", StringComparison.Ordinal)
            ? $"{problem.Test}\n\ncheck({GuardedCandidate})\n"
            : problem.Test;
}
