using System.Collections.Concurrent;
using System.Text.Json;
using PfPpo.Benchmarks;
using PfPpo.Sandbox;

namespace PfPpo.Scoring;

/// <summary>Options of a <see cref="Scorer"/>.</summary>
/// <param name="Workers">Sandbox workers; 0 means one per core.</param>
/// <param name="Limits">Default task limits (their timeout is the floor of every calibrated timeout).</param>
/// <param name="CalibrationFactor">A calibrated problem gets max(default timeout, factor x reference runtime).</param>
/// <param name="MaxIsolation">Strongest isolation to try.</param>
public sealed record ScorerOptions(
    int Workers = 0,
    SandboxLimits? Limits = null,
    double CalibrationFactor = 5.0,
    IsolationLevel MaxIsolation = IsolationLevel.Bubblewrap);

/// <summary>One program to score against one problem.</summary>
/// <param name="Kind">Whether <paramref name="Code"/> is appended to the prompt or is a whole program.</param>
public sealed record ScoreRequest(Problem Problem, string Code, SampleKind Kind = SampleKind.Completion);

/// <summary>Scores programs against problems in a sandbox pool. Thread-safe; create once, score many times.</summary>
public sealed class Scorer : IAsyncDisposable, IDisposable
{
    private readonly SandboxPool _pool;
    private readonly ScorerOptions _options;
    private readonly ConcurrentDictionary<Problem, TimeSpan> _timeouts = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<Problem, Lazy<Task<GroundTruth>>> _groundTruth = new(ReferenceEqualityComparer.Instance);

    /// <summary>The reference's tagged outputs for an EvalPlus problem, or why there are none.</summary>
    private sealed record GroundTruth(IReadOnlyList<JsonElement>? Outputs, string? Error);

    private Scorer(SandboxPool pool, ScorerOptions options)
    {
        _pool = pool;
        _options = options;
    }

    /// <summary>The isolation in use; <see cref="IsolationReport.Missing"/> lists what this host lacks.</summary>
    public IsolationReport Isolation => _pool.Isolation;

    public int Workers => _pool.WorkerCount;

    /// <summary>Starts the sandbox pool.</summary>
    public static async Task<Scorer> CreateAsync(ScorerOptions? options = null, CancellationToken ct = default)
    {
        options ??= new ScorerOptions();
        if (!(options.CalibrationFactor >= 1))
        {
            throw new ArgumentException($"{nameof(options.CalibrationFactor)} must be at least 1.");
        }

        var pool = await SandboxPool.CreateAsync(new SandboxPoolOptions(options.Workers, options.Limits, options.MaxIsolation), ct);
        return new Scorer(pool, options);
    }

    /// <summary>The time limit a problem's programs get: the calibrated one, else the default.</summary>
    public TimeSpan TimeoutFor(Problem problem) => _timeouts.GetValueOrDefault(problem, _pool.Limits.Timeout);

    /// <summary>Scores every request; results come back in request order. With <paramref name="calibrate"/>, a sample
    /// that times out is scored again under its problem's calibrated limit (see <see cref="CalibrateAsync"/>): only
    /// problems with a timed-out sample run their reference, and since a calibrated limit is never below the default,
    /// the verdicts are those of calibrating every problem first.</summary>
    public async Task<IReadOnlyList<SampleResult>> ScoreAsync(IReadOnlyList<ScoreRequest> requests, CancellationToken ct = default,
        bool calibrate = false)
    {
        var results = new SampleResult[requests.Count];
        await ForEachAsync(Enumerable.Range(0, requests.Count).ToList(), async (i, token) => results[i] = await ScoreOneAsync(requests[i], token), ct);
        if (!calibrate)
        {
            return results;
        }

        var slow = Enumerable.Range(0, requests.Count).Where(i => results[i].Status == SampleStatus.Timeout).ToList();
        var problems = slow.Select(i => requests[i].Problem).Where(p => p.Reference is not null && !_timeouts.ContainsKey(p))
            .Distinct(ReferenceEqualityComparer.Instance).Cast<Problem>().ToList();
        if (problems.Count == 0)
        {
            return results;
        }

        await CalibrateAsync(problems, ct);
        var rerun = slow.Where(i => TimeoutFor(requests[i].Problem) > _pool.Limits.Timeout).ToList();
        await ForEachAsync(rerun, async (i, token) => results[i] = await ScoreOneAsync(requests[i], token), ct);
        return results;
    }

    private Task ForEachAsync(IReadOnlyList<int> indices, Func<int, CancellationToken, ValueTask> body, CancellationToken ct) =>
        Parallel.ForEachAsync(indices, new ParallelOptions { MaxDegreeOfParallelism = _pool.WorkerCount, CancellationToken = ct }, body);

    /// <summary>Scores one request.</summary>
    public async Task<SampleResult> ScoreOneAsync(ScoreRequest request, CancellationToken ct = default)
    {
        string program = ProgramAssembler.Program(request.Problem, request.Code, request.Kind);
        return await RunAsync(request.Problem, program, TimeoutFor(request.Problem), ct);
    }

