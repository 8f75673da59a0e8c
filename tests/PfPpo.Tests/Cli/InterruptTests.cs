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

            // The signal masks, for the message if the child does not stop (an ignored SIGINT shows in SigIgn).
            string signals = string.Join(" ", File.ReadAllLines($"/proc/{child.Id}/status").Where(l => l.StartsWith("SigIgn", StringComparison.Ordinal)));
            using (var kill = Process.Start("/bin/kill", [$"-{signal}", $"{child.Id}"]))
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await child.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"pfppo did not exit within 60 s of SIG{signal}; child {signals}");
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

    [Fact]
    public async Task SigtermStopsSftLeavingOnlyCompleteCheckpointsThatResume()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, CliRunner.Run("tasks", "--out", temp["tasks"], "--train", "64", "--test", "4").ExitCode);
        Assert.Equal(0, CliRunner.Run("train-tokenizer", "--input", temp["tasks/train.jsonl"], "--vocab-size", "300", "--out", temp["tok.json"]).ExitCode);
        Assert.Equal(0, CliRunner.Run("init-model", "--arch", "qwen2", "--hidden", "32", "--layers", "1", "--heads", "1", "--kv-heads", "1",
            "--intermediate", "64", "--tokenizer", temp["tok.json"], "--out", temp["model"]).ExitCode);
        string outDir = temp["sft"];
        string[] sft = ["sft", "--model", temp["model"], "--data", temp["tasks/train.jsonl"], "--out", outDir, "--max-steps", "100000",
            "--save-every", "3", "--batch-size", "4", "--eval-every", "0"];
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "pfppo.dll"));
        foreach (string arg in sft)
        {
            start.ArgumentList.Add(arg);
        }
        using var child = Process.Start(start)!;
        Task<string> stderr = child.StandardError.ReadToEndAsync();
        Task<string> stdout = child.StandardOutput.ReadToEndAsync();
        try
        {
            var waiting = Stopwatch.StartNew();
            string checkpoints = Path.Combine(outDir, "checkpoints");
            while (!(Directory.Exists(checkpoints) && Directory.GetDirectories(checkpoints, "step-*").Length > 0))
            {
                if (child.HasExited)
                {
                    Assert.Fail($"sft exited early: {await stderr}");
                }
                Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(120), "no checkpoint within 120 s");
                await Task.Delay(100);
            }
            using (var kill = Process.Start("/bin/kill", ["-TERM", $"{child.Id}"]))
            {
                await kill.WaitForExitAsync();
            }
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await child.WaitForExitAsync(limit.Token);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }
        Assert.Equal(143, child.ExitCode);
        Assert.EndsWith("interrupted by SIGTERM: stopped; unfinished results were not written and sandboxes were removed", (await stderr).Trim());
        await stdout;
        Assert.False(File.Exists(Path.Combine(outDir, "model.safetensors")), "an interrupted run wrote a final model");
        Assert.Empty(Directory.GetDirectories(Path.Combine(outDir, "checkpoints"), ".step-*"));
        Assert.All(Directory.GetDirectories(Path.Combine(outDir, "checkpoints"), "step-*"),
            dir => Assert.True(File.Exists(Path.Combine(dir, "manifest.json")), $"{dir} is incomplete"));

        // The interrupted run resumes from its checkpoint (a short schedule this time is refused as other settings,
        // so resume the same one for a few steps).
        CliRunner.Result resumed = CliRunner.Run([.. sft, "--resume", "--stop-after", "2"]);
        Assert.True(resumed.ExitCode == 0, resumed.StdErr);
        Assert.Contains("stopped after --stop-after steps", resumed.StdOut);
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
