namespace PfPpo.Sandbox;

/// <summary>What <see cref="StaleSandboxes.Remove"/> removed.</summary>
/// <param name="Cgroups">pfppo cgroups of dead processes removed.</param>
/// <param name="Folders">pfppo temp folders of dead processes removed.</param>
public sealed record StaleCleanup(int Cgroups, int Folders);

/// <summary>Removes what killed runs (kill -9, a crash, a forced exit) left: pfppo cgroups under this process's own
/// groups and <c>pfppo-sandbox-*</c> / <c>pfppo-probe-*</c> temp folders, each only when the process named in it
/// (<see cref="SandboxOwner"/>) is dead. Leftovers of a live pfppo, this one or a concurrent one, are never touched.</summary>
public static class StaleSandboxes
{
    /// <summary>Temp folder prefixes of the sandbox (the worker script folder and the isolation probe).</summary>
    internal const string ScriptFolderPrefix = "pfppo-sandbox-";
    internal const string ProbeFolderPrefix = "pfppo-probe-";

    /// <summary>Prefix of every cgroup the sandbox makes (workers: <c>pfppo-{owner}-...</c>; probe: <c>pfppo-probe-{owner}-...</c>).</summary>
    internal const string CgroupPrefix = "pfppo-";

    /// <summary>Cleans the cgroup parents in <paramref name="isolation"/> and the temp folder.</summary>
    public static StaleCleanup Remove(IsolationReport isolation)
    {
        ArgumentNullException.ThrowIfNull(isolation);
        int cgroups = 0;
        foreach (string? parent in new[] { isolation.PidsCgroup, isolation.MemoryCgroup }.Distinct())
        {
            if (parent is not null)
            {
                cgroups += RemoveCgroups(parent);
            }
        }
        return new StaleCleanup(cgroups, RemoveFolders(Path.GetTempPath()));
    }

    /// <summary>Removes the stale pfppo cgroups directly under <paramref name="parent"/>: processes still in one (a
    /// sandbox that outlived its owner) are killed first.</summary>
    internal static int RemoveCgroups(string parent)
    {
        int removed = 0;
        foreach (string dir in Children(parent, CgroupPrefix))
        {
            string rest = Path.GetFileName(dir)[CgroupPrefix.Length..];
            if (rest.StartsWith("probe-", StringComparison.Ordinal))
            {
                rest = rest["probe-".Length..];
            }

            var owner = SandboxOwner.Parse(rest, allowUntimed: true);
            if (owner is null || owner.IsAlive())
            {
                continue;
            }

            KillMembers(dir);
            if (TryRemoveCgroup(dir))
            {
                removed++;
            }
        }
        return removed;
    }

    /// <summary>Removes stale <c>pfppo-sandbox-{owner}-*</c> and <c>pfppo-probe-{owner}-*</c> folders under
    /// <paramref name="temp"/>. Folders named without an owner (made by older versions) are left alone: nothing says
    /// whether their process still runs.</summary>
    internal static int RemoveFolders(string temp)
    {
        int removed = 0;
        foreach (string prefix in new[] { ScriptFolderPrefix, ProbeFolderPrefix })
        {
            foreach (string dir in Children(temp, prefix))
            {
                var owner = SandboxOwner.Parse(Path.GetFileName(dir)[prefix.Length..], allowUntimed: false);
                if (owner is null || owner.IsAlive())
                {
                    continue;
                }

                try
                {
                    Directory.Delete(dir, recursive: true);
                    removed++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // a concurrent start removed it first, or it is not ours to remove
                }
            }
        }
        return removed;
    }

    private static string[] Children(string parent, string prefix)
    {
        try
        {
            return Directory.GetDirectories(parent, prefix + "*");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Kills every process listed in a cgroup (never pid 1).</summary>
    internal static void KillMembers(string cgroup)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(Path.Combine(cgroup, "cgroup.procs"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string line in lines)
        {
            if (!int.TryParse(line, out int pid) || pid <= 1)
            {
                continue;
            }

            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // already gone
            }
        }
    }

    /// <summary>rmdir of a cgroup; false while processes are still leaving it, or when it is already gone.</summary>
    internal static bool TryRemoveCgroup(string dir)
    {
        try
        {
            Directory.Delete(dir);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
