namespace PfPpo.Sandbox;

/// <summary>Resource limits for one sandboxed task. Enforced inside the sandbox with rlimits, by the worker's
/// wall clock, and per worker with cgroup v1 pids/memory controllers where they exist.</summary>
/// <param name="Timeout">Wall-clock budget for the whole program with all its tests.</param>
/// <param name="CpuSeconds">RLIMIT_CPU of the task process (each forked process gets its own).</param>
/// <param name="MemoryBytes">RLIMIT_AS of each task process.</param>
/// <param name="FileSizeBytes">RLIMIT_FSIZE: the largest file the task may write.</param>
/// <param name="OpenFiles">RLIMIT_NOFILE.</param>
/// <param name="Processes">Most processes (and threads) a worker's task may have at once (pids cgroup, RLIMIT_NPROC).</param>
/// <param name="MaxOutputBytes">Captured stdout+stderr kept per task; the rest is read and dropped.</param>
public sealed record SandboxLimits(
    TimeSpan Timeout,
    int CpuSeconds,
    long MemoryBytes,
    long FileSizeBytes,
    int OpenFiles,
    int Processes,
    int MaxOutputBytes)
{
    /// <summary>Generous defaults: real HumanEval+/MBPP+ references take up to 14 s with all their tests.</summary>
    public static SandboxLimits Default { get; } = new(
        Timeout: TimeSpan.FromSeconds(20),
        CpuSeconds: 30,
        MemoryBytes: 2L << 30,
        FileSizeBytes: 16L << 20,
        OpenFiles: 128,
        Processes: 64,
        MaxOutputBytes: 64 * 1024);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field that is out of range.</summary>
    public void Validate()
    {
        if (Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(Timeout)} must be positive, got {Timeout}.");
        }

        if (CpuSeconds <= 0)
        {
            throw new ArgumentException($"{nameof(CpuSeconds)} must be positive, got {CpuSeconds}.");
        }

        if (MemoryBytes < 64L << 20)
        {
            throw new ArgumentException($"{nameof(MemoryBytes)} must be at least 64 MiB, got {MemoryBytes}.");
        }

        if (FileSizeBytes < 0)
        {
            throw new ArgumentException($"{nameof(FileSizeBytes)} must not be negative.");
        }

        if (OpenFiles < 16)
        {
            throw new ArgumentException($"{nameof(OpenFiles)} must be at least 16, got {OpenFiles}.");
        }

        if (Processes < 4)
        {
            throw new ArgumentException($"{nameof(Processes)} must be at least 4, got {Processes}.");
        }

        if (MaxOutputBytes < 0)
        {
            throw new ArgumentException($"{nameof(MaxOutputBytes)} must not be negative.");
        }
    }
}
