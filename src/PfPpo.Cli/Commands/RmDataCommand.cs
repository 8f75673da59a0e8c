using System.CommandLine;
using System.Globalization;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo rm-data</c>: sample N responses per prompt from a policy, score them, and build preference pairs by actual score.</summary>
public static class RmDataCommand
{
    public static Command Create()
    {
        var defaults = new RmDataOptions();
        var shared = ModelOptions.Create(
            model: "The policy (an SFT checkpoint, with tokenizer.json) to sample from.",
            output: "Output directory: samples.jsonl (every scored response) and pairs.jsonl.",
            seed: "Sampling seed.", modelFlag: "--policy");
        var problems = new Option<string>("--problems") { Description = "Problems jsonl (HumanEval, MBPP, LeetCode, EvalPlus or PfPpo tasks).", Required = true }.AcceptExistingFile();
        var n = new Option<int>("--n") { Description = "Responses sampled per prompt.", DefaultValueFactory = _ => defaults.SamplesPerPrompt }.InRange(2, 1000);
        var prompts = new Option<int?>("--prompts") { Description = "Use the first K problems (default: all)." }.InRange(1);
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature.", DefaultValueFactory = _ => defaults.Temperature }.InRange(0, 100, minInclusive: false);
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling threshold.", DefaultValueFactory = _ => defaults.TopP }.InRange(0, 1, minInclusive: false);
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Longest response.", DefaultValueFactory = _ => defaults.MaxNewTokens }.InRange(1, 1 << 16);
        var pairing = new Option<string>("--pairing") { Description = "max-edit: one pair per prompt, the two most different responses whose scores differ (the paper); all: every pair whose scores differ.", DefaultValueFactory = _ => "max-edit" };
        pairing.AcceptOnlyFromAmong("max-edit", "all");
        var workers = new Option<int>("--workers") { Description = "Sandbox workers (0: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();

        var command = new Command("rm-data", "Reward-model data: N samples per prompt scored in the sandbox, preference pairs labelled by actual score.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { problems, n, prompts, temperature, topP, maxNewTokens, pairing, workers })
        {
            command.Options.Add(option);
        }
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            var options = defaults with
            {
                SamplesPerPrompt = parse.GetValue(n), Prompts = parse.GetValue(prompts), Seed = common.Seed, Temperature = parse.GetValue(temperature),
                TopP = parse.GetValue(topP), MaxNewTokens = parse.GetValue(maxNewTokens), Workers = parse.GetValue(workers),
                Pairing = parse.GetValue(pairing) == "all" ? PairingMode.All : PairingMode.MaxEditDistance,
            };
            RmDataResult result = null!;
            await ProgressDisplay.StartAsync(async context =>
            {
                ProgressTask generated = context.AddTask("generated", maxValue: 1);
                ProgressTask scored = context.AddTask("scored", maxValue: 1);
                result = await RmData.RunAsync(common.Model!, parse.GetValue(problems)!, common.Output!, options, common.Device, common.DType,
                    new SynchronousProgress<RolloutProgress>(p =>
                    {
                        generated.MaxValue = scored.MaxValue = Math.Max(1, p.Total);
                        generated.Value = p.Generated;
                        scored.Value = p.Scored;
                    }), cancellation);
            });
            var table = new Table().AddColumns("prompts", "samples", "passed", "pairs", "no pair", "errors", "generate s", "sandbox s", "total s");
            table.AddRow(I(result.Prompts), I(result.Samples), double.IsNaN(result.PassRate) ? "-" : F(result.PassRate * 100, "F1") + "%",
                I(result.Pairs), I(result.PromptsWithoutPair), I(result.SandboxErrors), F(result.GenerationSeconds, "F1"),
                F(result.SandboxSeconds, "F1"), F(result.TotalSeconds, "F1"));
            AnsiConsole.WriteLine("no pair: prompts whose responses all scored the same; errors: samples the sandbox could not judge (left out); "
                + "sandbox s: wall time with a chunk being scored, overlapping generation");
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"samples: {result.SamplesPath}");
            AnsiConsole.WriteLine($"pairs: {result.PairsPath}");
            return 0;
        }));
        return command;
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
