using System.Diagnostics;
using PfPpo.Sandbox;

namespace PfPpo.Tests.Sandbox;

/// <summary>What a kill -9 leaves (cgroups and temp folders named after a dead process) is removed by the next pool
/// start; what a live process owns is kept.</summary>
[Collection(PfPpo.Tests.SequentialCollection.Name)]
public class StaleSandboxTests
{
    [Fact]
    public async Task PoolStartRemovesLeftoversOfDeadProcessesOnlyAndKeepsThoseOfLiveOnes()
    {
        var isolation = Isolation.Probe();
        string[] parents = new[] { isolation.PidsCgroup, isolation.MemoryCgroup }.OfType<string>().ToArray();
        Assert.NotEmpty(parents); // cgroup v1 pids and memory work on this machine
        int dead = DeadPid();
        using var live = Process.Start(new ProcessStartInfo("/bin/sleep", "120") { UseShellExecute = false })!;
        long start = SandboxOwner.StartTimeOf(live.Id) ?? throw new InvalidOperationException("no start time of a live process");
        string tag = Guid.NewGuid().ToString("N")[..8];

        var staleGroups = new List<string>();
        var liveGroups = new List<string>();
        foreach (string parent in parents)
        {
            staleGroups.AddRange(new[]
            {
                $"pfppo-{dead}-s{start}-1-{tag}",        // killed process
                $"pfppo-{live.Id}-s{start + 1}-1-{tag}", // pid reused by another process since
                $"pfppo-{dead}-1-{tag}",                 // older naming, pid only
                $"pfppo-probe-{dead}-s{start}-{tag}",
            }.Select(name => Path.Combine(parent, name)));
            liveGroups.AddRange(new[] { $"pfppo-{live.Id}-s{start}-1-{tag}", $"pfppo-{live.Id}-1-{tag}" }.Select(name => Path.Combine(parent, name)));
        }
        string temp = Path.GetTempPath();
        var staleFolders = new[] { $"pfppo-sandbox-{dead}-s{start}-{tag}", $"pfppo-probe-{dead}-s{start}-{tag}", $"pfppo-sandbox-{live.Id}-s{start + 1}-{tag}" }
            .Select(name => Path.Combine(temp, name)).ToList();
        var keptFolders = new[] { $"pfppo-sandbox-{live.Id}-s{start}-{tag}", $"pfppo-sandbox-{tag}old" } // live owner; no owner in the name
            .Select(name => Path.Combine(temp, name)).ToList();
        try
        {
            foreach (string dir in staleGroups.Concat(liveGroups))
            {
                Directory.CreateDirectory(dir);
            }

            foreach (string dir in staleFolders.Concat(keptFolders))
            {
                Directory.CreateDirectory(Path.Combine(dir, "work-1"));
                File.WriteAllText(Path.Combine(dir, "work-1", "left.txt"), "x");
            }

            await using (var pool = await SandboxPool.CreateAsync(new SandboxPoolOptions(Workers: 1)))
            {
                Assert.True(pool.StaleRemoved.Cgroups >= staleGroups.Count, $"{pool.StaleRemoved}");
                Assert.True(pool.StaleRemoved.Folders >= staleFolders.Count, $"{pool.StaleRemoved}");
                var result = await pool.RunAsync(SandboxTask.ForAsserts("def f():\n    return 1\n", ["assert f() == 1"], "f"));
                Assert.True(result.Completed && result.Tests[0].Kind == TestRunKind.Ran, result.InfraError);
            }
            Assert.All(staleGroups, dir => Assert.False(Directory.Exists(dir), $"stale {dir} kept"));
            Assert.All(staleFolders, dir => Assert.False(Directory.Exists(dir), $"stale {dir} kept"));
            Assert.All(liveGroups, dir => Assert.True(Directory.Exists(dir), $"{dir} of a live process removed"));
            Assert.All(keptFolders, dir => Assert.True(File.Exists(Path.Combine(dir, "work-1", "left.txt")), $"{dir} removed"));
        }
        finally
        {
            live.Kill();
            foreach (string dir in staleGroups.Concat(liveGroups).Where(Directory.Exists))
            {
                Directory.Delete(dir);
            }

            foreach (string dir in staleFolders.Concat(keptFolders).Where(Directory.Exists))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task APoolNamesItsCgroupsAndFolderAfterThisProcessAndRemovesThemOnDispose()
    {
        string owner = $"{Environment.ProcessId}-s{SandboxOwner.StartTimeOf(Environment.ProcessId)}-";
        var pool = await SandboxPool.CreateAsync(new SandboxPoolOptions(Workers: 2));
        string[] parents = new[] { pool.Isolation.PidsCgroup, pool.Isolation.MemoryCgroup }.OfType<string>().ToArray();
        // Other tests of this process run pools at the same time: this pool's own entries are the ones that appear and go.
        var before = Owned(parents, owner);
        Assert.True(before.Count(d => d.Contains("/pfppo-" + owner, StringComparison.Ordinal)) >= 2 * parents.Length, string.Join(", ", before));
        Assert.Contains(before, d => d.Contains("/pfppo-sandbox-" + owner, StringComparison.Ordinal));
        await pool.DisposeAsync();
        var after = Owned(parents, owner);
        Assert.True(before.Count - before.Intersect(after).Count() >= 2 * parents.Length + 1, $"before: {string.Join(", ", before)}; after: {string.Join(", ", after)}");
    }

    private static List<string> Owned(string[] parents, string owner) =>
        parents.SelectMany(p => Directory.GetDirectories(p, $"pfppo-{owner}*"))
            .Concat(Directory.GetDirectories(Path.GetTempPath(), $"pfppo-sandbox-{owner}*")).ToList();

    private static int DeadPid()
    {
        using var exited = Process.Start(new ProcessStartInfo("/bin/true") { UseShellExecute = false })!;
        exited.WaitForExit();
        Assert.Null(SandboxOwner.StartTimeOf(exited.Id));
        return exited.Id;
    }
}
