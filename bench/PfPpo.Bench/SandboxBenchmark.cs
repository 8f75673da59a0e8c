using System.Diagnostics;
using System.Text.Json;
using PfPpo.Evaluation;
using PfPpo.Sandbox;
using Spectre.Console;

namespace PfPpo.Bench;

/// <summary>Programs/s of the warm sandbox pool against one fresh process per program (plain python3, and
/// python3 under a fresh bubblewrap sandbox), on generated HumanEval-style problems, all in the same run.</summary>
public static class SandboxBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        int count = IntArg(args, "--problems", 240);
        int workers = IntArg(args, "--workers", Environment.ProcessorCount);
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

            await using var scorer = await Scorer.CreateAsync(new ScorerOptions(workers));
            var requests = problems.Select(p => new ScoreRequest(p, p.Reference!, SampleKind.Solution)).ToArray();
            await scorer.ScoreAsync(requests.Take(workers * 4).ToArray()); // warm-up
            var pool = await Time(async () =>
            {
                var results = await scorer.ScoreAsync(requests);
                if (results.Any(r => !r.Passed)) throw new InvalidOperationException("a generated reference failed in the pool");
            });
            var fresh = await Time(() => RunEach(scripts, workers, s => ["/usr/bin/python3", "-I", "-S", s]));
            var freshBwrap = await Time(() => RunEach(scripts, workers,
                s => Isolation.PythonCommand(IsolationLevel.Bubblewrap, dir, $"/pfppo/{Path.GetFileName(s)}")));

            var table = new Table().AddColumns("runner", "programs", "seconds", "programs/s", "ms/program (x workers)");
            void Row(string name, double seconds) => table.AddRow(name, $"{count}", $"{seconds:0.000}", $"{count / seconds:0.0}",
                $"{seconds * 1000 * workers / count:0.00}");
            Row($"warm pool, bubblewrap ({scorer.Isolation.Level}), {workers} workers", pool);
            Row("fresh python3 -I -S per program, no sandbox", fresh);
            Row("fresh bwrap + python3 per program", freshBwrap);
            AnsiConsole.Write(table);
            Console.WriteLine($"pool speed-up: {fresh / pool:0.0}x vs fresh python3, {freshBwrap / pool:0.0}x vs fresh bwrap");
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
            foreach (string a in command.Skip(1)) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            await process.StandardOutput.ReadToEndAsync(ct);
            string err = await process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed: {err}");
        });
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
