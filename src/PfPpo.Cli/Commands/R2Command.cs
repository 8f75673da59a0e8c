using System.CommandLine;
using System.Globalization;
using PfPpo.Filtration;
using PfPpo.Rewards;
using PfPpo.Rollouts;
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
        var shared = ModelOptions.Create(model: null, output: "Output directory: samples.jsonl (with rewards) and r2.json.", seed: "Seed of the strategies' random choices and of the bootstrap.", dtype: true);
        var samples = new Option<string>("--samples") { Description = "Scored-samples jsonl (rm-data's samples.jsonl), with rewards or to be rewarded with --rm.", Required = true }.AcceptExistingFile();
        var rm = new Option<string?>("--rm") { Description = "Reward model to score the samples with first (needs --problems); without it the samples must carry rewards." };
        var problems = new Option<string?>("--problems") { Description = "The problems the samples answer (with --rm)." };
        var strategies = new Option<string>("--strategies") { Description = "Strategies, e.g. none,bon,br,bw,ranks:0.5,0.25,0.25,top:q0.8,pow:2 (docs/filtration.md).", DefaultValueFactory = _ => "none,bon,br,bw" };
        var bins = new Option<int>("--bins") { Description = "Equal-count reward bins of the binned R².", DefaultValueFactory = _ => 10 }.InRange(2, 10_000);
        var mode = new Option<string>("--mode") { Description = "drop: regress on the kept responses; weight: on every response, weighted.", DefaultValueFactory = _ => "drop" };
        mode.AcceptOnlyFromAmong("drop", "weight");
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap replicates (prompts resampled).", DefaultValueFactory = _ => 1000 }.InRange(1, 100_000);
        var recommend = new Option<bool>("--recommend") { Description = "Name the strategy with the highest binned R² and whether its interval overlaps the runner-up's." };
        var command = new Command("r2", "R² of actual score against reward per filtration strategy (PF-PPO section 3), with bootstrap intervals over prompts.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { samples, rm, problems, strategies, bins, mode, bootstrap, recommend })
        {
            command.Options.Add(option);
        }
        command.Validators.Add(result =>
        {
            if (result.GetValue(rm) is not null && result.GetValue(problems) is null)
            {
                result.AddError("--rm needs --problems (the prompts the reward model reads).");
            }
        });
        command.SetAction(parse => UserErrors.Run(() =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            IReadOnlyList<FiltrationStrategy> list;
            try
            {
                list = StrategySyntax.ParseList(parse.GetValue(strategies)!);
            }
            catch (FormatException e)
            {
                throw new UsageException($"--strategies: {e.Message}", e);
            }
            IReadOnlyList<ScoredSample> scored = parse.GetValue(rm) is string rmDir
                ? SampleRewards.Score(rmDir, parse.GetValue(problems)!, parse.GetValue(samples)!, common.Device, common.DType)
                : ScoredSamples.Read(parse.GetValue(samples)!);
            FiltrationMode filtrationMode = parse.GetValue(mode) == "weight" ? FiltrationMode.Weight : FiltrationMode.Drop;
            int seed = (int)common.Seed;
            IReadOnlyList<StrategyR2> results = R2Analysis.Run(scored, list, parse.GetValue(bins), filtrationMode, seed, parse.GetValue(bootstrap));
            string outDir = common.Output!;
            Directory.CreateDirectory(outDir);
            ScoredSamples.Write(Path.Combine(outDir, "samples.jsonl"), scored);
            R2Analysis.WriteJson(Path.Combine(outDir, "r2.json"), results, parse.GetValue(bins), filtrationMode, seed);

            var table = new Table().AddColumns("strategy", "kept", "R² per response [[95% CI]]", $"R² binned ({parse.GetValue(bins)} bins) [[95% CI]]");
            foreach (StrategyR2 r in results)
            {
                table.AddRow(Markup.Escape(r.Strategy), r.Kept.ToString(CultureInfo.InvariantCulture),
                    Markup.Escape(Describe(r.PerResponse.R2, r.PerResponseInterval)), Markup.Escape(Describe(r.Binned.Fit.R2, r.BinnedInterval)));
            }
            AnsiConsole.Write(table);
            if (parse.GetValue(recommend))
            {
                AnsiConsole.WriteLine(R2Analysis.Recommend(results) is var (best, second, overlaps)
                    ? $"recommended: {best.Strategy} (binned R² {F(best.Binned.Fit.R2)})" + (second is null ? "" : overlaps
                        ? $"; its interval overlaps {second.Strategy}'s, so the data do not separate them"
                        : $"; its interval lies above {second.Strategy}'s")
                    : "no strategy has a defined binned R²");
            }
            AnsiConsole.WriteLine($"r2: {Path.Combine(outDir, "r2.json")}");
            return 0;
        }));
        return command;
    }

    private static string Describe(double r2, R2Interval interval) =>
        double.IsNaN(r2) ? "undefined" : $"{F(r2)} [{F(interval.Low)}, {F(interval.High)}]";

    private static string F(double value) => double.IsNaN(value) ? "-" : value.ToString("F3", CultureInfo.InvariantCulture);
}
