using System.Globalization;

namespace PfPpo.Sandbox;

/// <summary>The process that made a sandbox cgroup or temp folder, written into its name as <c>{pid}-s{start}</c>
/// (<c>start</c>: the process's start time in clock ticks since boot, field 22 of <c>/proc/PID/stat</c>), so a later
/// start can tell leftovers of a dead (killed) process from those of a live one, also after the pid was reused.</summary>
/// <param name="Pid">Process id.</param>
/// <param name="StartTicks">Start time of the process; null for names made before the start time was recorded.</param>
internal sealed record SandboxOwner(int Pid, long? StartTicks)
{
    /// <summary>This process.</summary>
    public static SandboxOwner Current() => new(Environment.ProcessId, StartTimeOf(Environment.ProcessId));

    /// <summary>The name part, <c>{pid}-s{start}</c>.</summary>
    public string Tag => StartTicks is long start ? $"{Pid}-s{start}" : $"{Pid}";

    /// <summary>Whether the owner still runs: its pid exists and (when recorded) started at the same time.</summary>
    public bool IsAlive()
    {
        long? start = StartTimeOf(Pid);
        return start is not null && (StartTicks is null || StartTicks == start);
    }

    /// <summary>Reads the owner from a name's part after its prefix: <c>{pid}-s{start}-...</c>, or, when
    /// <paramref name="allowUntimed"/>, the older <c>{pid}-...</c>. Null when the name does not start that way.</summary>
    public static SandboxOwner? Parse(string rest, bool allowUntimed)
    {
        string[] parts = rest.Split('-');
        if (parts.Length < 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
        {
            return null;
        }
        if (parts[1].StartsWith('s') && long.TryParse(parts[1].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out long start))
        {
            return new SandboxOwner(pid, start);
        }
        return allowUntimed ? new SandboxOwner(pid, null) : null;
    }

    /// <summary>Start time of a process in clock ticks since boot, or null when it does not exist or has exited.</summary>
    internal static long? StartTimeOf(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted after the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length <= 19 || fields[0] == "Z")
        {
            return null; // a zombie has exited: only its parent has not reaped it
        }

        return long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out long ticks) ? ticks : null;
    }
}
