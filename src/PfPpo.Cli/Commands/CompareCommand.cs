using System.CommandLine;
using System.Globalization;
using PfPpo.Compare;
using PfPpo.Pipeline;
using PfPpo.Reports;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo compare</c>: the paper's comparison on one pipeline, every method over seeds, with intervals (docs/compare.md).</summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset")
        {
            Description = "quick: sft, ppo-m, pf-br, pf-bw, grpo, ppo-execution over 3 seeds; paper: every method over 5 seeds.",
            DefaultValueFactory = _ => "quick",
        };
        preset.AcceptOnlyFromAmong("quick", "paper");
        var methods = new Option<string?>("--methods")
        {
            Description = $"Comma-separated methods instead of the preset's: {string.Join(", ", ComparisonMethods.All.Select(m => m.Name))}.",
        };
        methods.Validators.Add(result =>
        {
            try
            {
                ComparisonMethods.ParseList(result.GetValueOrDefault<string>() ?? "");
            }
            catch (FormatException e)
            {
                result.AddError($"--methods: {e.Message}");
            }
        });
        var seeds = new Option<int?>("--seeds") { Description = "Seeds per method (1..K) instead of the preset's." }.InRange(1, 100);
        var output = new Option<string>("--out")
        {
            Description = "Comparison directory: shared/ (tasks, SFT, RM, R²), runs/METHOD/seed-S/, compare.json, compare.txt, report.html.",
            DefaultValueFactory = _ => Path.Combine("runs", "compare"),
        }.AcceptWritableFolder();
        var evalProblems = new Option<string[]>("--eval-problems")
        {
            Description = "Extra problem files (HumanEval, MBPP or LeetCode jsonl) every method's final model is also scored on.",
            AllowMultipleArgumentsPerToken = true,
        }.AcceptExistingFile();
        var iterations = new Option<int?>("--iterations") { Description = "PPO-family iterations per run instead of the preset's." }.InRange(1, 100_000);
        var force = new Option<bool>("--force") { Description = "Rerun every stage even if its folder holds a finished run with the same settings." };
        var workers = new Option<int>("--workers") { Description = "Sandbox workers (0: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();
        var shared = ModelOptions.Create(model: null, dtype: false); // --device and --threads

        var command = new Command("compare", "Run the paper's comparison on one pipeline: one SFT model and RM, every method × seed as a resumable stage, pass@1 with 95% intervals over seeds, R² against pass@1.");
        foreach (Option option in new Option[] { preset, methods, seeds, output, evalProblems, iterations, force, workers })
        {
            command.Options.Add(option);
        }
        shared.AddTo(command);
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            CompareSettings settings = CompareSettings.Preset(parse.GetValue(preset)!);
            if (parse.GetValue(methods) is string list)
            {
                settings = settings with { Methods = [.. ComparisonMethods.ParseList(list).Select(m => m.Name)] };
            }
            if (parse.GetValue(seeds) is int k)
            {
                settings = settings with { Seeds = [.. Enumerable.Range(1, k)] };
            }
            if (parse.GetValue(iterations) is int n)
            {
                settings = settings with { Ppo = settings.Ppo with { Iterations = n } };
            }
            settings = settings with { EvalProblems = parse.GetValue(evalProblems) ?? [], Workers = parse.GetValue(workers) };
            string outDir = parse.GetValue(output)!;
            string commandLine = "pfppo " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));
            ComparisonResult result = null!;
            string[] stages = [.. SharedStages.Names(evaluate: false), .. Comparison.RunStages(settings)];
            await StageProgressObserver.RunAsync(stages, async observer =>
                result = await Comparison.RunAsync(outDir, settings, commandLine, parse.GetValue(force), observer, common.Device, cancellation));
            Console.Write(result.Table);
            Console.WriteLine($"compare.json: {result.JsonPath}");
            Console.WriteLine($"table: {result.TablePath}");
            Console.WriteLine($"report: {HtmlReport.Write(outDir)}");
            return 0;
        }));
        return command;
    }
}
