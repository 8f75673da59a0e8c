using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using PfPpo.Benchmarks;
using PfPpo.Bond;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.Filtration;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Pipeline;
using PfPpo.Ppo;
using PfPpo.Preference;
using PfPpo.Raft;
using PfPpo.Rewards;
using PfPpo.Runtime;
using PfPpo.Scoring;
using PfPpo.Tasks;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Compare;

/// <summary>
/// One method × seed of a comparison, as its <c>runs/METHOD/seed-S/summary.json</c> (and stage.json) holds it. Every
/// pass@1 is greedy, scored in the sandbox; the evaluated samples are in the run's <c>eval/</c> folder.
/// </summary>
/// <param name="EvalPassAt1">pass@1 of the final checkpoint on the test split (no selection).</param>
/// <param name="EvalPassAt1ByDifficulty">The same by the test tasks' difficulty level ("1" easy to "3" hard).</param>
/// <param name="Extra">pass@1 of the final checkpoint on each extra problem file, by file name.</param>
/// <param name="ValidationPassAt1">pass@1 of the final checkpoint on the validation split.</param>
/// <param name="BestCheckpoint">Of the run's checkpoints (<paramref name="Candidates"/> of them), the one with the highest validation pass@1 (the earliest on ties).</param>
/// <param name="BestEvalPassAt1">pass@1 of that checkpoint on the test split.</param>
/// <param name="SamplesTrained">Responses the policy's loss trained on, summed over the run (0 for SFT).</param>
public sealed record MethodRunResult(string Method, int Seed, string Kind, string? Filter,
    [property: JsonPropertyName("eval_pass_at_1")] double EvalPassAt1,
    [property: JsonPropertyName("eval_pass_at_1_by_difficulty")] IReadOnlyDictionary<string, double> EvalPassAt1ByDifficulty,
    IReadOnlyDictionary<string, double> Extra,
    [property: JsonPropertyName("validation_pass_at_1")] double ValidationPassAt1,
    string BestCheckpoint,
    [property: JsonPropertyName("best_validation_pass_at_1")] double BestValidationPassAt1,
    [property: JsonPropertyName("best_eval_pass_at_1")] double BestEvalPassAt1,
    int Candidates, long SamplesTrained, double TrainSeconds, double Seconds);

/// <summary>A checkpoint a run left and, when the trainer already measured it, its validation pass@1.</summary>
public sealed record Checkpoint(string Label, string Directory, double? ValidationPassAt1 = null);

/// <summary>What a method's trainer left: its checkpoints in training order (the last is the final model) and what it trained on.</summary>
public sealed record TrainedMethod(IReadOnlyList<Checkpoint> Checkpoints, long SamplesTrained, string? Filter);

/// <summary>The outcome of <see cref="Comparison.RunAsync"/>: compare.json as a tree, and where it and the table are.</summary>
public sealed record ComparisonResult(JsonObject Json, string Table, string JsonPath, string TablePath, IReadOnlyList<MethodRunResult> Runs);

/// <summary>
/// <c>pfppo compare</c>: the shared stages once (tasks with a validation split, tokenizer, model, SFT, RM data, RM, R²
/// on validation prompts), then every method × seed as a resumable stage of its own (<c>runs/METHOD/seed-S</c>) that
/// trains from the shared SFT model and RM and scores its checkpoints, then the statistics over seeds (compare.json,
/// compare.txt). Every figure of compare.json is recomputed from the runs' summary.json files by <see cref="Aggregate"/>.
/// </summary>
public static class Comparison
{
    public const string JsonFile = "compare.json";
    public const string TableFile = "compare.txt";
    public const string ConfigFile = "compare_config.json";
    public const string SharedFolder = "shared";
    public const string RunsFolder = "runs";
    public const string SummaryFile = "summary.json";
    public const string TrainFolder = "train";
    public const string EvalFolder = "eval";

    /// <summary>The stage names of a comparison's method runs, in run order (the observer sees these and the shared stages).</summary>
    public static IEnumerable<string> RunStages(CompareSettings settings) =>
        Resolve(settings).SelectMany(m => settings.Seeds.Select(s => RunStage(m.Name, s)));

