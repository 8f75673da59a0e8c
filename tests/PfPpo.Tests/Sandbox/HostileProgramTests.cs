using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using PfPpo.Benchmarks;
using PfPpo.Scoring;
using PfPpo.Tests.Benchmarks;

namespace PfPpo.Tests.Sandbox;

/// <summary>Programs a policy under RL pressure might write. Each must be contained, scored as it should be, leave
/// nothing behind, and the pool must still give correct verdicts afterwards.</summary>
[Collection(SandboxCollection.Name)]
public class HostileProgramTests(SandboxFixture fixture)
{
    private static readonly Problem AddAsserts = ProblemSet.Parse(JsonDocument.Parse("""
        {"task_id": "add", "prompt": "def add(a, b):\n", "canonical_solution": "    return a + b\n",
         "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n", "entry_point": "add"}
        """).RootElement, "inline:1");

    private static readonly Problem AddStructured = ProblemSet.Parse(JsonDocument.Parse("""
        {"task_id": "add-io", "prompt": "def add(a, b):\n", "canonical_solution": "    return a + b\n", "entry_point": "add",
         "io_tests": [{"input": [1, 2], "output": 3}, {"input": [-1, 1], "output": 0}, {"input": [2, 2], "output": 4}]}
        """).RootElement, "inline:1");

    private Task<SampleResult> Score(Problem problem, string completion) =>
        fixture.Scorer.ScoreOneAsync(new ScoreRequest(problem, completion));

