using System.Text.RegularExpressions;
using PfPpo.Benchmarks;
using PfPpo.Sandbox;

namespace PfPpo.Scoring;

/// <summary>Turns a problem and a candidate program into a sandbox task, the same way for every caller.</summary>
public static partial class ProgramAssembler
{
    /// <summary>The whole program a sample stands for: prompt + completion for human-eval styles, the code itself for
    /// MBPP and for whole solutions.</summary>
    public static string Program(Problem problem, string code, SampleKind kind) => problem.Format switch
    {
        ProblemFormat.LeetCode => kind == SampleKind.Completion ? LeetCodeProgram(problem.Prompt, code) : LeetCodePrelude + code,
        ProblemFormat.Mbpp => code,
        _ => kind == SampleKind.Completion ? problem.Prompt + code : code,
    };

    /// <summary>The names LeetCode's Python judge provides without imports (solutions use List, defaultdict, heapq,
    /// inf, ... freely). It covers the imports DeepSeek-Coder's LeetCode contest harness prepends (but numpy) and the
    /// star imports LeetCodeDataset's prompts start with.</summary>
    public const string LeetCodePrelude =
        "import math\nimport re\nimport sys\nimport copy\nimport datetime\nimport itertools\nimport collections\n" +
        "import heapq\nimport bisect\nimport functools\nimport hashlib\nimport string\n" +
        "from typing import *\nfrom functools import *\nfrom collections import *\nfrom itertools import *\n" +
        "from heapq import *\nfrom bisect import *\nfrom string import *\nfrom operator import *\nfrom math import *\n" +
        "inf = float('inf')\n\n";

    /// <summary>A LeetCode program: the prelude, then prompt + completion when the completion continues the prompt
    /// (the body of the prompt's <c>class Solution:</c> stub). A completion that writes the whole <c>class Solution</c>
    /// replaces the prompt's stub: what the prompt defines before the stub (imports, ListNode / TreeNode helpers) is
    /// kept when it is code, and dropped when it is a problem statement.</summary>
    public static string LeetCodeProgram(string prompt, string completion)
    {
        if (!SolutionClass().IsMatch(completion))
        {
            return LeetCodePrelude + prompt + completion;
        }
        Match stub = SolutionClass().Match(prompt);
        string preamble = stub.Success ? prompt[..stub.Index] : prompt;
        return LeetCodePrelude + (IsCode(preamble) ? preamble : "") + completion;
    }

    /// <summary>True when every non-blank line of <paramref name="text"/> looks like Python (an import, a comment, a
    /// definition or indented code), as opposed to a problem statement in prose.</summary>
    private static bool IsCode(string text) => text.Split('\n').All(line =>
        line.Trim().Length == 0 || line.StartsWith(' ') || line.StartsWith('\t') || line.StartsWith('#') || line.StartsWith('@')
        || line.StartsWith("from ", StringComparison.Ordinal) || line.StartsWith("import ", StringComparison.Ordinal)
        || line.StartsWith("class ", StringComparison.Ordinal) || line.StartsWith("def ", StringComparison.Ordinal)
        || line.StartsWith("\"\"\"", StringComparison.Ordinal) || line.Contains(" = ", StringComparison.Ordinal));

    /// <summary>The sandbox task that scores <paramref name="program"/> (a whole program) on <paramref name="problem"/>.
    /// The tests run in the trusted harness: HumanEval's <c>check</c> gets a proxy of the entry point, MBPP's asserts
    /// call proxies by name, LeetCode's <c>Solution()</c> is a proxy class; the prompt (and LeetCode's prelude) is the
    /// harness's trusted context, so helpers it defines (HumanEval's <c>poly</c>, <c>encode_cyclic</c>) are the
    /// problem's own, never the candidate's.</summary>
    public static SandboxTask Build(Problem problem, string program, SandboxLimits? limits = null)
    {
        SandboxTask task = problem.Format switch
        {
            ProblemFormat.Structured or ProblemFormat.EvalPlus => SandboxTask.ForCalls(program, problem.EntryPoint!,
                problem.IoTests.Select(t => t.Input.GetRawText()).ToArray()),
            ProblemFormat.Mbpp => SandboxTask.ForAsserts(program, problem.TestList, entryPoint: null, setup: problem.TestSetupCode)
                with { Reference = problem.Reference },
            ProblemFormat.LeetCode => (HasCheck(problem) && problem.EntryPoint is not null
                    ? SandboxTask.ForAsserts(program, [CheckCall(problem)], problem.EntryPoint)
                    : SandboxTask.ForAsserts(program, [problem.Test], "Solution"))
                with { Context = LeetCodePrelude + LeetCodeContext(problem.Prompt), Reference = problem.Reference },
            _ when HasCheck(problem) && problem.EntryPoint is not null => SandboxTask.ForAsserts(program, [CheckCall(problem)], problem.EntryPoint)
                with { Context = problem.Prompt, Reference = problem.Reference },
            _ => SandboxTask.ForAsserts(program, [problem.Test], problem.EntryPoint) with { Context = problem.Prompt, Reference = problem.Reference },
        };
        return limits is null ? task : task with { Limits = limits };
    }

    private static string CheckCall(Problem problem) => $"{problem.Test}\n\ncheck({SandboxTask.CandidateName})\n";

    /// <summary>What of a LeetCode prompt the harness may run: the part before <c>class Solution</c> when it is code
    /// (ListNode / TreeNode helpers, imports); a problem statement in prose is dropped.</summary>
    private static string LeetCodeContext(string prompt)
    {
        Match stub = SolutionClass().Match(prompt);
        string preamble = stub.Success ? prompt[..stub.Index] : prompt;
        return IsCode(preamble) ? preamble : "";
    }

    /// <summary>human-eval runs <c>test</c> then <c>check(entry_point)</c>; we pass the entry point's proxy instead.
    /// Test code without a check function (plain asserts) runs as it is.</summary>
    private static bool HasCheck(Problem problem) => problem.Test.Contains("def check(", StringComparison.Ordinal);

    /// <summary>A top-level <c>class Solution</c> definition.</summary>
    [GeneratedRegex(@"^class Solution\b", RegexOptions.Multiline)]
    private static partial Regex SolutionClass();
}
