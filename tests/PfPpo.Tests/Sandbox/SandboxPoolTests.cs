using PfPpo.Sandbox;

namespace PfPpo.Tests.Sandbox;

[Collection(SandboxCollection.Name)]
public class SandboxPoolTests(SandboxFixture fixture)
{
    private readonly SandboxPool _pool = fixture.Pool;

    [Fact]
    public void UsesBubblewrapWithNothingMissingOnThisMachine()
    {
        Assert.Equal(IsolationLevel.Bubblewrap, _pool.Isolation.Level);
        Assert.Empty(_pool.Isolation.Missing);
        Assert.Equal("", _pool.Isolation.Warning);
    }

    /// <summary>The pool starts its workers without a separate probe program; each worker reports what it sees and a
    /// level is used only when that matches it (the probe's own check).</summary>
    [Fact]
    public void WorkersCheckTheirOwnIsolation()
    {
        Assert.True(Isolation.Verified(IsolationLevel.Bubblewrap, pid1: true, network: false, uid: 65534));
        Assert.False(Isolation.Verified(IsolationLevel.Bubblewrap, pid1: false, network: false, uid: 65534));
        Assert.False(Isolation.Verified(IsolationLevel.Unshare, pid1: true, network: true, uid: 65534));
        Assert.Equal(!Environment.IsPrivilegedProcess, Isolation.Verified(IsolationLevel.Bubblewrap, pid1: true, network: false, uid: 0));
        Assert.True(Isolation.Verified(IsolationLevel.RlimitsOnly, pid1: false, network: true, uid: 0));
        Assert.Equal(Isolation.Probe().Level, _pool.Isolation.Level);
    }

    /// <summary>A problem's plan (proxies, calls sent ahead, fallback or no usable tests) comes from its first task's
    /// harness; its later tasks reuse it and get the verdicts a fresh analysis gives.</summary>
    [Fact]
    public async Task AProblemsPlanIsComputedOnceAndItsLaterTasksGetTheSameVerdicts()
    {
        string tag = Guid.NewGuid().ToString("N");
        string test = $"# {tag}\ndef check(candidate):\n    assert candidate(2) == 4\n    assert candidate(-3) == 9\n    for x in range(3):\n        assert candidate(x) == x * x\n\ncheck({SandboxTask.CandidateName})\n";
        SandboxTask Square(string body) => SandboxTask.ForAsserts($"def sq(x):\n{body}", [test], "sq") with { Context = "def sq(x):\n    \"\"\"x squared\"\"\"\n" };
        int before = _pool.PlansReused;
        var kinds = new List<TestRunKind>();
        foreach (string body in new[] { "    return x * x\n", "    return x + 2\n", "    return x * x\n", "    return abs(x) * 2 if x else 0\n" })
        {
            var result = await _pool.RunAsync(Square(body));
            Assert.True(result.Completed);
            kinds.Add(result.Tests[0].Kind);
        }
        Assert.Equal([TestRunKind.Ran, TestRunKind.AssertionFailed, TestRunKind.Ran, TestRunKind.AssertionFailed], kinds);
        Assert.Equal(before + 3, _pool.PlansReused);

        var unusable = SandboxTask.ForAsserts("def f():\n    return 1\n", [$"# {tag}\nassert True\n"], "f");
        var forced = SandboxTask.ForAsserts("def f():\n    return 1\n", [$"# {tag}\nassert f() == 1\n"], "f") with { InProcess = true };
        for (int i = 0; i < 2; i++)
        {
            Assert.Contains("never refer", (await _pool.RunAsync(unusable)).ProblemError);
            var fallback = await _pool.RunAsync(forced);
            Assert.Equal("requested", fallback.Forgeable);
            Assert.Equal(TestRunKind.Ran, fallback.Tests[0].Kind);
        }
        Assert.Equal(before + 5, _pool.PlansReused);
    }

    [Fact]
    public async Task RunsAssertsAndReportsEachTest()
    {
        var result = await _pool.RunAsync(SandboxTask.ForAsserts("def f(x):\n    print('hello')\n    return x + 1\n",
            ["assert f(1) == 2", "assert f(1) == 3", "raise ValueError('boom')"], "f"));
        Assert.True(result.Completed);
        Assert.Equal([TestRunKind.Ran, TestRunKind.AssertionFailed, TestRunKind.Error], result.Tests.Select(t => t.Kind));
        Assert.Contains("boom", result.Tests[2].Message);
        Assert.Equal("hello\nhello\n", result.Output);
        Assert.Null(result.InfraError);
    }

    [Fact]
    public async Task CallsReturnTaggedValues()
    {
        var result = await _pool.RunAsync(SandboxTask.ForCalls("def f(a, b):\n    return [a + b, (a,), {'k': 0.5}, None, True]\n",
            "f", ["[1, 2]", "[\"x\", \"y\"]"]));
        Assert.True(result.Completed);
        Assert.Equal(TestRunKind.Returned, result.Tests[0].Kind);
        Assert.Equal("""{"l": [{"i": "3"}, {"t": [{"i": "1"}]}, {"d": [[{"s": "k"}, {"f": "0.5"}]]}, {"z": null}, {"b": true}]}""",
            result.Tests[0].Value!.Value.GetRawText());
        Assert.Equal(TestRunKind.Returned, result.Tests[1].Kind);
    }