    private async Task AssertStillServes()
    {
        // Both workers must still answer correctly: run enough tasks to reach each of them.
        var good = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Score(AddAsserts, "    return a + b\n")));
        Assert.All(good, r => Assert.Equal(SampleStatus.Passed, r.Status));
        var bad = await Score(AddStructured, "    return a - b\n");
        Assert.Equal(SampleStatus.Failed, bad.Status);
        Assert.Equal(0, bad.TestsPassed); // 1 - 2 != 3, -1 - 1 != 0, 2 - 2 != 4
    }

    private static void AssertContained(SampleResult result, params SampleStatus[] allowed)
    {
        Assert.Contains(result.Status, allowed);
        Assert.NotEqual(SampleStatus.Error, result.Status);
    }

    [Fact]
    public async Task ForkBombIsBoundedAndCleanedUp()
    {
        var result = await Score(AddAsserts, "    return a + b\nimport os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n");
        AssertContained(result, SampleStatus.Timeout, SampleStatus.Failed);
        await AssertStillServes();
    }

    [Fact]
    public async Task MemoryBombFails()
    {
        var result = await Score(AddAsserts, "    return a + b\nblocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))\n");
        AssertContained(result, SampleStatus.Failed);
        Assert.Contains("MemoryError", result.Error);
        await AssertStillServes();
    }

    [Theory]
    [InlineData("    while True:\n        pass\n")]
    [InlineData("    import time\n    time.sleep(30)\n")]
    [InlineData("    import signal\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n    signal.alarm(1)\n    while True:\n        pass\n")]
    public async Task RunawayProgramsTimeOut(string body)
    {
        var started = DateTime.UtcNow;
        var result = await Score(AddAsserts, body);
        Assert.Equal(SampleStatus.Timeout, result.Status);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(8), "the wall clock must stop it");
        await AssertStillServes();
    }

    [Fact]
    public async Task OutputFloodIsCappedAndTimesOut()
    {
        var result = await Score(AddAsserts, "    return a + b\nwhile True:\n    print('x' * 10000)\n");
        AssertContained(result, SampleStatus.Timeout);
        Assert.True(result.Output.Length <= SandboxFixture.Limits.MaxOutputBytes);
        await AssertStillServes();
    }

    [Fact]
    public async Task HugeReturnValueFailsThatTest()
    {
        var result = await Score(AddStructured, "    return [a + b] * 30_000_000\n");
        AssertContained(result, SampleStatus.Failed);
        Assert.Equal(0, result.TestsPassed);
        await AssertStillServes();
    }

    [Fact]
    public async Task NetworkIsUnreachable()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var result = await Score(AddAsserts, $"    return a + b\nimport socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1).close()\n");
        AssertContained(result, SampleStatus.Failed);
        Assert.False(listener.Pending(), "a sandboxed program reached a host socket");
        await AssertStillServes();
    }

    [Fact]
    public async Task WritesOutsideTheWorkDirDoNotReachTheHost()
    {
        string marker = $"pfppo-escape-{Guid.NewGuid():N}";
        string[] targets = [$"/tmp/{marker}", $"/{marker}", $"/usr/{marker}", $"/var/tmp/{marker}", $"/dev/shm/{marker}"];
        string writes = string.Join("", targets.Select(t => $"try:\n    open('{t}', 'w').write('x')\nexcept OSError:\n    pass\n"));
        // Try to regain write access first: remount the root read-write, become root.
        string escalate = "import subprocess, os\nfor cmd in (['/usr/bin/mount', '-o', 'remount,rw', '/'], ['/usr/bin/mount', '-o', 'remount,rw', '/usr']):\n" +
            "    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\ntry:\n    os.setuid(0)\nexcept OSError:\n    pass\n";
        var result = await Score(AddAsserts, "    return a + b\n" + escalate + writes);
        Assert.Equal(SampleStatus.Passed, result.Status); // the program itself is correct; its writes just went nowhere
        Assert.All(targets, t => Assert.False(File.Exists(t), $"{t} exists on the host"));
        await AssertStillServes();
    }

    [Fact]
    public async Task ShadowedStandardModulesDoNotLeakIntoLaterTasks()
    {
        string shadow = "    return a + b\nimport os, sys\nfor d in ('.', '/tmp'):\n    for m in ('json', 'collections', 'math', 're'):\n        try:\n            open(os.path.join(d, m + '.py'), 'w').write('raise SystemExit(0)')\n        except OSError:\n            pass\nsys.modules['math'] = None\n";
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Score(AddAsserts, shadow)));
        var later = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Score(AddAsserts,
            "    import json, collections, math, re, os\n    assert not os.listdir('.')\n    return json.loads(json.dumps(int(math.floor(a + b))))\n")));
        Assert.All(later, r => Assert.Equal(SampleStatus.Passed, r.Status));
    }

    [Fact]
    public async Task TheParentsEnvironmentAndProcessesAreInvisible()
    {
        var result = await Score(AddAsserts, "    return a + b\nimport os\n" +
            "assert set(os.environ) <= {'PATH', 'LANG', 'LC_CTYPE', 'PWD'}, dict(os.environ)\n" +
            "assert os.getuid() == 65534\n" +
            "assert len([p for p in os.listdir('/proc') if p.isdigit()]) <= 3\n");
        Assert.Equal(SampleStatus.Passed, result.Status);
    }

    [Theory]
    [InlineData("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n")]
    [InlineData("import os, signal\nos.kill(1, signal.SIGKILL)\nos.kill(1, signal.SIGTERM)\nos.kill(1, signal.SIGINT)\n")]
    [InlineData("import os, signal\nos.kill(-1, signal.SIGKILL)\n")]
    public async Task KillingTheParentFailsTheSampleNotThePool(string code)
    {
        // The worker is PID 1 of its namespace: these signals are dropped (a correct program still passes) or
        // kill only the task itself (it fails). Never an infrastructure error, never a broken pool.
        var result = await Score(AddAsserts, "    return a + b\n" + code);
        AssertContained(result, SampleStatus.Passed, SampleStatus.Failed);
        await AssertStillServes();
    }

    [Fact]
    public async Task DaemonsDoNotOutliveTheRun()
    {
        string marker = $"pfppo-daemon-{Guid.NewGuid():N}";
        string daemon = "    return a + b\nimport os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n" +
            $"        os.execv('/usr/bin/python3', ['python3', '-c', 'import time; time.sleep(60)  # {marker}'])\n    os._exit(0)\nos.wait()\n";
        var result = await Score(AddAsserts, daemon);
        Assert.Equal(SampleStatus.Passed, result.Status);
        await Task.Delay(200);
        Assert.Empty(ProcessesWithMarker(marker));
        await AssertStillServes();
    }

    [Theory]
    [InlineData("    return 0\nimport sys\nsys.exit(0)\n")]
    [InlineData("    return 0\nimport os\nos._exit(0)\n")]
    [InlineData("    import sys\n    sys.exit(0)\n")]
    [InlineData("    import os\n    os._exit(0)\n")]
    [InlineData("    return 0\nimport atexit, os\natexit.register(lambda: os._exit(0))\n")]
    [InlineData("    return 0\nimport builtins\nbuiltins.AssertionError = type('Nope', (Exception,), {})\n")]
    [InlineData("    return 0\nimport sys\ndef skip(frame, event, arg):\n    if event == 'line' and frame.f_code.co_filename.startswith('test'):\n        try:\n            frame.f_lineno = frame.f_code.co_firstlineno + 1000\n        except ValueError:\n            pass\n    return skip\nsys.settrace(skip)\n")]
    [InlineData("    return 0\nimport os\nfor fd in range(3, 1024):\n    try:\n        os.write(fd, b'{\"done\": \"0\"}\\n{\"i\": 0, \"ok\": true}\\n')\n    except OSError:\n        pass\nprint('{\"id\": 1, \"done\": true, \"tests\": [{\"ok\": true}]}')\nos._exit(0)\n")]
    public async Task ExitAndProtocolTricksFail(string completion)
    {
        var result = await Score(AddAsserts, completion);
        AssertContained(result, SampleStatus.Failed);
        var structured = await Score(AddStructured, completion);
        AssertContained(structured, SampleStatus.Failed);
        await AssertStillServes();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AlwaysEqualObjectsFail(bool structured)
    {
        string code = "    class Any:\n        def __eq__(self, other):\n            return True\n        def __ne__(self, other):\n            return False\n    return Any()\n";
        var result = await Score(structured ? AddStructured : AddAsserts, code);
        AssertContained(result, SampleStatus.Failed);
        Assert.Equal(0, result.TestsPassed);
        var subclass = await Score(structured ? AddStructured : AddAsserts,
            "    class Int(int):\n        def __eq__(self, other):\n            return True\n    return Int(a + b + 1)\n");
        AssertContained(subclass, SampleStatus.Failed);
        var borrowed = await Score(structured ? AddStructured : AddAsserts,
            "    class Int(int):\n        __eq__ = int.__ne__\n    return Int(a + b + 12345)\n");
        AssertContained(borrowed, SampleStatus.Failed);
        var mock = await Score(structured ? AddStructured : AddAsserts, "    from unittest.mock import ANY\n    return [ANY][0]\n");
        AssertContained(mock, SampleStatus.Failed);
    }

    [Theory]
    [InlineData("class Any:\n    def __eq__(self, other):\n        return True\ndef similar_elements(a, b):\n    return Any()\n")]
    [InlineData("class Any(tuple):\n    __eq__ = lambda self, other: True\ndef similar_elements(a, b):\n    return [Any()][0]\n")]
    [InlineData("from unittest.mock import ANY\ndef similar_elements(a, b):\n    return ANY\n")]
    public async Task AlwaysEqualObjectsFailMbppAsserts(string program)
    {
        var mbpp = ProblemSet.Load(TestData.PathOf("mbpp.jsonl")).Find("2")!;
        var result = await fixture.Scorer.ScoreOneAsync(new ScoreRequest(mbpp, program, SampleKind.Solution));
        AssertContained(result, SampleStatus.Failed);
        Assert.Equal(0, result.TestsPassed);
    }

    [Fact]
    public async Task AlwaysEqualObjectsFailLeetCodeContestAsserts()
    {
        var contest = ProblemSet.Load(TestData.PathOf("leetcode-contest.jsonl")).Problems[0];
        // The prompt ends with the method body's indentation, so the completion's first line is not indented.
        var result = await fixture.Scorer.ScoreOneAsync(new ScoreRequest(contest,
            "class Any:\n            def __eq__(self, other):\n                return True\n        return Any()\n"));
        AssertContained(result, SampleStatus.Failed);
    }

    [Fact]
    public async Task FillingTheMemoryBackedTmpIsBounded()
    {
        var result = await Score(AddAsserts, "    return a + b\nfor i in range(1000):\n    try:\n        open(f'/tmp/fill{i}', 'wb').write(b'x' * (8 << 20))\n    except OSError:\n        break\n" +
            "for i in range(1000):\n    try:\n        open(f'/dev/shm/fill{i}', 'wb').write(b'x' * (8 << 20))\n    except OSError:\n        break\n");
        Assert.Equal(SampleStatus.Passed, result.Status);
        await AssertStillServes();
    }

    [Fact]
    public async Task InterpreterCrashFromDeepRecursionFailsOnlyThatSample()
    {
        // Calls through __call__ recurse on the C stack, so the interpreter dies with SIGSEGV.
        string crash = "    import sys\n    sys.setrecursionlimit(10 ** 7)\n    def r(n):\n        return r.__call__(n + 1) + 1\n    return r(0)\n";
        var result = await Score(AddStructured, crash);
        AssertContained(result, SampleStatus.Failed);
        Assert.All(result.Tests, t => Assert.Equal(TestStatus.Error, t.Status));
        var asserts = await Score(AddAsserts, crash);
        AssertContained(asserts, SampleStatus.Failed);
        await AssertStillServes();
    }

    private static List<int> ProcessesWithMarker(string marker)
    {
        var found = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Contains(marker, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }
}