    /// <summary>Runs each problem's reference solution once and sets its time limit to
    /// max(default, factor x measured runtime). Returns the reference's own results (a data-set sanity check:
    /// all should pass). Problems without a reference keep the default and get an error result.</summary>
    public async Task<IReadOnlyList<SampleResult>> CalibrateAsync(IReadOnlyList<Problem> problems, CancellationToken ct = default)
    {
        var results = new SampleResult[problems.Count];
        // The reference may itself be slow on a busy machine: give it a generous budget while measuring.
        var measuring = _pool.Limits.Timeout * Math.Max(3, _options.CalibrationFactor);
        await ForEachAsync(Enumerable.Range(0, problems.Count).ToList(),
            async (i, token) =>
            {
                var problem = problems[i];
                if (problem.Reference is null)
                {
                    results[i] = new SampleResult(problem.TaskId, SampleStatus.Error, 0, problem.TestCount, 0,
                        $"{problem.Source}: problem has no reference solution", "", []);
                    return;
                }
                var result = await RunAsync(problem, problem.Reference, measuring, token);
                results[i] = result;
                if (result.Status == SampleStatus.Passed)
                {
                    var calibrated = TimeSpan.FromMilliseconds(result.DurationMs * _options.CalibrationFactor);
                    _timeouts[problem] = calibrated > _pool.Limits.Timeout ? calibrated : _pool.Limits.Timeout;
                }
            }, ct);
        return results;
    }

    private async Task<SampleResult> RunAsync(Problem problem, string program, TimeSpan timeout, CancellationToken ct)
    {
        var limits = _pool.Limits with
        {
            Timeout = timeout,
            CpuSeconds = Math.Max(_pool.Limits.CpuSeconds, (int)Math.Ceiling(timeout.TotalSeconds) + 1),
        };
        IReadOnlyList<JsonElement>? expected = null;
        if (problem.Format == ProblemFormat.EvalPlus)
        {
            var lazy = _groundTruth.GetOrAdd(problem, p => new Lazy<Task<GroundTruth>>(() => ComputeGroundTruthAsync(p, CancellationToken.None)));
            var truth = await lazy.Value;
            if (truth.Outputs is null)
            {
                // Not cached: a sandbox failure or a machine too busy for the reference must not fail this problem forever.
                _groundTruth.TryRemove(new KeyValuePair<Problem, Lazy<Task<GroundTruth>>>(problem, lazy));
                return new SampleResult(problem.TaskId, SampleStatus.Error, 0, problem.TestCount, 0, truth.Error, "", []);
            }
            expected = truth.Outputs;
            timeout = timeout > TimeoutFor(problem) ? timeout : TimeoutFor(problem);
            limits = limits with { Timeout = timeout, CpuSeconds = Math.Max(limits.CpuSeconds, (int)Math.Ceiling(timeout.TotalSeconds) + 1) };
        }
        var task = ProgramAssembler.Build(problem, program, limits);
        var run = await _pool.RunAsync(task, ct);
        return Verdicts.Judge(problem, run, expected);
    }

    /// <summary>EvalPlus ships inputs only: run the reference once on this machine (which also calibrates the
    /// problem's time limit) and keep its outputs as the expected values.</summary>
    private async Task<GroundTruth> ComputeGroundTruthAsync(Problem problem, CancellationToken ct)
    {
        var measuring = _pool.Limits.Timeout * Math.Max(3, _options.CalibrationFactor);
        var limits = _pool.Limits with { Timeout = measuring, CpuSeconds = Math.Max(_pool.Limits.CpuSeconds, (int)Math.Ceiling(measuring.TotalSeconds) + 1) };
        var run = await _pool.RunAsync(ProgramAssembler.Build(problem, problem.Reference!, limits), ct);
        if (run.InfraError is not null)
        {
            return new GroundTruth(null, $"sandbox failure computing the reference outputs: {run.InfraError}");
        }

        if (run.SetupError is not null)
        {
            return new GroundTruth(null, $"{problem.Source}: the reference solution failed: {run.SetupError}");
        }

        var bad = run.Tests.FirstOrDefault(t => t.Kind != Sandbox.TestRunKind.Returned);
        if (bad is not null)
        {
            return new GroundTruth(null, $"{problem.Source}: the reference solution failed on input {bad.Index}: {bad.Kind} {bad.Message}");
        }

        var calibrated = TimeSpan.FromMilliseconds(run.DurationMs * _options.CalibrationFactor);
        _timeouts.TryAdd(problem, calibrated > _pool.Limits.Timeout ? calibrated : _pool.Limits.Timeout);
        return new GroundTruth(run.Tests.Select(t => t.Value!.Value).ToArray(), null);
    }

    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    public void Dispose() => _pool.Dispose();
}
