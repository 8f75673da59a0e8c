using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace PfPpo.Sandbox;

/// <summary>Options of a <see cref="SandboxPool"/>.</summary>
/// <param name="Workers">Number of long-lived workers; 0 means one per core.</param>
/// <param name="Limits">Default limits of every task.</param>
/// <param name="MaxIsolation">Strongest isolation to try (weaker levels are only for tests and broken hosts).</param>
/// <param name="RecycleAfter">A worker is replaced after this many tasks.</param>
/// <param name="Retries">How often a task is retried on a fresh worker after an infrastructure fault.</param>
public sealed record SandboxPoolOptions(
    int Workers = 0,
    SandboxLimits? Limits = null,
    IsolationLevel MaxIsolation = IsolationLevel.Bubblewrap,
    int RecycleAfter = 2000,
    int Retries = 2);

/// <summary>A pool of sandboxed Python workers that each fork per task. Thread-safe; create once, run many tasks.</summary>
public sealed class SandboxPool : IAsyncDisposable, IDisposable
{
    private readonly Channel<SandboxWorker?> _idle;
    private readonly string _scriptDir;
    private readonly SandboxPoolOptions _options;
    private readonly SandboxOwner _owner;
    private readonly ConcurrentDictionary<string, string> _plans = new(StringComparer.Ordinal);
    private long _nextId;
    private int _plansReused;
    private int _workersRetired;
    private int _nextWorkerId;
    private int _disposed;

    /// <summary>The isolation the workers run under, with what is missing.</summary>
    public IsolationReport Isolation { get; }

    /// <summary>Default limits of the pool's tasks.</summary>
    public SandboxLimits Limits { get; }

    /// <summary>Sandbox workers allowed per core: the tasks are CPU-bound, more only queue.</summary>
    public const int WorkersPerCore = 8;

    /// <summary>Memory one idle worker (bwrap, its Python and a task's two processes) is budgeted.</summary>
    public const long WorkerMemoryBytes = 64L << 20;

    /// <summary>The most workers a pool on this machine may start: <see cref="WorkersPerCore"/> per core, and no more
    /// than the available memory holds at <see cref="WorkerMemoryBytes"/> each.</summary>
    public static int MaxWorkers
    {
        get
        {
            long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            long byMemory = memory > 0 ? memory / WorkerMemoryBytes : int.MaxValue;
            return (int)Math.Max(1, Math.Min((long)Environment.ProcessorCount * WorkersPerCore, byMemory));
        }
    }

    /// <summary>Tasks whose harness got its problem's plan from an earlier task instead of analysing the tests again.</summary>
    public int PlansReused => Volatile.Read(ref _plansReused);

    /// <summary>Workers replaced because a program changed their own limits or scheduling (their verdicts stand).</summary>
    public int WorkersRetired => Volatile.Read(ref _workersRetired);

    /// <summary>Most plans kept (one per distinct set of tests); later problems are analysed every time.</summary>
    public const int MaxPlans = 20_000;

    /// <summary>Number of workers.</summary>
    public int WorkerCount { get; }

    /// <summary>What this pool's start removed of earlier, killed runs (see <see cref="StaleSandboxes"/>).</summary>
    public StaleCleanup StaleRemoved { get; }

    private SandboxPool(SandboxPoolOptions options, IsolationReport isolation, string scriptDir, SandboxOwner owner, StaleCleanup staleRemoved)
    {
        _owner = owner;
        StaleRemoved = staleRemoved;
        _options = options;
        Isolation = isolation;
        Limits = options.Limits ?? SandboxLimits.Default;
        WorkerCount = options.Workers > 0 ? options.Workers : Environment.ProcessorCount;
        _scriptDir = scriptDir;
        _idle = Channel.CreateUnbounded<SandboxWorker?>();
    }

