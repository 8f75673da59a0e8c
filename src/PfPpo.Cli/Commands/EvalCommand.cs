using System.CommandLine;
using System.Globalization;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.Model;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Scoring;
using PfPpo.Tokenization;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo eval</c>: generate completions for benchmark problems with a model and score them in the sandbox.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var defaults = new EvalOptions();
        var shared = ModelOptions.Create(model: "Hugging Face checkpoint directory (with tokenizer.json).", seed: "Sampling seed.");
        var problems = new Option<string>("--problems") { Description = "Problems jsonl: HumanEval, MBPP, LeetCode, EvalPlus or PfPpo tasks (as for pfppo score).", Required = true }
            .AcceptExistingFile();
        var n = new Option<int>("--n") { Description = "Samples per problem.", DefaultValueFactory = _ => 1 }.InRange(1, 100_000);
        var temperature = new Option<double?>("--temperature") { Description = "Sampling temperature; 0 is greedy (default: 0 for --n 1, else 1.0)." }.InRange(0, 100);
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling threshold.", DefaultValueFactory = _ => defaults.TopP }.InRange(0, 1, minInclusive: false);
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely tokens (0: all).", DefaultValueFactory = _ => defaults.TopK }.InRange(0);
        var ks = new Option<string?>("--k") { Description = "pass@k values, e.g. 1,4 (default: 1 and --n)." }.AcceptKList();
        var output = new Option<string?>("--out") { Description = "Per-sample results jsonl (completion, status, tests passed, ...), in problem then sample order." }.AcceptWritableFile();
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Longest completion (capped at the model's context).", DefaultValueFactory = _ => defaults.MaxNewTokens }.InRange(1);
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per generation micro-batch.", DefaultValueFactory = _ => defaults.MicroBatchSize }.InRange(1, 65_536);
        var limit = new Option<int?>("--limit") { Description = "Evaluate only the first N problems." }.InRange(1);
        var challenge = new Option<bool>("--challenge-tests") { Description = "MBPP: also run challenge_test_list." };
        var workers = new Option<int>("--workers") { Description = "Sandbox workers (0: one per core).", DefaultValueFactory = _ => 0 }.WorkerCount();

        var command = new Command("eval", "Generate with a model and score in the sandbox: greedy pass@1 by default, sampled pass@k with --n and --temperature.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { problems, n, temperature, topP, topK, ks, output, json, maxNewTokens, batchSize, limit,
                     challenge, workers })
        {
            command.Options.Add(option);
        }
        command.Validators.Add(result =>
        {
            int count = result.GetValue(n);
            try
            {
                if (result.GetValue(ks) is string text && ScoreReport.ParseKs(text).FirstOrDefault(k => k > count) is > 0 and int tooLarge)
                {
                    result.AddError($"--k: every k must be at most --n ({count}), got {tooLarge}.");
                }
            }
            catch (UsageException)
            {
                // A malformed --k list is reported by its own rule.
            }
        });
        command.SetAction((parse, cancellation) => UserErrors.RunAsync(async () =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            int samples = parse.GetValue(n);
            double temp = parse.GetValue(temperature) ?? (samples == 1 ? 0.0 : 1.0);
            int[] kValues = parse.GetValue(ks) is string text ? ScoreReport.ParseKs(text) : new[] { 1, samples }.Distinct().ToArray();
            if (samples > 1 && temp == 0)
            {
                Console.Error.WriteLine("warning: --n > 1 with --temperature 0 gives identical greedy samples.");
            }
            var options = new EvalOptions
            {
                NumSamples = samples, Temperature = temp, TopP = parse.GetValue(topP), TopK = parse.GetValue(topK), Ks = kValues,
                MaxNewTokens = parse.GetValue(maxNewTokens), Seed = common.Seed, MicroBatchSize = parse.GetValue(batchSize),
                EosTokenIds = HfCheckpoint.LoadEosTokenIds(common.Model!), // the ids pfppo generate stops on
            };
            IReadOnlyList<Problem> set = ProblemSet.Load(parse.GetValue(problems)!, parse.GetValue(challenge)).Problems;
            if (parse.GetValue(limit) is int max)
            {
                set = set.Take(Math.Max(0, max)).ToArray();
            }
            string modelDir = common.Model!;
            HfTokenizer tokenizer = HfTokenizer.Load(Path.Combine(modelDir, HfCheckpoint.TokenizerFile));
            if (set.Count > 0)
            {
                RolloutPrompt longest = set.Select(p => RolloutPrompt.For(p, tokenizer)).MaxBy(p => p.Tokens.Count)!;
                options = options with
                {
                    MaxNewTokens = ContextLimit.Cap(options.MaxNewTokens, longest.Tokens.Count,
                        HfCheckpoint.LoadConfig(modelDir).MaxPositionEmbeddings, $"the longest prompt ({longest.Problem.TaskId})"),
                };
            }
            using CausalLM lm = HfCheckpoint.LoadCausalLM(modelDir, common.Device, common.DType);
            lm.eval();

            await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(parse.GetValue(workers)), cancellation);
            if (scorer.Isolation.Warning.Length > 0)
            {
                Console.Error.WriteLine($"warning: {scorer.Isolation.Warning}");
            }
            IReadOnlyList<SampleResult> references = await scorer.CalibrateAsync(set.Where(p => p.Reference is not null).ToArray(), cancellation);
            int broken = references.Count(r => !r.Passed);
            if (broken > 0)
            {
                Console.Error.WriteLine($"warning: {broken} reference solution(s) did not pass; their problems keep the default time limit");
            }

            EvalReport report = null!;
            // Progress goes to stderr so that stdout stays one JSON object with --json.
            await ProgressDisplay.StartAsync(async context =>
            {
                ProgressTask generated = context.AddTask("generated", maxValue: set.Count);
                ProgressTask scored = context.AddTask("scored", maxValue: set.Count);
                report = await ModelEvaluator.RunAsync(lm, tokenizer, set, options, scorer, new SynchronousProgress<EvalProgress>(p =>
                {
                    generated.Value = p.Generated;
                    scored.Value = p.Scored;
                }), cancellation);
            });

            if (parse.GetValue(output) is string path)
            {
                ResultsJsonl.Write(path, report.Samples);
            }
            string tokensPerSecond = (report.GeneratedTokens / Math.Max(1e-9, report.GenerationSeconds)).ToString("F0", CultureInfo.InvariantCulture);
            if (parse.GetValue(json))
            {
                ScoreReport.PrintJson(report.Summary, scorer.Isolation, report.TotalSeconds, w =>
                {
                    if (double.IsNaN(report.MixedFraction))
                    {
                        w.WriteNull("mixed_fraction");
                    }
                    else
                    {
                        w.WriteNumber("mixed_fraction", report.MixedFraction);
                    }
                    w.WriteNumber("temperature", temp);
                    w.WriteNumber("n", samples);
                    w.WriteNumber("generated_tokens", report.GeneratedTokens);
                    w.WriteNumber("generation_seconds", Math.Round(report.GenerationSeconds, 3));
                });
            }
            else
            {
                var extra = new List<(string, string)>
                {
                    ("sampling", temp == 0 ? "greedy" : $"T={temp.ToString(CultureInfo.InvariantCulture)}, top-p {options.TopP.ToString(CultureInfo.InvariantCulture)}, n={samples}"),
                    ("generation", $"{report.GeneratedTokens} tokens in {report.GenerationSeconds:F1} s ({tokensPerSecond} tokens/s)"),
                };
                if (!double.IsNaN(report.MixedFraction))
                {
                    extra.Add(("mixed fraction", $"{report.MixedFraction * 100:F1}%"));
                }
                ScoreReport.PrintTable("pass@k", report.Summary, scorer.Isolation, report.TotalSeconds, extra);
            }
            return 0;
        }));
        return command;
    }
}
