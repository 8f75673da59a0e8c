using System.Diagnostics;
using System.Text.Json;
using PfPpo.Benchmarks;
using PfPpo.Sandbox;
using PfPpo.Scoring;

namespace PfPpo.Bench;

/// <summary>Programs/s of the warm sandbox pool against one fresh process per program (plain python3 with site as
/// harnesses run it, strict python3 -I -S, and python3 under a fresh bubblewrap sandbox), on generated
/// HumanEval-style problems, all in the same run.</summary>
public static class SandboxBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int count = IntArg(args, "--problems", 240);
        int workers = IntArg(args, "--workers", Environment.ProcessorCount);
        int rounds = IntArg(args, "--rounds", 5);
        int poolWorkers = IntArg(args, "--pool-workers", workers);
        var problems = Generate(count);
        var programs = problems.Select(p => p.Reference!).ToArray();
        string dir = Directory.CreateTempSubdirectory("pfppo-bench-").FullName;
        try
        {
            Isolation.SetMode(dir, (UnixFileMode)0b111_101_101);
            var scripts = new string[count];
            for (int i = 0; i < count; i++)
            {
                // What a fresh-process harness runs: the program, the test, the check call.
                scripts[i] = Path.Combine(dir, $"p{i}.py");
                File.WriteAllText(scripts[i], $"{programs[i]}\n{problems[i].Test}\ncheck({problems[i].EntryPoint})\n");
                Isolation.SetMode(scripts[i], (UnixFileMode)0b110_100_100);
            }

            await using var scorer = await Scorer.CreateAsync(new ScorerOptions(poolWorkers));
            var requests = problems.Select(p => new ScoreRequest(p, p.Reference!, SampleKind.Solution)).ToArray();
            await scorer.ScoreAsync(requests.Take(poolWorkers * 4).ToArray()); // warm-up
            // The machine is shared: run the runners in alternating order for several rounds, report medians.
            var poolCpu = new List<double>(); // CPU time of this (C#) process per program while the pool runs
            var runners = new (string Label, List<double> Times, Func<Task> Run)[]
            {
                ($"warm pool, {scorer.Isolation.Level} isolation, {poolWorkers} workers (fork per task)", [], async () =>
                {
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    var results = await scorer.ScoreAsync(requests);
                    poolCpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / count);
                    if (results.Any(r => !r.Passed)) { throw new InvalidOperationException("a generated reference failed in the pool"); } }),
                // How human-eval-style harnesses and most RL reward code run a program: a plain interpreter with site.
                ("fresh /usr/bin/python3 file.py per program (with site), no sandbox", [],
                    () => RunEach(scripts, workers, s => ["/usr/bin/python3", s])),
                ("fresh /usr/bin/python3 -I -S file.py per program, no sandbox", [],
                    () => RunEach(scripts, workers, s => ["/usr/bin/python3", "-I", "-S", s])),
                ("fresh bwrap + python3 -I -S per program (the pool's isolation flags)", [],
                    () => RunEach(scripts, workers, s => Isolation.PythonCommand(IsolationLevel.Bubblewrap, dir, $"/pfppo/{Path.GetFileName(s)}"))),
            };
            for (int round = 0; round < rounds; round++)
            {
                foreach (var (_, times, run) in round % 2 == 0 ? runners : runners.Reverse())
                {
                    times.Add(await Time(run));
                }
            }

            // A markdown table, ready for docs/benchmarks.md.
            Console.WriteLine($"| runner ({workers} at a time) | programs | median s | best s | programs/s (median) | ms/program x workers |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (var (label, times, _) in runners)
            {
                double median = Median(times);
                Console.WriteLine($"| {label} | {count} | {median:0.000} | {times.Min():0.000} | {count / median:0.0} | {median * 1000 * workers / count:0.00} |");
            }
            double poolMedian = Median(runners[0].Times);
            Console.WriteLine($"{rounds} rounds, medians; warm pool speed-up: " +
                string.Join(", ", runners.Skip(1).Select(r => $"{Median(r.Times) / poolMedian:0.0}x vs {r.Label}")));
            Console.WriteLine($"warm pool: CPU time of the scorer's own (C#) process {Median(poolCpu):0.00} ms/program (median)");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Small HumanEval-style problems, each different, with five asserts in a check function.</summary>
    private static List<Problem> Generate(int count)
    {
        var problems = new List<Problem>();
        for (int i = 0; i < count; i++)
        {
            string name = $"f{i}";
            string prompt = $"def {name}(xs):\n    \"\"\"Sum of x * {i % 7 + 1} + {i} over xs, plus the max of xs.\"\"\"\n";
            string body = $"    return sum(x * {i % 7 + 1} + {i} for x in xs) + max(xs)\n";
            var asserts = Enumerable.Range(1, 5).Select(n =>
            {
                var xs = Enumerable.Range(0, n + i % 5).ToArray();
                long expected = xs.Sum(x => (long)x * (i % 7 + 1) + i) + xs.Max();
                return $"    assert candidate([{string.Join(", ", xs)}]) == {expected}\n";
            });
            string test = "def check(candidate):\n" + string.Concat(asserts);
            var line = JsonSerializer.Serialize(new Dictionary<string, string>
            {
                ["task_id"] = $"bench/{i}", ["prompt"] = prompt, ["canonical_solution"] = body, ["test"] = test, ["entry_point"] = name,
            });
            using var doc = JsonDocument.Parse(line);
            problems.Add(ProblemSet.Parse(doc.RootElement, $"generated:{i + 1}"));
        }
        return problems;
    }

    private static async Task RunEach(string[] scripts, int workers, Func<string, List<string>> argv)
    {
        await Parallel.ForEachAsync(scripts, new ParallelOptions { MaxDegreeOfParallelism = workers }, async (script, ct) =>
        {
            var command = argv(script);
            var start = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in command.Skip(1))
            {
                start.ArgumentList.Add(a);
            }

            using var process = Process.Start(start)!;
            await process.StandardOutput.ReadToEndAsync(ct);
            string err = await process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{script} failed: {err}");
            }
        });
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task<double> Time(Func<Task> run)
    {
        var watch = Stopwatch.StartNew();
        await run();
        return watch.Elapsed.TotalSeconds;
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out int v) && v > 0 ? v : fallback;
    }
}
