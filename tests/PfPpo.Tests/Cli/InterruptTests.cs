using System.Diagnostics;
using PfPpo.Sandbox;

namespace PfPpo.Tests.Cli;

/// <summary>SIGINT and SIGTERM sent to a real <c>pfppo score</c> child while its sandboxes run a slow program.</summary>
[Collection(PfPpo.Tests.SequentialCollection.Name)]
public class InterruptTests
{
    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    public async Task SignalStopsScoreCleanlyWithExitCodeAndOneLine(string signal, int expectedCode)
    {
        string problems = PfPpo.Tests.Benchmarks.TestData.PathOf("humaneval.jsonl");
        using var samples = new PfPpo.Tests.Benchmarks.TestData.TempFile(Enumerable.Repeat(
            "{\"task_id\": \"HumanEval/0\", \"completion\": \"    import time\\n    time.sleep(120)\\n    return False\\n\"}", 4).ToArray());
        string outPath = samples.Path + ".out";
        var isolation = Isolation.Probe();
        string[] cgroupParents = new[] { isolation.PidsCgroup, isolation.MemoryCgroup }.OfType<string>().ToArray();
        Assert.NotEmpty(cgroupParents);

        // Started through a tiny exec wrapper that restores SIGINT's default: a test host launched as a background job
        // (bash without job control) ignores SIGINT, and an ignored signal stays ignored across exec, as it should for
        // a user's background job. The wrapper execs in place, so the child's pid is pfppo's.
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "-I", "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])",
            "dotnet", Path.Combine(AppContext.BaseDirectory, "pfppo.dll"), "score", "--problems", problems, "--samples", samples.Path,
            "--out", outPath, "--workers", "2", "--timeout", "120", "--no-calibrate" })
        {
            start.ArgumentList.Add(arg);
        }
        using var child = Process.Start(start)!;
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        try
        {
            // Wait until the child's sandboxes run: its worker cgroups hold processes.
            var running = Stopwatch.StartNew();
            while (!Leftovers(child.Id, cgroupParents).Any(d => d.StartsWith("/sys/", StringComparison.Ordinal) && HasMembers(d)))
            {
                if (child.HasExited)
                {
                    Assert.Fail($"pfppo exited early: {await stderr}");
                }

                Assert.True(running.Elapsed < TimeSpan.FromSeconds(90), "the sandboxes did not start within 90 s");
                await Task.Delay(100);
            }
            await Task.Delay(500); // the slow programs are running now

            using (var kill = Process.Start("/bin/kill", [$"-{signal}", $"{child.Id}"]))
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string signals = string.Join(" ", File.ReadAllLines($"/proc/{child.Id}/status").Where(l => l.StartsWith("Sig", StringComparison.Ordinal)));
            string mine = string.Join(" ", File.ReadAllLines("/proc/self/status").Where(l => l.StartsWith("Sig", StringComparison.Ordinal)));
            try
            {
                await child.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"pfppo did not exit within 60 s of SIG{signal}; child {signals}; test host {mine}");
            }
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }

        string errors = await stderr;
        Assert.Equal(expectedCode, child.ExitCode);
        string[] lines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"interrupted by SIG{signal}: stopped; unfinished results were not written and sandboxes were removed", Assert.Single(lines));
        Assert.Equal("", await stdout); // no summary of a run that did not finish
        Assert.False(File.Exists(outPath), "a result file was written by an interrupted run");
        Assert.Empty(Leftovers(child.Id, cgroupParents));
    }

    /// <summary>The child's sandbox temp folders and cgroups (named after its pid).</summary>
    private static List<string> Leftovers(int pid, string[] cgroupParents) =>
        cgroupParents.SelectMany(p => Directory.GetDirectories(p, $"pfppo-{pid}-*").Concat(Directory.GetDirectories(p, $"pfppo-probe-{pid}-*")))
            .Concat(Directory.GetDirectories(Path.GetTempPath(), $"pfppo-sandbox-{pid}-*"))
            .Concat(Directory.GetDirectories(Path.GetTempPath(), $"pfppo-probe-{pid}-*")).ToList();

    private static bool HasMembers(string cgroup)
    {
        try
        {
            return File.ReadAllText(Path.Combine(cgroup, "cgroup.procs")).Trim().Length > 0;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
