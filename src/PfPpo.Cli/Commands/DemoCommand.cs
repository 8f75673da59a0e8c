using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using PfPpo.Pipeline;
using PfPpo.Reports;
using PfPpo.Runtime;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo demo</c>: the embedded end-to-end default (tasks, tokenizer, tiny model, SFT, evaluation, reward model, R²).</summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var defaults = new DemoSettings();
        var output = new Option<string>("--out") { Description = "Run directory (one folder per stage, summary.json).", DefaultValueFactory = _ => Path.Combine("runs", "demo") }
            .AcceptWritableFolder();
        var force = new Option<bool>("--force") { Description = "Rerun every stage even if its folder holds a finished run with the same settings." };
        var seed = new Option<int>("--seed") { Description = "Seed of tasks, model init, data order and sampling.", DefaultValueFactory = _ => defaults.Seed };
        var train = new Option<int>("--train") { Description = "Training tasks.", DefaultValueFactory = _ => defaults.TrainTasks }.InRange(1, 1_000_000);
        var test = new Option<int>("--test") { Description = "Held-out test tasks.", DefaultValueFactory = _ => defaults.TestTasks }.InRange(1, 100_000);
        var epochs = new Option<int>("--epochs") { Description = "SFT epochs.", DefaultValueFactory = _ => defaults.Sft.Epochs }.InRange(1, 1000);
        var learningRate = new Option<double>("--lr") { Description = "SFT peak learning rate.", DefaultValueFactory = _ => defaults.Sft.LearningRate }.InRange(0, 1, minInclusive: false);
        var batchSize = new Option<int>("--batch-size") { Description = "SFT sequences per step.", DefaultValueFactory = _ => defaults.Sft.BatchSize }.InRange(1, 65_536);
        var vocab = new Option<int>("--vocab-size") { Description = "Tokenizer vocabulary size.", DefaultValueFactory = _ => defaults.VocabSize }.InRange(300, 1 << 20);
        var hidden = new Option<int>("--hidden") { Description = "Model width (heads keep 32 dims each).", DefaultValueFactory = _ => defaults.Shape.Hidden }
            .InRange(32, 1 << 16);
        hidden.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() % 32 != 0)
            {
                result.AddError($"--hidden must be a multiple of 32, got {result.GetValueOrDefault<int>()}.");
            }
        });
        var layers = new Option<int>("--layers") { Description = "Model depth.", DefaultValueFactory = _ => defaults.Shape.Layers }.InRange(1, 256);
        var workers = new Option<int>("--workers") { Description = "Sandbox workers (0: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();
        var shared = ModelOptions.Create(model: null, dtype: false); // --device and --threads

        var command = new Command("demo", "Run the embedded default end to end: generated tasks, tokenizer, tiny model, SFT, sandboxed evaluation, reward model, R² per filtration strategy, PPO-M and PF-PPO.");
        foreach (Option option in new Option[] { output, force, seed, train, test, epochs, learningRate, batchSize, vocab, hidden, layers, workers })
        {
            command.Options.Add(option);
        }
        shared.AddTo(command);
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            int width = parse.GetValue(hidden);
            var settings = defaults with
            {
                Seed = parse.GetValue(seed), TrainTasks = parse.GetValue(train), TestTasks = parse.GetValue(test),
                Sft = defaults.Sft with { Epochs = parse.GetValue(epochs), LearningRate = parse.GetValue(learningRate), BatchSize = parse.GetValue(batchSize) },
                VocabSize = parse.GetValue(vocab),
                Shape = defaults.Shape with
                {
                    Hidden = width, Layers = parse.GetValue(layers), Heads = width / 32, KvHeads = Math.Max(1, width / 64),
                    Intermediate = (int)(Math.Round(width * 8.0 / 3 / 32) * 32),
                },
                Workers = parse.GetValue(workers),
            };
            string outDir = parse.GetValue(output)!;
            DemoSummary summary = null!;
            IReadOnlyList<StageRecord> records = await StageProgressObserver.RunAsync(Demo.Stages, async observer =>
                summary = await Demo.RunAsync(outDir, settings, parse.GetValue(force), observer, common.Device, cancellation));

            var stages = new Table().Title("stages").AddColumns("stage", "seconds", "result");
            foreach (StageRecord record in records)
            {
                stages.AddRow(record.Stage, F(record.Seconds, "F1") + (record.Reused ? " (reused)" : ""),
                    Markup.Escape(record.Result.ToJsonString()));
            }
            AnsiConsole.Write(stages);
            var results = new Table().Title("held-out test tasks").AddColumns("metric", "value");
            results.AddRow("pass@1 (greedy), SFT", Percent(summary.GreedyPassAt1));
            results.AddRow($"pass@1 (greedy), PPO-M ({summary.PpoM.Iterations} iterations)", Percent(summary.PpoM.PassAt1));
            results.AddRow($"pass@1 (greedy), PF-PPO {Markup.Escape(summary.PfPpo.Filter)} ({summary.PfPpo.Iterations} iterations)", Percent(summary.PfPpo.PassAt1));
            results.AddRow($"pass@{settings.Samples} (T={settings.SampleTemperature.ToString(CultureInfo.InvariantCulture)})", Percent(summary.PassAtSamples));
            results.AddRow("pass@1 (sampled)", Percent(summary.SampledPassAt.GetValueOrDefault(1, double.NaN)));
            results.AddRow("mixed fraction", Percent(summary.MixedFraction));
            results.AddRow($"RM held-out pair accuracy ({summary.RmHeldOutPairs} pairs)", Percent(summary.RmAccuracy));
            results.AddRow($"RM pair accuracy on test samples ({summary.R2Stage.Pairs} pairs)", Percent(summary.R2Stage.PairAccuracy));
            results.AddRow("parameters", summary.Parameters.ToString("N0", CultureInfo.InvariantCulture));
            results.AddRow("sandbox", summary.Isolation);
            results.AddRow("total seconds", F(summary.TotalSeconds, "F1"));
            AnsiConsole.Write(results);
            var r2 = new Table().Title($"R² of actual score on reward, held-out test samples ({summary.R2Stage.Samples})")
                .AddColumns("strategy", "kept", "R² binned [[95% CI]]", "R² per response [[95% CI]]");
            foreach ((string strategy, JsonNode? node) in summary.R2)
            {
                r2.AddRow(Markup.Escape(strategy), node!["kept"]!.ToJsonString(), Markup.Escape(Fit(node["binned"]!)), Markup.Escape(Fit(node["per_response"]!)));
            }
            AnsiConsole.Write(r2);
            if (!summary.RmTrained)
            {
                AnsiConsole.WriteLine("rm-data gave no preference pair (every prompt's responses scored alike), so the reward model is untrained and its R² means nothing.");
            }
            if (summary.R2Stage.Recommended is string best)
            {
                AnsiConsole.WriteLine($"highest binned R²: {best}" + (summary.R2Stage.RecommendationOverlaps ? " (its interval overlaps the runner-up's)" : ""));
            }
            AnsiConsole.WriteLine($"plots: {Path.Combine(outDir, "r2", R2Plots.ReliabilityFile)}, {Path.Combine(outDir, "r2", R2Plots.R2File)}");
            AnsiConsole.WriteLine($"summary: {Path.Combine(outDir, "summary.json")}");
            AnsiConsole.WriteLine($"report: {HtmlReport.Write(outDir)}");
            return 0;
        }));
        return command;
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Fit(JsonNode fit) => fit["r2"] is JsonNode r2
        ? $"{F(r2.GetValue<double>(), "F3")} [{Bound(fit["ci_low"])}, {Bound(fit["ci_high"])}]"
        : "undefined";

    private static string Bound(JsonNode? value) => value is null ? "-" : F(value.GetValue<double>(), "F3");

    private static string Percent(double value) => double.IsNaN(value) ? "n/a" : (value * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";
}
