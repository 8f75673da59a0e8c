using System.CommandLine;
using System.Globalization;
using PfPpo.Filtration;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary>
/// <c>pfppo r2</c>: which filtration strategy does a reward model support? R² of actual score against reward on the
/// responses each strategy keeps, per response and binned, with bootstrap intervals over prompts.
/// </summary>
public static class R2Command
{
    public static Command Create()
    {
        var defaults = new R2RunOptions();
        var shared = ModelOptions.Create(model: null, output: "Output directory: samples.jsonl (with rewards), r2.json, reliability.png and r2.png.",
            seed: "Seed of the sampling, the strategies' random choices and the bootstrap.", dtype: true);
        var policy = new Option<string?>("--policy") { Description = "Policy checkpoint to sample from (with --rm and --problems); or give --samples." };
        var samples = new Option<string?>("--samples") { Description = "Reuse a scored-samples jsonl (rm-data's or r2's samples.jsonl) instead of sampling; with rewards, or to be rewarded with --rm." }.AcceptExistingFile();
        var rm = new Option<string?>("--rm") { Description = "Reward model to score the samples with (needs --problems); without it the samples must carry rewards." };
        var problems = new Option<string?>("--problems") { Description = "The problems to sample (with --policy) or that the samples answer (with --rm)." }.AcceptExistingFile();
        var n = new Option<int>("--n") { Description = "Responses sampled per prompt (with --policy).", DefaultValueFactory = _ => defaults.Sampling.SamplesPerPrompt }.InRange(1, 1000);
        var prompts = new Option<int?>("--prompts") { Description = "Sample the first K problems (with --policy; default: all)." }.InRange(1);
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature (with --policy).", DefaultValueFactory = _ => defaults.Sampling.Temperature }.InRange(0, 100, minInclusive: false);
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling threshold (with --policy).", DefaultValueFactory = _ => defaults.Sampling.TopP }.InRange(0, 1, minInclusive: false);
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Longest response (with --policy).", DefaultValueFactory = _ => defaults.Sampling.MaxNewTokens }.InRange(1, 1 << 16);
        var workers = new Option<int>("--workers") { Description = "Sandbox workers (0: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();
        var strategies = new Option<string>("--strategies") { Description = "Strategies, e.g. none,bon,br,bw,ranks:0.5,0.25,0.25,top:q0.8,pow:2 (docs/filtration.md).", DefaultValueFactory = _ => defaults.Strategies };
        var bins = new Option<int>("--bins") { Description = "Equal-count reward bins of the binned R².", DefaultValueFactory = _ => defaults.Bins }.InRange(2, 10_000);
        var mode = new Option<string>("--mode") { Description = "drop: regress on the kept responses; weight: on every response, weighted.", DefaultValueFactory = _ => "drop" };
        mode.AcceptOnlyFromAmong("drop", "weight");
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap replicates (prompts resampled).", DefaultValueFactory = _ => defaults.Bootstrap }.InRange(1, 100_000);
        var recommend = new Option<bool>("--recommend") { Description = "Name the strategy with the highest binned R² and whether its interval overlaps the runner-up's." };
        var command = new Command("r2", "R² of actual score against reward per filtration strategy (PF-PPO section 3), with bootstrap intervals over prompts.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { policy, samples, rm, problems, n, prompts, temperature, topP, maxNewTokens, workers, strategies, bins, mode, bootstrap, recommend })
        {
            command.Options.Add(option);
        }
        command.Validators.Add(result =>
        {
            try
            {
                new R2Inputs(result.GetValue(policy), result.GetValue(rm), result.GetValue(problems), result.GetValue(samples)).Validate();
            }
            catch (ArgumentException e)
            {
                result.AddError(e.Message);
            }
        });
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            string strategyText = parse.GetValue(strategies)!;
            try
            {
                _ = StrategySyntax.ParseList(strategyText);
            }
            catch (FormatException e)
            {
                throw new UsageException($"--strategies: {e.Message}", e);
            }
            var options = defaults with
            {
                Strategies = strategyText, Bins = parse.GetValue(bins), Bootstrap = parse.GetValue(bootstrap), Seed = (int)common.Seed,
                Mode = parse.GetValue(mode) == "weight" ? FiltrationMode.Weight : FiltrationMode.Drop,
                Sampling = defaults.Sampling with
                {
                    SamplesPerPrompt = parse.GetValue(n), Prompts = parse.GetValue(prompts), Seed = common.Seed, Temperature = parse.GetValue(temperature),
                    TopP = parse.GetValue(topP), MaxNewTokens = parse.GetValue(maxNewTokens), Workers = parse.GetValue(workers),
                },
            };
            var inputs = new R2Inputs(parse.GetValue(policy), parse.GetValue(rm), parse.GetValue(problems), parse.GetValue(samples));
            R2RunResult run = null!;
            await ProgressDisplay.StartAsync(async context =>
            {
                ProgressTask? generated = null, scored = null;
                run = await R2Run.RunAsync(inputs, common.Output!, options, common.Device, common.DType,
                    new SynchronousProgress<RolloutProgress>(p =>
                    {
                        generated ??= context.AddTask("generated", maxValue: 1);
                        scored ??= context.AddTask("scored", maxValue: 1);
                        generated.MaxValue = scored.MaxValue = Math.Max(1, p.Total);
                        generated.Value = p.Generated;
                        scored.Value = p.Scored;
                    }), cancellation);
            });
            IReadOnlyList<StrategyR2> results = run.Strategies;

            var table = new Table().AddColumns("strategy", "kept", "R² per response [[95% CI]]", $"R² binned ({options.Bins} bins) [[95% CI]]");
            foreach (StrategyR2 r in results)
            {
                table.AddRow(Markup.Escape(r.Strategy), r.Kept.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(Describe(r.PerResponse.R2, r.PerResponseInterval)), Markup.Escape(Describe(r.Binned.Fit.R2, r.BinnedInterval)));
            }
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{run.Samples} samples of {run.Prompts} prompts; the reward orders {P(run.PairAccuracy.Accuracy)} of the {run.PairAccuracy.Pairs} same-prompt pairs whose scores differ"));
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"seconds: generation {run.GenerationSeconds:F1}, sandbox {run.SandboxSeconds:F1} (overlaps generation), reward {run.RewardSeconds:F1}, analysis {run.AnalysisSeconds:F1}, total {run.TotalSeconds:F1}"));
            if (parse.GetValue(recommend))
            {
                AnsiConsole.WriteLine(R2Analysis.Recommend(results) is var (best, second, overlaps)
                    ? $"recommended: {best.Strategy} (binned R² {F(best.Binned.Fit.R2)})" + (second is null ? "" : overlaps
                        ? $"; its interval overlaps {second.Strategy}'s, so the data do not separate them"
                        : $"; its interval lies above {second.Strategy}'s")
                    : "no strategy has a defined binned R²");
            }
            AnsiConsole.WriteLine($"r2: {run.JsonPath}");
            foreach (string plot in run.PlotPaths)
            {
                AnsiConsole.WriteLine($"plot: {plot}");
            }
            return 0;
        }));
        return command;
    }

    private static string P(double value) => double.IsNaN(value) ? "-" : (value * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    private static string Describe(double r2, R2Interval interval) =>
        double.IsNaN(r2) ? "undefined" : $"{F(r2)} [{F(interval.Low)}, {F(interval.High)}]";

    private static string F(double value) => double.IsNaN(value) ? "-" : value.ToString("F3", CultureInfo.InvariantCulture);
}