    /// <summary>Removes what killed runs left (<see cref="StaleSandboxes"/>), writes the worker script and starts the
    /// workers at the strongest isolation that works here (probing it only when the workers cannot check it).</summary>
    public static async Task<SandboxPool> CreateAsync(SandboxPoolOptions? options = null, CancellationToken ct = default)
    {
        options ??= new SandboxPoolOptions();
        (options.Limits ?? SandboxLimits.Default).Validate();
        if (options.Workers < 0)
        {
            throw new ArgumentException($"{nameof(options.Workers)} must not be negative.");
        }

        if (options.Workers > MaxWorkers)
        {
            throw new ArgumentException($"{nameof(options.Workers)} = {options.Workers} is more sandbox workers than this machine can hold (at most {MaxWorkers}: {WorkersPerCore} per core, each needs about {WorkerMemoryBytes >> 20} MiB).");
        }
        if (options.Retries < 0)
        {
            throw new ArgumentException($"{nameof(options.Retries)} must not be negative.");
        }

        // No probe program: the workers start at the strongest installed level and each checks its own isolation
        // (PID 1, no network, uid 65534). Only when that fails does the probe decide, as before, which level works.
        var owner = SandboxOwner.Current();
        var isolation = PfPpo.Sandbox.Isolation.Strongest(options.MaxIsolation, owner);
        var stale = StaleSandboxes.Remove(isolation);
        string scriptDir = WriteWorkerScript(owner);
        var pool = new SandboxPool(options, isolation, scriptDir, owner, stale);
        try
        {
            await pool.StartWorkersAsync(ct);
            return pool;
        }
        catch (SandboxInfrastructureException) when (!ct.IsCancellationRequested)
        {
            var probed = PfPpo.Sandbox.Isolation.Probe(options.MaxIsolation);
            if (probed.Level == isolation.Level)
            {
                await pool.DisposeAsync();
                throw; // the level works here: the failure was the workers' own
            }
            pool = new SandboxPool(options, probed, scriptDir, owner, stale);
        }
        catch
        {
            await pool.DisposeAsync();
            throw;
        }
        try
        {
            await pool.StartWorkersAsync(ct);
        }
        catch
        {
            await pool.DisposeAsync();
            throw;
        }
        return pool;
    }

