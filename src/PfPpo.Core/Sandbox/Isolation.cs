using System.Diagnostics;

namespace PfPpo.Sandbox;

/// <summary>Which isolation the workers run under, strongest first.</summary>
public enum IsolationLevel
{
    /// <summary>bubblewrap: user, PID, network, IPC, UTS, mount and cgroup namespaces; read-only system; private /tmp;
    /// no capabilities; uid 65534; cleared environment; new session.</summary>
    Bubblewrap,
    /// <summary>util-linux unshare (PID, network, IPC, UTS namespaces) plus setpriv to uid 65534 as root. The host
    /// filesystem stays visible and everything uid 65534 may write is writable.</summary>
    Unshare,
    /// <summary>rlimits and (as root) setpriv to uid 65534 only. No namespaces.</summary>
    RlimitsOnly,
}

/// <summary>What the probe found: the level in use, what is active, and (loudly) what is missing.</summary>
public sealed record IsolationReport(
    IsolationLevel Level,
    IReadOnlyList<string> Active,
    IReadOnlyList<string> Missing,
    string? PidsCgroup,
    string? MemoryCgroup)
{
    /// <summary>One line per missing protection, for a warning on stderr; empty when nothing is missing.</summary>
    public string Warning => Missing.Count == 0
        ? ""
        : $"sandbox: running with {Level} isolation; missing protections: {string.Join("; ", Missing)}";
}

/// <summary>Finds the strongest isolation this machine offers by running a real probe under each candidate
/// launcher, and builds worker command lines for it.</summary>
public static class Isolation
{
    public const string Python = "/usr/bin/python3";
    private const string Bwrap = "/usr/bin/bwrap";
    private const string Unshare = "/usr/bin/unshare";
    private const string Setpriv = "/usr/bin/setpriv";
    private const int NobodyId = 65534;

    /// <summary>Size cap of the sandbox's private /tmp and /dev/shm (they live in memory).</summary>
    public const long TmpfsBytes = 256L << 20;

    /// <summary>Probes bubblewrap, then unshare, else rlimits only. <paramref name="maxLevel"/> forces a weaker level
    /// (for tests and for machines where a stronger one misbehaves).</summary>
    public static IsolationReport Probe(IsolationLevel maxLevel = IsolationLevel.Bubblewrap)
    {
        var owner = SandboxOwner.Current();
        string probeDir = Directory.CreateTempSubdirectory($"{StaleSandboxes.ProbeFolderPrefix}{owner.Tag}-").FullName;
        try
        {
            Isolation.SetMode(probeDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            var cgroups = FindCgroups(owner);
            foreach (var level in Launchable(maxLevel))
            {
                if (level == IsolationLevel.RlimitsOnly || ProbeRuns(level, probeDir))
                {
                    return Report(level, cgroups);
                }
            }
            return Report(IsolationLevel.RlimitsOnly, cgroups);
        }
        finally
        {
            Directory.Delete(probeDir, recursive: true);
        }
    }

    /// <summary>The strongest level at most <paramref name="maxLevel"/> whose launcher is installed (and usable by this
    /// user), not yet run: <see cref="SandboxPool"/> starts its workers at this level and each worker checks its own
    /// isolation (<see cref="Verified"/>), so a probe program runs only when that fails (<see cref="Probe"/>).</summary>
    internal static IsolationReport Strongest(IsolationLevel maxLevel, SandboxOwner owner) =>
        Report(Launchable(maxLevel).First(), FindCgroups(owner));

    /// <summary>Whether a process started at <paramref name="level"/> saw what that level promises, the check of the
    /// probe program: with namespaces it is PID 1 without network, and as root it runs as uid 65534.</summary>
    internal static bool Verified(IsolationLevel level, bool pid1, bool network, long uid) =>
        level == IsolationLevel.RlimitsOnly || (pid1 && !network && (!IsRoot || uid == NobodyId));

    /// <summary>Levels at most <paramref name="maxLevel"/> whose launchers are installed, strongest first; always ends
    /// with <see cref="IsolationLevel.RlimitsOnly"/>.</summary>
    private static IEnumerable<IsolationLevel> Launchable(IsolationLevel maxLevel)
    {
        if (maxLevel <= IsolationLevel.Bubblewrap && File.Exists(Bwrap))
        {
            yield return IsolationLevel.Bubblewrap;
        }
        if (maxLevel <= IsolationLevel.Unshare && IsRoot && File.Exists(Unshare) && File.Exists(Setpriv))
        {
            yield return IsolationLevel.Unshare;
        }
        yield return IsolationLevel.RlimitsOnly;
    }

    private sealed record Cgroups(string? Pids, string? Memory);

    private static Cgroups FindCgroups(SandboxOwner owner) =>
        new(CgroupV1.OwnControllerDirectory("pids", owner), CgroupV1.OwnControllerDirectory("memory", owner));

    /// <summary>What a level (with the cgroups found) protects and lacks.</summary>
    private static IsolationReport Report(IsolationLevel level, Cgroups cgroups)
    {
        var missing = new List<string>();
        var active = new List<string>();
        if (cgroups.Pids is null)
        {
            missing.Add(IsRoot ? "pids cgroup (process count bounded by RLIMIT_NPROC of uid 65534 only)" : "pids cgroup (process count bounded by RLIMIT_NPROC only)");
        }
        else
        {
            active.Add("pids cgroup per worker");
        }

        if (cgroups.Memory is null)
        {
            missing.Add("memory cgroup per worker (RLIMIT_AS per process only)");
        }
        else
        {
            active.Add("memory cgroup per worker");
        }

        if (!IsRoot)
        {
            missing.Add("uid change (not root: tasks run as the calling user inside the namespaces)");
        }

        switch (level)
        {
            case IsolationLevel.Bubblewrap:
                active.AddRange(["user, PID, network, IPC, UTS, mount and cgroup namespaces (bwrap)", "read-only system, private /tmp",
                    "no capabilities", "uid 65534", "cleared environment", "new session", "rlimits"]);
                break;
            case IsolationLevel.Unshare:
                active.AddRange(["PID, network, IPC, UTS, mount namespaces (unshare)", "uid 65534 without capabilities", "rlimits"]);
                missing.AddRange(["read-only filesystem view (files writable by uid 65534 are writable)", "private /tmp (tasks see the host's /tmp)",
                    "cleared environment (the worker gets a minimal one)", "bubblewrap not usable"]);
                break;
            default:
                active.Add("rlimits");
                if (IsRoot && File.Exists(Setpriv))
                {
                    active.Add("uid 65534 without capabilities");
                }

                missing.AddRange(["network isolation", "PID namespace (a daemon that calls setsid() outlives its task)",
                    "read-only filesystem view", "private /tmp", "bubblewrap and unshare not usable"]);
                break;
        }
        return new IsolationReport(level, active, missing, cgroups.Pids, cgroups.Memory);
    }

    internal static bool IsRoot => Environment.IsPrivilegedProcess;

    /// <summary>chmod that fails clearly off Linux (the sandbox needs Linux anyway).</summary>
    public static void SetMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the PfPpo sandbox needs Linux.");
        }