    public static string RunStage(string method, int seed) => $"{method}/seed-{seed.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The shared stages' settings: the demo's, with the R² stage measuring the strategy of every filtration row of the
    /// catalog, whichever methods run, so adding a method to a finished comparison does not redo the shared stages.
    /// </summary>
    public static DemoSettings SharedSettings(CompareSettings settings) => settings.Shared with
    {
        Workers = settings.Workers, R2 = settings.Shared.R2 with { Strategies = string.Join(",", ComparisonMethods.Strategies(ComparisonMethods.All)) },
    };

    public static async Task<ComparisonResult> RunAsync(string outDir, CompareSettings settings, string command, bool force, IStageObserver? observer,
        Device device, CancellationToken cancellation = default)
    {
        IReadOnlyList<ComparisonMethod> methods = Resolve(settings);
        if (settings.Seeds.Count == 0 || settings.Seeds.Distinct().Count() != settings.Seeds.Count)
        {
            throw new ArgumentException("the seeds must be distinct and at least one.", nameof(settings));
        }
        if (settings.Shared.ValidationTasks < 1)
        {
            throw new ArgumentException("a comparison needs a validation split (Shared.ValidationTasks >= 1) to select checkpoints on.", nameof(settings));
        }
        // every extra problem file is read before anything trains, so a bad one fails in seconds, naming its line
        var extra = settings.EvalProblems.Select(path => (Name: Path.GetFileName(path), Problems: ProblemSet.Load(path).Problems)).ToArray();
        if (extra.Select(e => e.Name).Distinct(StringComparer.Ordinal).Count() != extra.Length)
        {
            throw new ArgumentException("the extra problem files must have distinct file names (results are keyed by name).", nameof(settings));
        }
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, ConfigFile), JsonSerializer.Serialize(settings, IndentedJson) + "\n");

        SharedOutcome shared = await SharedStages.RunAsync(new StageRunner(Path.Combine(outDir, SharedFolder), force, observer), SharedSettings(settings),
            evaluate: false, device, cancellation);
        string[] needPairs = [.. methods.Where(m => m.Kind is MethodKind.Preference or MethodKind.IterativePreference).Select(m => m.Name)];
        if (shared.RmData.Result.Pairs == 0 && needPairs.Length > 0)
        {
            throw new InvalidOperationException($"{string.Join(", ", needPairs)}: the reward model's data ({shared.Paths.RmData}) has no preference pair "
                + "(every prompt's responses scored alike), so there is nothing to train them on; leave them out or start from a stronger SFT model.");
        }
        var evaluation = new EvaluationSets(
            ProblemSet.Load(shared.Paths.Test).Problems, ProblemSet.Load(shared.Paths.Validation!).Problems,
            TaskJsonl.Read(shared.Paths.Test).ToDictionary(t => t.TaskId, t => t.Difficulty.ToString(CultureInfo.InvariantCulture)), extra);

        var runner = new StageRunner(Path.Combine(outDir, RunsFolder), force, observer);
        var runs = new List<MethodRunResult>();
        foreach (ComparisonMethod method in methods)
        {
            foreach (int seed in settings.Seeds)
            {
                string key = StageRunner.Key(new { Method = method, Seed = seed, Trainer = TrainerSettings(method, settings), settings.MaxNewTokens,
                    Extra = settings.EvalProblems.Select(Path.GetFullPath).ToArray() }, shared.Sft.Key, shared.RmData.Key, shared.Rm.Key, shared.Tasks.Key);
                StageOutcome<MethodRunResult> run = await runner.RunAsync(RunStage(method.Name, seed), key,
                    stage => RunMethodAsync(stage, method, seed, settings, shared, evaluation, device), cancellation);
                runs.Add(run.Result);
            }
        }

        JsonObject json = Aggregate(runs, methods.Select(m => m.Name).ToArray(), settings.Seeds, shared.R2Strategies, settings.Bootstrap);
        json["created"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        json["command"] = command;
        json["machine"] = $"{Environment.MachineName}: {Environment.ProcessorCount} cores, {Environment.OSVersion}, {device.type}";
        json["test_problems"] = evaluation.Test.Count;
        json["validation_problems"] = evaluation.Validation.Count;
        json["shared"] = new JsonObject
        {
            ["sft_dir"] = Path.GetRelativePath(outDir, shared.Paths.Sft), ["rm_dir"] = Path.GetRelativePath(outDir, shared.Paths.Rm),
            ["rm_accuracy"] = Finite(shared.Rm.Result.HeldOutAccuracy), ["rm_trained"] = shared.Rm.Result.Trained,
            ["r2_json"] = Path.GetRelativePath(outDir, Path.Combine(shared.Paths.R2, R2Run.JsonFile)),
            ["r2_prompts"] = Path.GetFileName(shared.Paths.Validation),
        };
        string jsonPath = Path.Combine(outDir, JsonFile), tablePath = Path.Combine(outDir, TableFile);
        AtomicFile.WriteAllText(jsonPath, json.ToJsonString(IndentedJson) + "\n");
        string table = ComparisonTable.Format(json);
        AtomicFile.WriteAllText(tablePath, table);
        return new ComparisonResult(json, table, jsonPath, tablePath, runs);
    }

    /// <summary>The methods of the settings, in the catalog's order (unknown names throw, listing the known ones).</summary>
    public static IReadOnlyList<ComparisonMethod> Resolve(CompareSettings settings) => ComparisonMethods.ParseList(string.Join(",", settings.Methods));

    /// <summary>
    /// compare.json's figures from the runs' results alone (so anyone can recompute them from runs/*/seed-*/summary.json):
    /// per method, pass@1 of the final checkpoint with its 95% interval over seeds, the best-on-validation checkpoint's,
    /// by difficulty, on each extra file, paired differences against PPO-M and SFT, R² of its strategy, wall time and
    /// samples trained; and the rank correlation between R² and pass@1 over the filtration rows.
    /// </summary>
    /// <param name="r2Strategies">The <c>strategies</c> object of the shared r2.json.</param>
    public static JsonObject Aggregate(IReadOnlyList<MethodRunResult> runs, IReadOnlyList<string> methods, IReadOnlyList<int> seeds, JsonObject r2Strategies,
        int bootstrap)
    {
        MethodRunResult Run(string method, int seed) => runs.FirstOrDefault(r => r.Method == method && r.Seed == seed)
            ?? throw new ArgumentException($"no result for {RunStage(method, seed)}", nameof(runs));
        double[] PerSeed(string method, Func<MethodRunResult, double> figure) => seeds.Select(s => figure(Run(method, s))).ToArray();

        var methodsJson = new JsonObject();
        foreach (string name in methods)
        {
            ComparisonMethod method = ComparisonMethods.Get(name);
            MethodRunResult first = Run(name, seeds[0]);
            double[] final = PerSeed(name, r => r.EvalPassAt1);
            var byDifficulty = new JsonObject();
            foreach (string level in first.EvalPassAt1ByDifficulty.Keys.Order(StringComparer.Ordinal))
            {
                byDifficulty[level] = IntervalJson(PerSeed(name, r => r.EvalPassAt1ByDifficulty[level]));
            }
            var extra = new JsonObject();
            foreach (string file in first.Extra.Keys.Order(StringComparer.Ordinal))
            {
                extra[file] = IntervalJson(PerSeed(name, r => r.Extra[file]));
            }
            double? r2 = method.IsFiltrationRow ? BinnedR2(r2Strategies, method.Filter) : null;
            methodsJson[name] = new JsonObject
            {
                ["kind"] = method.Kind.ToString().ToLowerInvariant(),
                ["description"] = method.Description,
                ["filter"] = method.Kind == MethodKind.Ppo ? first.Filter : null,
                ["filters_per_seed"] = method.Kind == MethodKind.Ppo ? new JsonArray(seeds.Select(s => (JsonNode?)Run(name, s).Filter).ToArray()) : null,
                ["pass_at_1"] = IntervalJson(final),
                ["best_val_pass_at_1"] = IntervalJson(PerSeed(name, r => r.BestEvalPassAt1)),
                ["validation_pass_at_1"] = IntervalJson(PerSeed(name, r => r.ValidationPassAt1)),
                ["by_difficulty"] = byDifficulty,
                ["extra"] = extra,
                ["vs_ppo_m"] = methods.Contains("ppo-m") && name != "ppo-m" ? IntervalJson(SeedStatistics.PairedDifference(final, PerSeed("ppo-m", r => r.EvalPassAt1))) : null,
                ["vs_sft"] = methods.Contains("sft") && name != "sft" ? IntervalJson(SeedStatistics.PairedDifference(final, PerSeed("sft", r => r.EvalPassAt1))) : null,
                ["r2"] = r2,
                ["seconds"] = Math.Round(PerSeed(name, r => r.Seconds).Average(), 1),
                ["samples_trained"] = PerSeed(name, r => r.SamplesTrained).Average(),
            };
        }

        string[] rows = methods.Where(m => ComparisonMethods.Get(m).IsFiltrationRow && BinnedR2(r2Strategies, ComparisonMethods.Get(m).Filter) is not null).ToArray();
        RankCorrelation correlation = SeedStatistics.R2RankCorrelation(rows, rows.Select(m => BinnedR2(r2Strategies, ComparisonMethods.Get(m).Filter)!.Value).ToArray(),
            rows.Select(m => (IReadOnlyList<double>)PerSeed(m, r => r.EvalPassAt1)).ToArray(), bootstrap, seed: 12);
        return new JsonObject
        {
            ["seeds"] = new JsonArray(seeds.Select(s => (JsonNode?)s).ToArray()),
            ["interval"] = "95% Student-t interval of the mean over seeds (null with one seed); differences are paired by seed",
            ["methods"] = methodsJson,
            ["r2_rank_correlation"] = rows.Length < 3 ? null : new JsonObject
            {
                ["spearman"] = correlation.Spearman, ["ci_low"] = correlation.CiLow, ["ci_high"] = correlation.CiHigh,
                ["strategies"] = new JsonArray(rows.Select(r => (JsonNode?)r).ToArray()), ["resamples"] = correlation.Resamples,
                ["interval"] = "2.5th-97.5th percentile over bootstrap resamples of the seeds; R² held fixed (one calibration rollout of the SFT policy)",
            },
            ["r2"] = r2Strategies.DeepClone(),
        };
    }

    /// <summary>compare.json from the runs' summary.json files under <paramref name="outDir"/> (what <see cref="RunAsync"/> wrote, recomputed).</summary>
    public static JsonObject Recompute(string outDir, IReadOnlyList<string> methods, IReadOnlyList<int> seeds, int bootstrap)
    {
        var runs = new List<MethodRunResult>();
        foreach (string method in methods)
        {
            foreach (int seed in seeds)
            {
                string path = Path.Combine(outDir, RunsFolder, method, $"seed-{seed.ToString(CultureInfo.InvariantCulture)}", SummaryFile);
                runs.Add(JsonSerializer.Deserialize<MethodRunResult>(File.ReadAllText(path), StageRunner.ResultJson)
                    ?? throw new DataFormatException($"{path}: empty result"));
            }
        }
        JsonObject r2 = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, SharedFolder, "r2", R2Run.JsonFile)))!["strategies"]!.AsObject();
        return Aggregate(runs, methods, seeds, r2, bootstrap);
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private sealed record EvaluationSets(IReadOnlyList<Problem> Test, IReadOnlyList<Problem> Validation, IReadOnlyDictionary<string, string> Difficulty,
        IReadOnlyList<(string Name, IReadOnlyList<Problem> Problems)> Extra);

    /// <summary>The settings of the trainer a method runs (what its stage key depends on besides the method and seed).</summary>
    private static object TrainerSettings(ComparisonMethod method, CompareSettings settings) => method.Kind switch
    {
        MethodKind.Sft => new { },
        MethodKind.Ppo => settings.Ppo with { Workers = 0 },
        MethodKind.Raft => settings.Raft with { Workers = 0 },
        MethodKind.Preference => settings.Preference with { Workers = 0 },
        MethodKind.Bond => settings.Bond with { Workers = 0 },
        MethodKind.IterativePreference => new { Rounds = settings.IterativeDpo with { Workers = 0 }, Preference = settings.Preference with { Workers = 0 } },
        _ => throw new NotSupportedException($"method kind {method.Kind}"),
    };

    private static async Task<MethodRunResult> RunMethodAsync(StageContext stage, ComparisonMethod method, int seed, CompareSettings settings,
        SharedOutcome shared, EvaluationSets sets, Device device)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string trainDir = Path.Combine(stage.Directory, TrainFolder);
        ResumeMode resume = stage.Resumable ? ResumeMode.ResumeIfPresent : ResumeMode.Fresh;
        var progress = new SynchronousProgress<TrainingProgress>(p => stage.Progress.Report((0.9 * p.Step / Math.Max(1, p.TotalSteps),
            string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps}"))));
        SharedPaths paths = shared.Paths;
        TrainedMethod trained;
        switch (method.Kind)
        {
            case MethodKind.Sft:
                trained = new TrainedMethod([new Checkpoint("sft", paths.Sft)], 0, null);
                break;
            case MethodKind.Ppo:
            {
                PpoOptions options = settings.Ppo with
                {
                    Algorithm = method.Algorithm, Filter = method.Filter, Seed = seed, Workers = settings.Workers,
                    // with no trained RM (rm-data found no pair) every RM row falls back to the execution reward, as the demo does
                    Reward = method.Reward ?? (shared.Rm.Result.Trained ? settings.Ppo.Reward : RewardSource.Execution),
                };
                PpoResult result = await PpoTrainer.RunAsync(new PpoInputs(paths.Sft, paths.Rm, paths.Train, trainDir, EvalProblems: paths.Validation),
                    options, device, ScalarType.Float32, resume, force: !stage.Resumable, progress, cancellation: stage.Cancellation);
                var checkpoints = new List<Checkpoint>();
                string best = Path.Combine(trainDir, PpoTrainer.BestFolder);
                if (result.BestIteration > 0 && result.BestIteration < result.Iterations && Directory.Exists(best))
                {
                    checkpoints.Add(new Checkpoint($"iteration {result.BestIteration}", best, result.BestEvalPassAt1));
                }
                checkpoints.Add(new Checkpoint("final", Path.Combine(trainDir, PpoTrainer.FinalFolder), result.EvalPassAt1));
                trained = new TrainedMethod(checkpoints, result.SamplesTrained, result.Filter);
                break;
            }
            case MethodKind.Raft:
            {
                var raftProgress = new SynchronousProgress<RaftProgress>(p => stage.Progress.Report((0.9 * (p.Round - 1 + (double)p.Done / Math.Max(1, p.Total)) / p.Rounds,
                    $"round {p.Round}/{p.Rounds} {p.Phase} {p.Done}/{p.Total}")));
                RaftResult result = await RaftTrainer.RunAsync(new RaftInputs(paths.Sft, paths.Rm, paths.Train, trainDir), settings.Raft with
                {
                    Seed = seed, Workers = settings.Workers,
                }, device, ScalarType.Float32, resume, force: !stage.Resumable, raftProgress, cancellation: stage.Cancellation);
                trained = new TrainedMethod(
                    [.. result.Rounds.Select(r => new Checkpoint(r.Round == result.Rounds.Count ? "final" : $"round {r.Round}",
                        Path.Combine(RaftTrainer.RoundFolder(trainDir, r.Round), "sft")))],
                    result.Rounds.Sum(r => (long)r.Prompts * settings.Raft.Sft.Epochs), null);
                break;
            }
            case MethodKind.Preference:
            {
                PreferenceOptions options = settings.Preference with { Loss = method.Loss, Seed = seed, Workers = settings.Workers };
                await PreferenceTrainer.RunAsync(paths.Sft, Path.Combine(paths.RmData, RmData.PairsFile), trainDir, options,
                    device, ScalarType.Float32, evalProblemsPath: null, resume, force: !stage.Resumable, progress, cancellation: stage.Cancellation);
                long pairs = JsonNode.Parse(File.ReadAllText(Path.Combine(trainDir, PreferenceTrainer.SummaryFile)))!["pairs_trained"]!.GetValue<long>();
                trained = new TrainedMethod([new Checkpoint("final", Path.Combine(trainDir, PreferenceTrainer.FinalFolder))], 2 * pairs, null);
                break;
            }
            case MethodKind.IterativePreference:
            {
                var roundProgress = new SynchronousProgress<IterativeDpoProgress>(p => stage.Progress.Report((0.9 * (p.Round - 1 + (double)p.Done / Math.Max(1, p.Total)) / p.Rounds,
                    $"round {p.Round}/{p.Rounds} {p.Phase} {p.Done}/{p.Total}")));
                IterativeDpoOptions options = settings.IterativeDpo with
                {
                    Seed = seed, Workers = settings.Workers, Preference = settings.Preference with { Loss = method.Loss, Workers = settings.Workers },
                };
                IterativeDpoResult result = await IterativeDpo.RunAsync(new IterativeDpoInputs(paths.Sft, paths.Rm, paths.Train, trainDir,
                    Pairs: Path.Combine(paths.RmData, RmData.PairsFile)), options, device, ScalarType.Float32, resume, force: !stage.Resumable, roundProgress,
                    cancellation: stage.Cancellation);
                trained = new TrainedMethod(
                    [.. result.Rounds.Select(r => new Checkpoint(r.Round == result.Rounds.Count ? "final" : $"round {r.Round}",
                        Path.Combine(IterativeDpo.RoundFolder(trainDir, r.Round), IterativeDpo.TrainingFolder, PreferenceTrainer.FinalFolder)))],
                    2 * result.PairsTrained, null);
                break;
            }
            case MethodKind.Bond:
            {
                var iterationProgress = new SynchronousProgress<BondProgress>(p => stage.Progress.Report((0.9 * (p.Iteration - 1 + (double)p.Done / Math.Max(1, p.Total)) / p.Iterations,
                    $"iteration {p.Iteration}/{p.Iterations} {p.Phase} {p.Done}/{p.Total}")));
                BondResult result = await BondTrainer.RunAsync(new BondInputs(paths.Sft, paths.Rm, paths.Train, trainDir),
                    settings.Bond with { Seed = seed, Workers = settings.Workers }, device, ScalarType.Float32, resume, force: !stage.Resumable,
                    iterationProgress, cancellation: stage.Cancellation);
                trained = new TrainedMethod(
                    [.. result.Iterations.Select(i => new Checkpoint(i.Iteration == result.Iterations.Count ? "final" : $"iteration {i.Iteration}",
                        Path.Combine(BondTrainer.IterationFolder(trainDir, i.Iteration), BondTrainer.ModelFolder)))],
                    result.SamplesTrained, null);
                break;
            }
            default:
                throw new NotSupportedException($"method kind {method.Kind}");
        }
        double trainSeconds = clock.Elapsed.TotalSeconds;

        string evalDir = Path.Combine(stage.Directory, EvalFolder);
        Directory.CreateDirectory(evalDir);
        await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(settings.Workers), stage.Cancellation);
        stage.Progress.Report((0.9, "validation"));
        var validation = new List<double>();
        for (int i = 0; i < trained.Checkpoints.Count; i++)
        {
            Checkpoint checkpoint = trained.Checkpoints[i];
            validation.Add(checkpoint.ValidationPassAt1 is double known && double.IsFinite(known) ? known
                : (await EvaluateAsync(checkpoint.Directory, sets.Validation, settings.MaxNewTokens, scorer, device, Path.Combine(evalDir, $"validation-{i}.jsonl"),
                    stage.Cancellation)).PassAt(1));
        }
        int bestIndex = validation.IndexOf(validation.Max());
        stage.Progress.Report((0.95, "test"));
        Checkpoint final = trained.Checkpoints[^1];
        EvalReport test = await EvaluateAsync(final.Directory, sets.Test, settings.MaxNewTokens, scorer, device, Path.Combine(evalDir, "test-final.jsonl"),
            stage.Cancellation);
        double bestTest = bestIndex == trained.Checkpoints.Count - 1 ? test.PassAt(1)
            : (await EvaluateAsync(trained.Checkpoints[bestIndex].Directory, sets.Test, settings.MaxNewTokens, scorer, device,
                Path.Combine(evalDir, "test-best.jsonl"), stage.Cancellation)).PassAt(1);
        var byDifficulty = test.Samples.GroupBy(s => sets.Difficulty[s.TaskId])
            .ToDictionary(g => g.Key, g => g.Count(s => s.Score.Passed) / (double)g.Count());
        var extra = new Dictionary<string, double>();
        foreach ((string name, IReadOnlyList<Problem> problems) in sets.Extra)
        {
            extra[name] = (await EvaluateAsync(final.Directory, problems, settings.MaxNewTokens, scorer, device,
                Path.Combine(evalDir, $"extra-{Path.GetFileNameWithoutExtension(name)}.jsonl"), stage.Cancellation)).PassAt(1);
        }
        var summary = new MethodRunResult(method.Name, seed, method.Kind.ToString().ToLowerInvariant(), trained.Filter, test.PassAt(1), byDifficulty, extra,
            validation[^1], trained.Checkpoints[bestIndex].Label, validation[bestIndex], bestTest, trained.Checkpoints.Count, trained.SamplesTrained,
            Math.Round(trainSeconds, 2), Math.Round(clock.Elapsed.TotalSeconds, 2));
        AtomicFile.WriteAllText(Path.Combine(stage.Directory, SummaryFile), JsonSerializer.Serialize(summary, IndentedResultJson) + "\n");
        return summary;
    }

    private static readonly JsonSerializerOptions IndentedResultJson = new(StageRunner.ResultJson) { WriteIndented = true };

    /// <summary>Greedy pass@1 of a checkpoint on problems, its samples written to <paramref name="samplesPath"/>.</summary>
    private static async Task<EvalReport> EvaluateAsync(string checkpointDir, IReadOnlyList<Problem> problems, int maxNewTokens, Scorer scorer, Device device,
        string samplesPath, CancellationToken cancellation)
    {
        using CausalLM model = HfCheckpoint.LoadCausalLM(checkpointDir, device);
        HfTokenizer tokenizer = HfTokenizer.Load(Path.Combine(checkpointDir, HfCheckpoint.TokenizerFile));
        using (model.EvalMode())
        {
            EvalReport report = await ModelEvaluator.RunAsync(model, tokenizer, problems, new EvalOptions
            {
                NumSamples = 1, Temperature = 0, MaxNewTokens = maxNewTokens, Ks = [1], EosTokenIds = HfCheckpoint.LoadEosTokenIds(checkpointDir),
            }, scorer, cancellation: cancellation);
            ResultsJsonl.Write(samplesPath, report.Samples);
            return report;
        }
    }

    /// <summary>The binned R² of <paramref name="filter"/> in r2.json's strategies, or null when undefined or not measured.</summary>
    public static double? BinnedR2(JsonObject r2Strategies, string filter)
    {
        string key = FiltrationStrategy.Parse(filter).ToString();
        return r2Strategies[key]?["binned"]?["r2"] is JsonValue value ? value.GetValue<double>() : null;
    }

    private static JsonObject IntervalJson(IReadOnlyList<double> perSeed) => IntervalJson(SeedStatistics.Interval(perSeed));

    private static JsonObject IntervalJson(SeedInterval interval) => new()
    {
        ["mean"] = interval.Mean, ["ci_low"] = interval.CiLow, ["ci_high"] = interval.CiHigh,
        ["per_seed"] = new JsonArray(interval.PerSeed.Select(v => (JsonNode?)v).ToArray()),
    };

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