    /// <summary>Starts every worker into the idle channel; if one fails, the others are stopped and the error thrown.</summary>
    private async Task StartWorkersAsync(CancellationToken ct)
    {
        var starts = Enumerable.Range(0, WorkerCount).Select(_ => StartWorkerAsync(ct)).ToArray();
        try
        {
            await Task.WhenAll(starts);
        }
        catch
        {
            await Task.WhenAll(starts.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result.DisposeAsync().AsTask()));
            throw;
        }
        foreach (var start in starts)
        {
            _idle.Writer.TryWrite(start.Result);
        }
    }

    /// <summary>Runs one task. Infrastructure faults are retried on fresh workers; if they persist the result carries
    /// <see cref="SandboxResult.InfraError"/> and no verdict. Only cancellation throws.</summary>
    public async Task<SandboxResult> RunAsync(SandboxTask task, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var limits = task.Limits ?? Limits;
        string? lastError = null;
        int attempts = 0;
        byte[] harness = HarnessPart(task);
        // A problem's plan (how its tests run: proxies, modules, the calls sent ahead) depends on the harness part
        // alone; the harness of its first task reports it and later tasks send it back instead of re-analysing.
        string? planKey = task.Mode == SandboxMode.Asserts ? Convert.ToHexString(SHA256.HashData(harness)) : null;
        for (int attempt = 0; attempt <= _options.Retries; attempt++)
        {
            attempts++;
            long id = Interlocked.Increment(ref _nextId);
            string? plan = planKey is not null && _plans.TryGetValue(planKey, out var known) ? known : null;
            byte[] request = Request(CandidatePart(task, limits, id), plan is null ? harness : WithPlan(harness, plan));
            SandboxWorker? worker = await _idle.Reader.ReadAsync(ct);
            try
            {
                worker ??= await StartWorkerAsync(ct);
                using var response = await worker.RunAsync(request, id, limits.Timeout + TimeSpan.FromSeconds(10), ct);
                try
                {
                    var result = Parse(response.RootElement, task, attempts);
                    if (response.RootElement.TryGetProperty("retire", out var retire) && retire.ValueKind == JsonValueKind.True)
                    {
                        Interlocked.Increment(ref _workersRetired);
                        worker.MarkBroken(); // the program changed the worker's own limits or scheduling: its verdict stands, the worker goes
                    }
                    if (plan is not null)
                    {
                        Interlocked.Increment(ref _plansReused);
                    }
                    else if (planKey is not null && response.RootElement.TryGetProperty("plan", out var reported)
                        && reported.ValueKind == JsonValueKind.Object && _plans.Count < MaxPlans)
                    {
                        _plans.TryAdd(planKey, reported.GetRawText());
                    }
                    return result;
                }
                catch (SandboxInfrastructureException)
                {
                    worker.MarkBroken();
                    throw;
                }
            }
            catch (SandboxInfrastructureException e)
            {
                lastError = e.Message;
            }
            finally
            {
                await ReleaseAsync(worker);
            }
        }
        return SandboxResult.Infrastructure(lastError ?? "sandbox failed", task.TestCount, attempts);
    }

    /// <summary>Returns a worker's slot to the pool. A broken (also: cancelled mid-task) or worn-out worker is stopped
    /// without holding a thread, and its slot is refilled lazily by the next caller.</summary>
    private async ValueTask ReleaseAsync(SandboxWorker? worker)
    {
        if (worker is not null && (worker.IsBroken || worker.TasksRun >= _options.RecycleAfter || _disposed != 0))
        {
            await worker.DisposeAsync();
            worker = null;
        }
        if (!_idle.Writer.TryWrite(worker) && worker is not null)
        {
            await worker.DisposeAsync();
        }
    }

    /// <summary>
    /// Starts a worker; one whose start fails (its process gone before its ready line: seen once in a CI run of the whole
    /// suite, with no stderr) is started once more, through the same isolation checks. A second failure is the error.
    /// </summary>
    private async Task<SandboxWorker> StartWorkerAsync(CancellationToken ct)
    {
        try
        {
            return await SandboxWorker.StartAsync(Isolation, _scriptDir, Limits, _owner, Interlocked.Increment(ref _nextWorkerId), ct);
        }
        catch (SandboxInfrastructureException) when (!ct.IsCancellationRequested)
        {
            return await SandboxWorker.StartAsync(Isolation, _scriptDir, Limits, _owner, Interlocked.Increment(ref _nextWorkerId), ct);
        }
    }

    /// <summary>The request bytes: a 22-byte header with the two parts' lengths, the candidate part (what the program's
    /// process may see: the program and limits) and the harness part (the tests, read by the worker only after the
    /// program's process is forked).</summary>
    internal static byte[] BuildRequest(SandboxTask task, SandboxLimits limits, long id) =>
        Request(CandidatePart(task, limits, id), HarnessPart(task));

    private static byte[] Request(byte[] candidate, byte[] harness)
    {
        byte[] header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{candidate.Length:D10} {harness.Length:D10}\n"));
        return [.. header, .. candidate, .. harness];
    }

    /// <summary>The harness part with a cached plan added (its JSON object ends with '}').</summary>
    private static byte[] WithPlan(byte[] harness, string plan) =>
        [.. harness.AsSpan(0, harness.Length - 1), .. ",\"plan\":"u8, .. Encoding.UTF8.GetBytes(plan), (byte)'}'];

    private static byte[] CandidatePart(SandboxTask task, SandboxLimits limits, long id) =>
        Json(json =>
        {
            json.WriteNumber("id", id);
            json.WriteString("solution", task.Solution);
            json.WriteNumber("timeout", limits.Timeout.TotalSeconds);
            json.WriteNumber("cpu_seconds", limits.CpuSeconds);
            json.WriteNumber("memory_bytes", limits.MemoryBytes);
            json.WriteNumber("file_size_bytes", limits.FileSizeBytes);
            json.WriteNumber("open_files", limits.OpenFiles);
            // RLIMIT_NPROC counts every process of uid 65534 on the host, so it is a loose backstop; the pids cgroup binds.
            json.WriteNumber("processes", Math.Max(limits.Processes * 8, 512));
            json.WriteNumber("max_output_bytes", limits.MaxOutputBytes);
            json.WriteNumber("max_result_items", MaxResultItems);
            json.WriteNumber("test_count", task.TestCount);
        });

    private static byte[] HarnessPart(SandboxTask task) =>
        Json(json =>
        {
            json.WriteString("mode", task.Mode == SandboxMode.Calls ? "io" : "asserts");
            json.WriteString("setup", task.Setup ?? "");
            json.WriteString("context", task.Context ?? "");
            json.WriteString("reference", task.Reference ?? "");
            json.WriteBoolean("force_fallback", task.InProcess);
            if (task.EntryPoint is null)
            {
                json.WriteNull("entry_point");
            }
            else
            {
                json.WriteString("entry_point", task.EntryPoint);
            }

            json.WriteStartArray("tests");
            foreach (string t in task.Tests)
            {
                json.WriteStringValue(t);
            }

            json.WriteEndArray();
            json.WriteStartArray("inputs");
            foreach (string input in task.CallInputs)
            {
                json.WriteRawValue(input);
            }

            json.WriteEndArray();
            json.WriteNumber("max_result_items", MaxResultItems);
        });

    /// <summary>Most values (items, and characters / 8) a returned value may hold.</summary>
    private const int MaxResultItems = 2_000_000;

    private static byte[] Json(Action<Utf8JsonWriter> fields)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            fields(json);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Reads a worker's response; a missing or mistyped field is a broken worker
    /// (<see cref="SandboxInfrastructureException"/>), never an exception out of scoring.</summary>
    internal static SandboxResult Parse(JsonElement root, SandboxTask task, int attempts)
    {
        try
        {
            bool timedOut = root.GetProperty("timed_out").GetBoolean();
            var tests = new TestRun[task.TestCount];
            var raw = root.GetProperty("tests");
            for (int i = 0; i < tests.Length; i++)
            {
                var rec = i < raw.GetArrayLength() ? raw[i] : default;
                tests[i] = rec.ValueKind != JsonValueKind.Object
                    ? new TestRun(i, timedOut ? TestRunKind.Timeout : TestRunKind.Error, timedOut ? "not finished in time" : "did not run")
                    : rec.TryGetProperty("ok", out _) && task.Mode == SandboxMode.Asserts ? new TestRun(i, TestRunKind.Ran)
                    : rec.TryGetProperty("v", out var v) && task.Mode == SandboxMode.Calls ? new TestRun(i, TestRunKind.Returned, null, v.Clone())
                    : rec.TryGetProperty("f", out var f) ? new TestRun(i, TestRunKind.AssertionFailed, f.GetString())
                    : rec.TryGetProperty("timeout", out _) ? new TestRun(i, TestRunKind.Timeout, "test did not finish in time")
                    : new TestRun(i, TestRunKind.Error, rec.TryGetProperty("e", out var e) ? e.GetString() : "unknown test record");
            }
            int? Int(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : null;
            string? Text(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            return new SandboxResult(
                Completed: root.GetProperty("done").GetBoolean() && Int("exit_code") == 0,
                TimedOut: timedOut,
                ExitCode: Int("exit_code"),
                Signal: Int("signal"),
                SetupError: Text("setup_error"),
                Tests: tests,
                Output: root.GetProperty("output").GetString() ?? "",
                OutputTruncated: root.GetProperty("output_truncated").GetBoolean(),
                DurationMs: root.GetProperty("duration_ms").GetDouble(),
                InfraError: null,
                Attempts: attempts,
                ProblemError: Text("problem_error"),
                Forgeable: Text("forgeable"));
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            throw new SandboxInfrastructureException($"sandbox worker sent an incomplete response ({e.Message})", e);
        }
    }

    private static string WriteWorkerScript(SandboxOwner owner)
    {
        string dir = Directory.CreateTempSubdirectory($"{StaleSandboxes.ScriptFolderPrefix}{owner.Tag}-").FullName;
        var readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        PfPpo.Sandbox.Isolation.SetMode(dir, readable);
        using var resource = typeof(SandboxPool).Assembly.GetManifestResourceStream("PfPpo.Sandbox.worker.py")
            ?? throw new SandboxInfrastructureException("the sandbox worker script is missing from the assembly");
        string path = Path.Combine(dir, "worker.py");
        using (var file = File.Create(path))
        {
            resource.CopyTo(file);
        }
        PfPpo.Sandbox.Isolation.SetMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        return dir;
    }

    /// <summary>Stops every worker at once (each is killed, then all are awaited), so shutdown takes about as long as
    /// the slowest worker, not the sum.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _idle.Writer.TryComplete();
        var stopping = new List<Task>();
        while (_idle.Reader.TryRead(out var worker))
        {
            if (worker is not null)
            {
                stopping.Add(worker.DisposeAsync().AsTask());
            }
        }
        await Task.WhenAll(stopping);
        try
        {
            Directory.Delete(_scriptDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
