using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace PfPpo.Sandbox;

/// <summary>One long-lived sandboxed Python worker that forks per task. Not thread-safe: the pool hands each worker
/// to one caller at a time.</summary>
internal sealed class SandboxWorker : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _cgroups;
    private readonly StringBuilder _stderr = new();

    public int TasksRun { get; private set; }

    public bool IsBroken { get; private set; }

    private readonly bool _namespaced;

    private SandboxWorker(Process process, List<string> cgroups, bool namespaced)
    {
        _process = process;
        _cgroups = cgroups;
        _namespaced = namespaced;
    }

    /// <summary>Starts a worker and waits for its ready line.</summary>
    public static async Task<SandboxWorker> StartAsync(IsolationReport isolation, string scriptDir, SandboxLimits limits, SandboxOwner owner, int id, CancellationToken ct)
    {
        var cgroups = new List<string>();
        string workRoot = "/tmp";
        string scriptPath = "/pfppo/worker.py";
        if (isolation.Level != IsolationLevel.Bubblewrap)
        {
            // No private tmpfs: give the worker a private directory of its own (it empties it after every task).
            workRoot = Path.Combine(scriptDir, $"work-{id}");
            Directory.CreateDirectory(workRoot);
            if (Isolation.IsRoot)
            {
                Isolation.SetMode(workRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                Chown(workRoot, 65534);
            }
            scriptPath = Path.Combine(scriptDir, "worker.py");
        }
        try
        {
            if (isolation.PidsCgroup is not null)
            {
                string dir = CreateCgroup(isolation.PidsCgroup, owner, id);
                cgroups.Add(dir);
                File.WriteAllText(Path.Combine(dir, "pids.max"), $"{limits.Processes + 8}");
            }
            if (isolation.MemoryCgroup is not null)
            {
                string dir = CreateCgroup(isolation.MemoryCgroup, owner, id);
                cgroups.Add(dir);
                File.WriteAllText(Path.Combine(dir, "memory.limit_in_bytes"), $"{limits.MemoryBytes + (512L << 20)}");
            }
        }
        catch (IOException e)
        {
            await RemoveCgroupsAsync(cgroups);
            throw new SandboxInfrastructureException($"could not set up the worker's cgroups: {e.Message}", e);
        }

        var argv = Isolation.PythonCommand(isolation.Level, scriptDir, scriptPath, workRoot);
        // The shell joins the cgroups before exec, so no process of the worker ever runs outside them.
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("for g in \"$@\"; do case \"$g\" in --) shift; break;; esac; echo $$ > \"$g/cgroup.procs\" || exit 97; shift; done; exec \"$@\"");
        start.ArgumentList.Add("pfppo-worker");
        foreach (string g in cgroups)
        {
            start.ArgumentList.Add(g);
        }

        start.ArgumentList.Add("--");
        foreach (string a in argv)
        {
            start.ArgumentList.Add(a);
        }

        if (isolation.Level != IsolationLevel.Bubblewrap)
        {
            start.Environment.Clear();
            start.Environment["PATH"] = "/usr/bin:/bin";
            start.Environment["LANG"] = "C.UTF-8";
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new SandboxInfrastructureException("could not start a sandbox worker");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            await RemoveCgroupsAsync(cgroups);
            throw new SandboxInfrastructureException($"could not start a sandbox worker: {e.Message}", e);
        }
        var worker = new SandboxWorker(process, cgroups, isolation.Level == IsolationLevel.Bubblewrap);
        process.ErrorDataReceived += (_, e) =>
        {
            lock (worker._stderr)
            {
                if (e.Data is not null && worker._stderr.Length < 16_384)
                {
                    worker._stderr.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            string? ready = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (ready is null || !ready.Contains("\"ready\"", StringComparison.Ordinal))
            {
                string exit = "";
                if (ready is null)
                {
                    using var exitWait = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await process.WaitForExitAsync(exitWait.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                    exit = process.HasExited ? $" (exit code {process.ExitCode})" : "";
                }
                throw new SandboxInfrastructureException($"sandbox worker did not start ({isolation.Level}){exit}: {worker.StderrTail()}");
            }
            if (!IsolationHolds(isolation.Level, ready))
            {
                throw new SandboxInfrastructureException($"sandbox worker does not have {isolation.Level} isolation (it reported {ready.Trim()})");
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && !ct.IsCancellationRequested)
        {
            await worker.DisposeAsync();
            throw new SandboxInfrastructureException($"sandbox worker did not start ({isolation.Level}): {worker.StderrTail()}", e);
        }
        catch
        {
            await worker.DisposeAsync();
            throw;
        }
        return worker;
    }

    /// <summary>The worker's ready line says what it sees (PID 1, network, uid): the check the isolation probe makes,
    /// made by every worker (<see cref="Isolation.Verified"/>).</summary>
    private static bool IsolationHolds(IsolationLevel level, string ready)
    {
        try
        {
            using var doc = JsonDocument.Parse(ready);
            var root = doc.RootElement;
            return Isolation.Verified(level, root.GetProperty("pid1").GetBoolean(), root.GetProperty("network").GetBoolean(),
                root.GetProperty("uid").GetInt64());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    /// <summary>Sends one request line and reads its response. Any protocol break, crash or watchdog expiry marks the
    /// worker broken and throws <see cref="SandboxInfrastructureException"/>.</summary>
    public async Task<JsonDocument> RunAsync(byte[] request, long id, TimeSpan watchdog, CancellationToken ct)
    {
        TasksRun++;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(watchdog);
        try
        {
            await _process.StandardInput.BaseStream.WriteAsync(request, timeout.Token);
            await _process.StandardInput.BaseStream.FlushAsync(timeout.Token);
            string? line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
            if (line is null)
            {
                throw Broken("sandbox worker exited");
            }
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                throw Broken($"sandbox worker sent a malformed response ({e.Message})");
            }
            var root = doc.RootElement;
            if (root.TryGetProperty("infra_error", out var infra))
            {
                doc.Dispose();
                throw Broken($"sandbox worker failed: {infra.GetString()}");
            }
            if (!root.TryGetProperty("id", out var echoed) || echoed.ValueKind != JsonValueKind.Number || echoed.GetInt64() != id)
            {
                doc.Dispose();
                throw Broken("sandbox worker answered out of turn");
            }
            return doc;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw Broken($"sandbox worker did not answer within {watchdog.TotalSeconds:0.#} s");
        }
        catch (OperationCanceledException)
        {
            IsBroken = true;
            throw;
        }
        catch (IOException e)
        {
            throw Broken($"sandbox worker pipe failed: {e.Message}");
        }
    }

    /// <summary>The worker answered something unusable: it is replaced after this task.</summary>
    public void MarkBroken() => IsBroken = true;

    private SandboxInfrastructureException Broken(string message)
    {
        IsBroken = true;
        string tail = StderrTail();
        return new SandboxInfrastructureException(tail.Length == 0 ? message : $"{message}: {tail}");
    }

    private string StderrTail()
    {
        lock (_stderr)
        {
            string text = _stderr.ToString().Trim();
            return text.Length > 2000 ? text[^2000..] : text;
        }
    }

    /// <summary>Kills the worker, waits for it without blocking a thread and removes its cgroups (pool shutdown stops
    /// all workers at once, so this must not hold a thread-pool thread).</summary>
    public async ValueTask DisposeAsync()
    {
        Kill();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
        }
        _process.Dispose();
        await RemoveCgroupsAsync(_cgroups);
    }

    private void Kill()
    {
        try
        {
            if (_process.HasExited)
            {
                return;
            }

            if (_namespaced)
            {
                // bwrap and everything in its PID namespace die with it (--die-with-parent, PID 1 exit); every process
                // of the worker is also in its cgroups, so each is killed directly. Killing the whole process tree
                // instead (stop, scan /proc, kill, level by level) took 0.2-0.5 s per worker on a busy machine.
                _process.Kill();
                foreach (string dir in _cgroups)
                {
                    StaleSandboxes.KillMembers(dir);
                }
            }
            else
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>A new cgroup named after its owner (<see cref="SandboxOwner"/>), so a later start can remove it if this
    /// process is killed before it does.</summary>
    private static string CreateCgroup(string parent, SandboxOwner owner, int id)
    {
        string dir = Path.Combine(parent, $"{StaleSandboxes.CgroupPrefix}{owner.Tag}-{id}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static async Task RemoveCgroupsAsync(List<string> cgroups)
    {
        foreach (string dir in cgroups)
        {
            // rmdir fails while killed processes are still leaving the group: retry for up to a second.
            for (int attempt = 0; attempt < 50 && Directory.Exists(dir) && !StaleSandboxes.TryRemoveCgroup(dir); attempt++)
            {
                await Task.Delay(20);
            }
        }
    }

    private static void Chown(string path, int uid)
    {
        using var chown = Process.Start(new ProcessStartInfo("/bin/chown", [$"{uid}:{uid}", path]) { UseShellExecute = false })!;
        chown.WaitForExit();
    }
}