    /// <summary>Results larger than the worker's first result buffer (64 KiB) arrive whole.</summary>
    [Fact]
    public async Task LargeResultsArriveWhole()
    {
        // About 100 KiB of tagged data; a long limit, since such a value takes a while to cross two processes on a busy machine.
        var task = SandboxTask.ForCalls("def f(n):\n    return list(range(n))\n", "f", ["[8000]", "[3]"])
            with { Limits = SandboxFixture.Limits with { Timeout = TimeSpan.FromSeconds(30), CpuSeconds = 31 } };
        var result = await _pool.RunAsync(task);
        Assert.True(result.Completed, result.TimedOut ? "timed out" : result.SetupError);
        Assert.Equal([TestRunKind.Returned, TestRunKind.Returned], result.Tests.Select(t => t.Kind));
        var items = result.Tests[0].Value!.Value.GetProperty("l");
        Assert.Equal(8000, items.GetArrayLength());
        Assert.Equal("7999", items[7999].GetProperty("i").GetString());
        Assert.Equal(3, result.Tests[1].Value!.Value.GetProperty("l").GetArrayLength());
    }

    [Fact]
    public async Task ManyTasksInParallelAreFastAndIndependent()
    {
        var tasks = Enumerable.Range(0, 40).Select(i => _pool.RunAsync(
            SandboxTask.ForAsserts($"open('f.txt', 'w').write('{i}')\nX = {i}\n", [$"assert X == {i}", $"assert open('f.txt').read() == '{i}'"])));
        var results = await Task.WhenAll(tasks);
        Assert.All(results, r => Assert.All(r.Tests, t => Assert.Equal(TestRunKind.Ran, t.Kind)));
        Assert.True(results.Average(r => r.DurationMs) < 200, $"mean task time {results.Average(r => r.DurationMs)} ms");
    }

    [Fact]
    public async Task PreimportedModulesAreReadyAndEditsToThemStayInTheirTask()
    {
        // The worker imports typing, math, ... before forking (a task's own import of typing took ~5 ms).
        var edits = Enumerable.Range(0, 4).Select(_ => _pool.RunAsync(SandboxTask.ForAsserts(
            "import sys\npreloaded = all(m in sys.modules for m in ('typing', 'math', 'collections', 're'))\n" +
            "import typing, math\ntyping.List = None\nmath.pi = 3\n",
            ["assert preloaded"])));
        Assert.All(await Task.WhenAll(edits), r => Assert.Equal(TestRunKind.Ran, r.Tests[0].Kind));
        var later = Enumerable.Range(0, 4).Select(_ => _pool.RunAsync(SandboxTask.ForAsserts(
            "from typing import List\nimport math\n", ["assert List is not None and List[int] is not None", "assert math.pi > 3.14"])));
        Assert.All(await Task.WhenAll(later), r => Assert.All(r.Tests, t => Assert.Equal(TestRunKind.Ran, t.Kind)));
    }

    [Fact]
    public async Task AWorkerKilledMidTaskIsReplacedAndTheTaskRetried()
    {
        // On a loaded machine the kill can land before the task reached its worker (then it simply runs once on a fresh
        // worker); try a few times until a kill hits the task mid-run, which must then be retried and succeed.
        SandboxResult? retried = null;
        for (int attempt = 0; attempt < 5 && retried is null; attempt++)
        {
            var running = _pool.RunAsync(SandboxTask.ForAsserts("import time\ndef f():\n    time.sleep(1.0)\n    return 1\n", ["assert f() == 1"]));
            await Task.Delay(300 + 150 * attempt);
            // Kill every sandbox worker this test process started (bwrap is the worker's outer process; the tests of
            // this collection run one at a time, so the other pools' workers are idle and must recover on their next task).
            int killed = 0;
            foreach (int pid in ChildProcesses("bwrap"))
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
                killed++;
            }
            Assert.True(killed >= 1);
            SandboxResult result = await running;
            Assert.Null(result.InfraError);
            Assert.Equal(TestRunKind.Ran, result.Tests[0].Kind);
            Assert.InRange(result.Attempts, 1, 3);
            if (result.Attempts >= 2)
            {
                retried = result;
            }
        }
        Assert.True(retried is not null, "no kill landed while the task ran in 5 tries");
        var after = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _pool.RunAsync(SandboxTask.ForAsserts("def f():\n    return 1\n", ["assert f() == 1"]))));
        Assert.All(after, r => Assert.Equal(TestRunKind.Ran, r.Tests[0].Kind));
    }

    private static List<int> ChildProcesses(string name)
    {
        var children = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
                string comm = stat[(open + 1)..close];
                int ppid = int.Parse(stat[(close + 2)..].Split(' ')[1]);
                if (ppid == Environment.ProcessId && comm == name)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }
        return children;
    }
}
