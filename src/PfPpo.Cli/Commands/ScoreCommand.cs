using System.CommandLine;
using System.Text.Json;
using PfPpo.Benchmarks;
using PfPpo.IO;
using PfPpo.Sandbox;
using PfPpo.Scoring;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo score</c>: runs samples (or each problem's reference) against a benchmark in the sandbox and
/// reports pass@k.</summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var problems = new Option<FileInfo>("--problems") { Description = "Problems jsonl (HumanEval, MBPP, LeetCode or PfPpo structured format).", Required = true }
            .AcceptExistingFile();
        var samples = new Option<FileInfo?>("--samples") { Description = "Samples jsonl: {\"task_id\", \"completion\"} or {\"task_id\", \"solution\"} per line." }
            .AcceptExistingFile();
        var canonical = new Option<bool>("--canonical") { Description = "Score each problem's own reference solution (a data-set sanity check)." };
        var output = new Option<FileInfo?>("--out") { Description = "Write one JSON line per sample, in input order." }.AcceptWritableFile();
        var ks = new Option<string>("--k") { Description = "Comma-separated k values for pass@k.", DefaultValueFactory = _ => "1,10" }.AcceptKList();
        var workers = new Option<int>("--workers") { Description = "Sandbox workers (default: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();
        var timeout = new Option<double?>("--timeout") { Description = $"Time limit per program in seconds (default {SandboxLimits.Default.Timeout.TotalSeconds:0}); calibrated problems may get more." }
            .InRange(0, 3600, minInclusive: false);
        var noCalibrate = new Option<bool>("--no-calibrate") { Description = "Do not raise time limits from the reference solutions' measured runtimes." };
        var challenge = new Option<bool>("--challenge-tests") { Description = "Also run MBPP's challenge_test_list." };
        var json = new Option<bool>("--json") { Description = "Print the summary as one JSON object instead of a table." };

        var command = new Command("score", "Score samples against a benchmark in the sandbox and report pass@k.")
        {
            problems, samples, canonical, output, ks, workers, timeout, noCalibrate, challenge, json,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(canonical) == (result.GetResult(samples) is not null))
            {
                result.AddError("give exactly one of --samples FILE or --canonical.");
            }
        });
        command.SetAction((parse, ct) => UserErrors.RunAsync(async () =>
        {
            {
                var options = new Options(
                    parse.GetValue(problems)!.FullName, parse.GetValue(samples)?.FullName, parse.GetValue(canonical),
                    parse.GetValue(output)?.FullName, ScoreReport.ParseKs(parse.GetValue(ks)!), parse.GetValue(workers), parse.GetValue(timeout),
                    !parse.GetValue(noCalibrate), parse.GetValue(challenge), parse.GetValue(json));
                return await RunAsync(options, ct);
            }
        }));
        return command;
    }

    private sealed record Options(string Problems, string? Samples, bool Canonical, string? Out, int[] Ks, int Workers,
        double? TimeoutSeconds, bool Calibrate, bool ChallengeTests, bool Json);

    /// <summary>What to score: each problem's reference (--canonical) or the samples file's programs.</summary>
    private static List<ScoreRequest> Requests(Options o)
    {
        var set = ProblemSet.Load(o.Problems, o.ChallengeTests);
        var requests = new List<ScoreRequest>();
        if (o.Canonical)
        {
            foreach (var problem in set.Problems)
            {
                requests.Add(new ScoreRequest(problem, problem.Reference
                    ?? throw new DataFormatException($"{problem.Source}: problem '{problem.TaskId}' has no reference solution ('canonical_solution', " +
                        "'completion' or MBPP's 'code'; DeepSeek-Coder's LeetCode contest set ships none): score a samples file with --samples"),
                    SampleKind.Solution));
            }
            return requests;
        }
        foreach (var sample in SampleFile.Load(o.Samples!))
        {
            var problem = set.Find(sample.TaskId)
                ?? throw new DataFormatException($"{sample.Source}: unknown task_id '{sample.TaskId}' (not in {o.Problems})");
            requests.Add(new ScoreRequest(problem, sample.Code, sample.Kind));
        }
        if (requests.Count == 0)
        {
            throw new DataFormatException($"{o.Samples}: no samples in the file");
        }
        return requests;
    }

    private static async Task<int> RunAsync(Options o, CancellationToken ct)
    {
        // --samples/--canonical, --workers, --timeout, --k and --out were checked while parsing, before any work.
        var limits = SandboxLimits.Default;
        if (o.TimeoutSeconds is double limitSeconds)
        {
            limits = limits with { Timeout = TimeSpan.FromSeconds(limitSeconds), CpuSeconds = Math.Max(limits.CpuSeconds, (int)Math.Ceiling(limitSeconds) + 1) };
        }
        // The sandbox workers start (a Python interpreter each) while the problems and samples are read.
        var creating = Task.Run(() => Scorer.CreateAsync(new ScorerOptions(o.Workers, limits), ct), ct);
        List<ScoreRequest> requests;
        try
        {
            requests = Requests(o);
        }
        catch
        {
            try
            {
                await (await creating).DisposeAsync();
            }
            catch
            {
                // the file's error is the one to report, whatever starting the sandbox did
            }
            throw;
        }

        await using var scorer = await creating;
        if (scorer.Isolation.Warning.Length > 0)
        {
            Console.Error.WriteLine($"warning: {scorer.Isolation.Warning}");
        }
        var started = DateTime.UtcNow;
        // Calibration runs a problem's reference only when one of its samples timed out at the default limit.
        var results = await scorer.ScoreAsync(requests, ct, calibrate: o.Calibrate && !o.Canonical);
        double seconds = (DateTime.UtcNow - started).TotalSeconds;

        if (o.Out is not null)
        {
            ResultsJsonl.Write(o.Out, results);
        }

        var summary = ScoreSummary.Compute(results, o.Ks);
        if (o.Json)
        {
            ScoreReport.PrintJson(summary, scorer.Isolation, seconds);
        }
        else
        {
            ScoreReport.PrintTable(o.Canonical ? "reference solutions" : "pass@k", summary, scorer.Isolation, seconds);
        }

        if (summary.Errors > 0)
        {
            Console.Error.WriteLine($"warning: {summary.Errors} sample(s) hit sandbox failures and were left out of pass@k");
        }
        if (o.Canonical && summary.Passed != summary.Samples)
        {
            var failed = results.Where(r => !r.Passed).Take(5).Select(r => $"{r.TaskId} ({r.Status}: {r.Error})");
            Console.Error.WriteLine($"error: {summary.Samples - summary.Passed} reference solution(s) did not pass: {string.Join("; ", failed)}");
            return 1;
        }
        return 0;
    }
}