        File.SetUnixFileMode(path, mode);
    }

    /// <summary>The argv that runs <c>/usr/bin/python3 -I -S pythonArgs</c> at the given isolation level. Under
    /// bubblewrap, <paramref name="scriptDir"/> is visible read-only at <c>/pfppo</c>. (The pool's workers start this
    /// way; benchmarks use it for one-process-per-program baselines.)</summary>
    public static List<string> PythonCommand(IsolationLevel level, string scriptDir, params string[] pythonArgs)
    {
        var argv = new List<string>();
        void DropToNobody()
        {
            if (IsRoot)
            {
                argv.AddRange([Setpriv, $"--reuid={NobodyId}", $"--regid={NobodyId}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]);
            }
        }
        switch (level)
        {
            case IsolationLevel.Bubblewrap:
                // Outside: drop to uid 65534 first, so the kernel sees a non-root owner (RLIMIT_NPROC binds, host files
                // are protected by ordinary permissions even if a mount escaped). Inside: no capabilities, PID 1 is the worker.
                DropToNobody();
                argv.AddRange([Bwrap, "--unshare-all", "--unshare-user", "--uid", $"{NobodyId}", "--gid", $"{NobodyId}",
                    "--die-with-parent", "--new-session", "--as-pid-1", "--cap-drop", "ALL", "--clearenv",
                    "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
                    "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                    "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
                    "--proc", "/proc", "--dev", "/dev", "--size", $"{TmpfsBytes}", "--tmpfs", "/dev/shm",
                    "--size", $"{TmpfsBytes}", "--tmpfs", "/tmp", "--ro-bind", scriptDir, "/pfppo",
                    "--remount-ro", "/", "--chdir", "/tmp", Python, "-I", "-S", .. pythonArgs]);
                return argv;
            case IsolationLevel.Unshare:
                argv.AddRange([Unshare, "--pid", "--fork", "--kill-child", "--mount-proc", "--net", "--ipc", "--uts"]);
                DropToNobody();
                argv.AddRange([Python, "-I", "-S", .. pythonArgs]);
                return argv;
            default:
                DropToNobody();
                argv.AddRange([Python, "-I", "-S", .. pythonArgs]);
                return argv;
        }
    }

    /// <summary>Starts a process for <paramref name="level"/> that must see itself as uid 65534 (as root) and, with
    /// namespaces, as PID 1 without network.</summary>
    private static bool ProbeRuns(IsolationLevel level, string probeDir)
    {
        const string check = "import os,socket\n" +
            "ns=os.getpid()==1\n" +
            "try:\n socket.create_connection(('127.0.0.1',1),timeout=0.5); net=True\nexcept OSError as e:\n net=e.errno not in (101,111,99)\n" +
            "print('ok' if ns else 'nons', 'net' if net else 'nonet', os.getuid())\n";
        var argv = PythonCommand(level, probeDir, "-c", check);
        try
        {
            var start = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in argv.Skip(1))
            {
                start.ArgumentList.Add(a);
            }

            using var process = Process.Start(start)!;
            string stdout = process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            string expectedUid = IsRoot ? $"{NobodyId}" : "";
            return process.ExitCode == 0 && stdout.StartsWith("ok nonet", StringComparison.Ordinal)
                && (expectedUid.Length == 0 || stdout.TrimEnd().EndsWith(expectedUid, StringComparison.Ordinal));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

/// <summary>cgroup v1 helpers: child groups are created under this process's own group of each controller.</summary>
internal static class CgroupV1
{
    private const string Root = "/sys/fs/cgroup";

    /// <summary>The writable directory of this process's cgroup for <paramref name="controller"/>, or null.</summary>
    public static string? OwnControllerDirectory(string controller, SandboxOwner owner)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/cgroup"))
            {
                string[] parts = line.Split(':', 3);
                if (parts.Length == 3 && parts[1].Split(',').Contains(controller))
                {
                    string dir = Path.Combine(Root, controller) + parts[2].TrimEnd('/');
                    string probe = Path.Combine(dir, $"{StaleSandboxes.CgroupPrefix}probe-{owner.Tag}-{Guid.NewGuid():N}");
                    Directory.CreateDirectory(probe);
                    Directory.Delete(probe);
                    return dir;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
