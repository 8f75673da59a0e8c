using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Ppo;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Scoring;
using PfPpo.Sft;
using PfPpo.Tasks;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Pipeline;

/// <summary>Everything the embedded demo chooses; the defaults are measured choices (docs/benchmarks.md, "Demo").</summary>
public sealed record DemoSettings
{
    public int Seed { get; init; } = TaskGenerator.DefaultSeed;
    public int TrainTasks { get; init; } = TaskGenerator.DefaultTrainCount;
    public int TestTasks { get; init; } = TaskGenerator.DefaultTestCount;
    public int VocabSize { get; init; } = 1024;
    public ModelShape Shape { get; init; } = new("qwen2", Hidden: 128, Layers: 4, Heads: 4, KvHeads: 2, Intermediate: 352, Tied: true, MaxPositions: 512);
    public SftOptions Sft { get; init; } = new()
    {
        Epochs = 3, BatchSize = 16, LearningRate = 3e-3, WarmupFraction = 0.05, MinLearningRateRatio = 0.05,
        WeightDecay = 0.1, GradClip = 1.0, EvalEvery = 100, LogEvery = 10, MaxLength = 384, HeldOutFraction = 0.05,
        SaveEvery = 250, // an interrupted demo resumes its SFT from the last of these
    };
    /// <summary>Samples per test prompt for pass@k (at <see cref="SampleTemperature"/>).</summary>
    public int Samples { get; init; } = 4;
    public double SampleTemperature { get; init; } = 1.0;
    public int MaxNewTokens { get; init; } = 128;
    public int Workers { get; init; }

    /// <summary>Reward-model data: samples of the first training prompts by the SFT model (seeded with <see cref="Seed"/>).</summary>
    public RmDataOptions RmData { get; init; } = new() { Prompts = 400, SamplesPerPrompt = 5, MaxNewTokens = 128, Pairing = PairingMode.All };
    /// <summary>The reward model, trained from the SFT model on those pairs (seeded with <see cref="Seed"/>).</summary>
    public RewardTrainerOptions Rm { get; init; } = new()
    {
        // 1 epoch as in the paper: a second one drove training accuracy to 1 and the held-out loss up (docs/results.md)
        Epochs = 1, BatchSize = 16, LearningRate = 1e-3, HeldOutFraction = 0.1, EvalEvery = 20, LogEvery = 5, SaveEvery = 50, MaxLength = 512,
    };
    /// <summary>R² per strategy on fresh samples of the held-out test prompts (sampled, rewarded, analysed).</summary>
    public R2RunOptions R2 { get; init; } = new()
    {
        Strategies = "none,bon,br,bw", Bins = 10, Bootstrap = 1000,
        Sampling = new PolicySamplingOptions { SamplesPerPrompt = 5, MaxNewTokens = 128 },
    };
    /// <summary>
    /// The two RL stages, PPO-M and PF-PPO, on the SFT model and the RM (seeded with <see cref="Seed"/>); each ends with
    /// greedy pass@1 of its final actor on the held-out test tasks (no checkpoint selection). Sized to the demo's time
    /// budget, not to move pass@1: docs/results.md has longer runs.
    /// </summary>
    public PpoOptions Ppo { get; init; } = new()
    {
        Reward = RewardSource.Rm, PromptsPerIteration = 16, SamplesPerPrompt = 5, Iterations = 4, MiniBatchSize = 40, Epochs = 2,
        ActorLearningRate = 1e-4, CriticLearningRate = 1e-3, CriticWarmupIterations = 1, MaxNewTokens = 128, EvalEvery = 0, HeldOutFraction = 0,
    };
}

// --- each stage's typed result (stage.json holds it as snake_case JSON) ---
public sealed record TasksResult(int Train, int Test, int HeldOutPairs);
public sealed record TokenizerResult(int VocabSize);
public sealed record InitResult(long Parameters);
public sealed record SftStageResult(int Steps, double TrainLoss, double? HeldOutLoss, int TrainExamples, int DroppedExamples);

/// <param name="GreedyPassAt1">pass@1 of greedy decoding.</param>
/// <param name="SampledPassAt">pass@k of the sampled completions, by k (1 and the sample count).</param>
public sealed record EvalStageResult(double GreedyPassAt1, IReadOnlyDictionary<int, double> SampledPassAt, double MixedFraction,
    string Isolation, double GenerationSeconds);

public sealed record RmDataStageResult(int Prompts, int Samples, int Pairs, int PromptsWithoutPair, int SandboxErrors, double PassRate,
    double GenerationSeconds, double SandboxSeconds);

/// <param name="HeldOutAccuracy">Share of the held-out pairs (prompts the RM never trained on) that the RM ranks right.</param>
/// <param name="Trained">False when rm-data gave no pair: the RM is then the SFT backbone with its fresh score head, untrained.</param>
public sealed record RmStageResult(int Steps, double TrainLoss, double HeldOutAccuracy, int TrainPairs, int HeldOutPairs, int DroppedPairs,
    double RewardMean, double RewardStd, bool Trained);

/// <param name="PairAccuracy">Share of the same-prompt sample pairs with differing scores that the reward orders right.</param>
/// <param name="Recommended">The strategy with the highest binned R², or null when none is defined.</param>
public sealed record R2StageResult(int Prompts, int Samples, double PairAccuracy, int Pairs, string? Recommended, bool RecommendationOverlaps,
    double GenerationSeconds, double SandboxSeconds, double RewardSeconds);

/// <summary>The demo's outcome, as written to <c>summary.json</c>.</summary>
/// <param name="SampledPassAt">pass@k of <c>Samples</c> completions per task at the sampling temperature, by k.</param>
/// <param name="RmAccuracy">The reward model's held-out pair accuracy, over <paramref name="RmHeldOutPairs"/> pairs (NaN when it was not trained).</param>
/// <param name="R2">The <c>strategies</c> object of the r2 stage's r2.json.</param>
/// <param name="PpoM">The PPO-M stage (no filter); <paramref name="PfPpo"/> the PF-PPO stage (the filtering strategy with the highest binned R²).</param>
public sealed record DemoSummary(double GreedyPassAt1, IReadOnlyDictionary<int, double> SampledPassAt, int Samples, double MixedFraction,
    IReadOnlyDictionary<string, double> StageSeconds, double TotalSeconds, long Parameters, string Isolation, double RmAccuracy, int RmHeldOutPairs,
    JsonObject R2, R2StageResult R2Stage, bool RmTrained, RlStageResult PpoM, RlStageResult PfPpo)
{
    /// <summary>pass@k at the largest k: all samples of a task.</summary>
    public double PassAtSamples => SampledPassAt[Samples];
}

/// <summary>
/// The embedded end-to-end default: generate tasks, train a tokenizer, initialise a tiny model, SFT it, evaluate it in
/// the sandbox, then reward-model data from the SFT model, a reward model, and the R² analysis on the held-out tasks.
/// Each stage calls the same code as its own command (<c>pfppo tasks</c>, <c>train-tokenizer</c>, <c>init-model</c>,
/// <c>sft</c>, <c>eval</c>, <c>rm-data</c>, <c>rm-train</c>, <c>r2</c>) and keeps its output in its own folder, so one
/// stage can be rerun alone.
/// </summary>
public static class Demo
{
    public static readonly IReadOnlyList<string> Stages = ["tasks", "tokenizer", "init", "sft", "eval", "rm-data", "rm", "r2", "ppo-m", "pf-ppo"];

    public static async Task<DemoSummary> RunAsync(string outDir, DemoSettings settings, bool force, IStageObserver? observer,
        Device device, CancellationToken cancellation = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var runner = new StageRunner(outDir, force, observer);
        string trainPath = Path.Combine(runner.StageDirectory("tasks"), "train.jsonl");
        string testPath = Path.Combine(runner.StageDirectory("tasks"), "test.jsonl");

        // 1. tasks: the generated benchmark (train.jsonl, test.jsonl)
        StageOutcome<TasksResult> tasks = await runner.RunAsync("tasks", StageRunner.Key(new { settings.Seed, settings.TrainTasks, settings.TestTasks }), stage =>
        {
            TaskSplits splits = TaskGenerator.Generate(settings.Seed, settings.TrainTasks, settings.TestTasks);
            TaskJsonl.Write(trainPath, splits.Train);
            TaskJsonl.Write(testPath, splits.Test);
            return Task.FromResult(new TasksResult(splits.Train.Count, splits.Test.Count, splits.HeldOut.Count));
        }, cancellation);

        // 2. tokenizer: byte-level BPE trained on the training prompts and solutions
        StageOutcome<TokenizerResult> tokenizer = await runner.RunAsync("tokenizer", StageRunner.Key(new { settings.VocabSize }, tasks.Key), stage =>
        {
            IEnumerable<string> texts = TaskJsonl.Read(trainPath).Select(t => t.Prompt + t.CanonicalSolution);
            string path = Path.Combine(stage.Directory, HfCheckpoint.TokenizerFile);
            BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = settings.VocabSize }, path);
            return Task.FromResult(new TokenizerResult(HfTokenizer.Load(path).VocabSize));
        }, cancellation);

        // 3. init: a randomly initialised model with that tokenizer
        StageOutcome<InitResult> init = await runner.RunAsync("init", StageRunner.Key(new { settings.Shape, settings.Seed }, tokenizer.Key), stage =>
        {
            (ModelConfig _, long parameters) = ModelInitializer.Create(settings.Shape,
                Path.Combine(runner.StageDirectory("tokenizer"), HfCheckpoint.TokenizerFile), stage.Directory, settings.Seed);
            return Task.FromResult(new InitResult(parameters));
        }, cancellation);

        // 4. sft: supervised fine-tuning on the training tasks (an interrupted run with the same key resumes)
        SftOptions sftOptions = settings.Sft with { Seed = settings.Seed };
        StageOutcome<SftStageResult> sft = await runner.RunAsync("sft", StageRunner.Key(sftOptions, init.Key, tasks.Key), async stage =>
        {
            var progress = new SynchronousProgress<TrainingProgress>(p => stage.Progress.Report(((double)p.Step / p.TotalSteps,
                string.Create(CultureInfo.InvariantCulture, $"loss {p.Metrics.GetValueOrDefault("train/loss"):F3}") +
                (p.Metrics.TryGetValue("eval/loss", out double e) ? string.Create(CultureInfo.InvariantCulture, $", held-out {e:F3}") : ""))));
            SftResult result = await SftTrainer.RunAsync(runner.StageDirectory("init"), trainPath, stage.Directory, sftOptions, device, ScalarType.Float32,
                resume: stage.Resumable ? ResumeMode.ResumeIfPresent : ResumeMode.Fresh, force: !stage.Resumable, progress: progress,
                cancellation: stage.Cancellation);
            return new SftStageResult(result.Steps, result.FinalTrainLoss, result.FinalEvalLoss, result.TrainExamples, result.DroppedExamples);
        }, cancellation);

        // 5. eval: greedy pass@1 and sampled pass@k on the held-out test tasks, scored in the sandbox
        string evalKey = StageRunner.Key(new { settings.Samples, settings.SampleTemperature, settings.MaxNewTokens, settings.Seed }, sft.Key, tasks.Key);
        StageOutcome<EvalStageResult> eval = await runner.RunAsync("eval", evalKey, async stage =>
        {
            IReadOnlyList<Problem> problems = ProblemSet.Load(testPath).Problems;
            using CausalLM model = HfCheckpoint.LoadCausalLM(runner.StageDirectory("sft"), device);
            model.eval();
            HfTokenizer tok = HfTokenizer.Load(Path.Combine(runner.StageDirectory("sft"), HfCheckpoint.TokenizerFile));
            await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(settings.Workers), stage.Cancellation);
            await scorer.CalibrateAsync(problems, stage.Cancellation);
            var greedyOptions = new EvalOptions
            {
                NumSamples = 1, Temperature = 0, MaxNewTokens = settings.MaxNewTokens, Seed = settings.Seed, Ks = [1],
                EosTokenIds = HfCheckpoint.LoadEosTokenIds(runner.StageDirectory("sft")),
            };
            EvalReport greedy = await ModelEvaluator.RunAsync(model, tok, problems, greedyOptions, scorer,
                new SynchronousProgress<EvalProgress>(p => stage.Progress.Report((0.2 * p.Scored / p.Total, $"greedy {p.Scored}/{p.Total}"))), stage.Cancellation);
            int[] ks = new[] { 1, settings.Samples }.Distinct().ToArray();
            var sampledOptions = greedyOptions with { NumSamples = settings.Samples, Temperature = settings.SampleTemperature, Ks = ks };
            EvalReport sampled = await ModelEvaluator.RunAsync(model, tok, problems, sampledOptions, scorer,
                new SynchronousProgress<EvalProgress>(p => stage.Progress.Report((0.2 + 0.8 * p.Scored / p.Total, $"sampled {p.Scored}/{p.Total}"))), stage.Cancellation);
            ResultsJsonl.Write(Path.Combine(stage.Directory, "greedy.jsonl"), greedy.Samples);
            ResultsJsonl.Write(Path.Combine(stage.Directory, "sampled.jsonl"), sampled.Samples);
            return new EvalStageResult(greedy.PassAt(1), ks.ToDictionary(k => k, sampled.PassAt), sampled.MixedFraction,
                scorer.Isolation.Level.ToString(), greedy.GenerationSeconds + sampled.GenerationSeconds);
        }, cancellation);

        // 6. rm-data: samples of training prompts by the SFT model, scored in the sandbox, and preference pairs
        string sftDir = runner.StageDirectory("sft");
        RmDataOptions rmDataOptions = settings.RmData with { Seed = settings.Seed, Workers = 0 };
        StageOutcome<RmDataStageResult> rmData = await runner.RunAsync("rm-data", StageRunner.Key(rmDataOptions, sft.Key, tasks.Key), async stage =>
        {
            RmDataResult result = await RmData.RunAsync(sftDir, trainPath, stage.Directory, rmDataOptions with { Workers = settings.Workers }, device,
                ScalarType.Float32, RolloutProgress(stage), stage.Cancellation);
            return new RmDataStageResult(result.Prompts, result.Samples, result.Pairs, result.PromptsWithoutPair, result.SandboxErrors, result.PassRate,
                result.GenerationSeconds, result.SandboxSeconds);
        }, cancellation);

        // 7. rm: the reward model, from the SFT model, on those pairs (an interrupted run with the same key resumes)
        RewardTrainerOptions rmOptions = settings.Rm with { Seed = settings.Seed };
        string pairsPath = Path.Combine(runner.StageDirectory("rm-data"), RmData.PairsFile);
        StageOutcome<RmStageResult> rm = await runner.RunAsync("rm", StageRunner.Key(rmOptions, rmData.Key, sft.Key), async stage =>
        {
            if (rmData.Result.Pairs == 0)
            {
                // Every prompt's responses scored alike (a model too weak to pass any test): nothing to learn from. The
                // pipeline goes on with the untrained head, and the result, the summary and the CLI say so.
                using ScalarHeadModel untrained = HfCheckpoint.LoadScalarHead(sftDir, device, ScalarType.Float32, rmOptions.Seed);
                HfCheckpoint.Save(untrained, stage.Directory);
                File.Copy(Path.Combine(sftDir, HfCheckpoint.TokenizerFile), Path.Combine(stage.Directory, HfCheckpoint.TokenizerFile), overwrite: true);
                return new RmStageResult(0, double.NaN, double.NaN, 0, 0, 0, double.NaN, double.NaN, Trained: false);
            }
            var progress = new SynchronousProgress<TrainingProgress>(p => stage.Progress.Report(((double)p.Step / p.TotalSteps,
                string.Create(CultureInfo.InvariantCulture, $"loss {p.Metrics.GetValueOrDefault("train/loss"):F3}") +
                (p.Metrics.TryGetValue("eval/accuracy", out double a) ? string.Create(CultureInfo.InvariantCulture, $", held-out accuracy {a:P1}") : ""))));
            RewardTrainerResult result = await RewardTrainer.RunAsync(sftDir, pairsPath, stage.Directory, rmOptions, device, ScalarType.Float32,
                resume: stage.Resumable ? ResumeMode.ResumeIfPresent : ResumeMode.Fresh, force: !stage.Resumable, progress: progress,
                cancellation: stage.Cancellation);
            return new RmStageResult(result.Steps, result.FinalTrainLoss, result.HeldOutAccuracy, result.TrainPairs, result.HeldOutPairs,
                result.DroppedPairs, result.RewardMean, result.RewardStd, Trained: true);
        }, cancellation);

        // 8. r2: fresh samples of the held-out test prompts, rewarded by the RM, R² per filtration strategy
        R2RunOptions r2Options = settings.R2 with { Seed = settings.Seed, Sampling = settings.R2.Sampling with { Seed = settings.Seed, Workers = 0 } };
        StageOutcome<R2StageResult> r2 = await runner.RunAsync("r2", StageRunner.Key(r2Options, rm.Key, sft.Key, tasks.Key), async stage =>
        {
            R2RunResult result = await R2Run.RunAsync(new R2Inputs(sftDir, runner.StageDirectory("rm"), testPath, Samples: null), stage.Directory,
                r2Options with { Sampling = r2Options.Sampling with { Workers = settings.Workers } }, device, ScalarType.Float32,
                RolloutProgress(stage), stage.Cancellation);
            var best = R2Analysis.Recommend(result.Strategies);
            return new R2StageResult(result.Prompts, result.Samples, result.PairAccuracy.Accuracy, result.PairAccuracy.Pairs, best?.Best.Strategy,
                best?.Overlaps ?? false, result.GenerationSeconds, result.SandboxSeconds, result.RewardSeconds);
        }, cancellation);
        JsonObject r2Strategies = JsonNode.Parse(File.ReadAllText(Path.Combine(runner.StageDirectory("r2"), R2Run.JsonFile)))!["strategies"]!.AsObject();

        // 9, 10. ppo-m and pf-ppo: PPO on the RM's reward from the SFT model, without a filter and with the filtering strategy
        //        whose kept responses gave the highest binned R² (none excluded: that is PPO-M), each scored on the test tasks
        //        (with the execution reward instead when rm-data gave no pair, so there is no trained RM to follow)
        PpoOptions ppoOptions = settings.Ppo with
        {
            Seed = settings.Seed, Workers = settings.Workers, Reward = rm.Result.Trained ? settings.Ppo.Reward : RewardSource.Execution,
        };
        var ppoInputs = new PpoInputs(sftDir, runner.StageDirectory("rm"), trainPath, Output: "", EvalProblems: testPath);
        StageOutcome<RlStageResult> ppoM = await runner.RunAsync("ppo-m", StageRunner.Key(ppoOptions with { Workers = 0 }, rm.Key, sft.Key, tasks.Key),
            stage => RlStage.RunAsync(stage, ppoInputs, ppoOptions with { Filter = "none" }, device), cancellation);
        string pfFilter = BestFilter(r2Strategies);
        StageOutcome<RlStageResult> pfPpo = await runner.RunAsync("pf-ppo",
            StageRunner.Key(ppoOptions with { Workers = 0, Filter = pfFilter }, rm.Key, sft.Key, tasks.Key),
            stage => RlStage.RunAsync(stage, ppoInputs, ppoOptions with { Filter = pfFilter }, device), cancellation);

        StageRecord[] records = [tasks.Record, tokenizer.Record, init.Record, sft.Record, eval.Record, rmData.Record, rm.Record, r2.Record,
            ppoM.Record, pfPpo.Record];
        var summary = new DemoSummary(eval.Result.GreedyPassAt1, eval.Result.SampledPassAt, settings.Samples, eval.Result.MixedFraction,
            records.ToDictionary(r => r.Stage, r => Math.Round(r.Seconds, 2)), records.Sum(r => r.Seconds), init.Result.Parameters,
            eval.Result.Isolation, rm.Result.HeldOutAccuracy, rm.Result.HeldOutPairs, r2Strategies, r2.Result, rm.Result.Trained, ppoM.Result, pfPpo.Result);
        WriteSummary(Path.Combine(outDir, "summary.json"), summary, settings, records, clock.Elapsed.TotalSeconds);
        return summary;
    }

    /// <summary>The strategy other than none with the highest binned R² in r2.json's strategies (br when none is defined).</summary>
    private static string BestFilter(JsonObject strategies) =>
        strategies.Where(kv => kv.Key != "none" && kv.Value?["binned"]?["r2"] is JsonValue)
            .OrderByDescending(kv => kv.Value!["binned"]!["r2"]!.GetValue<double>())
            .Select(kv => kv.Key).FirstOrDefault() ?? "br";

    private static SynchronousProgress<RolloutProgress> RolloutProgress(StageContext stage) =>
        new(p => stage.Progress.Report(((p.Generated + p.Scored) / (2.0 * Math.Max(1, p.Total)), $"generated {p.Generated}/{p.Total}, scored {p.Scored}/{p.Total}")));

    /// <summary>
    /// summary.json: <c>pass_at_1</c> is greedy; <c>pass_at_K</c> for each sampled k above 1 (K named by its k);
    /// <c>sampled_pass_at_1</c> is pass@1 of the sampled completions.
    /// </summary>
    private static void WriteSummary(string path, DemoSummary summary, DemoSettings settings, IReadOnlyList<StageRecord> records, double wallSeconds)
    {
        var json = new JsonObject { ["pass_at_1"] = summary.GreedyPassAt1 };
        foreach ((int k, double value) in summary.SampledPassAt.Where(kv => kv.Key > 1).OrderBy(kv => kv.Key))
        {
            json[string.Create(CultureInfo.InvariantCulture, $"pass_at_{k}")] = value;
        }
        json["sampled_pass_at_1"] = summary.SampledPassAt.GetValueOrDefault(1, double.NaN);
        json["samples"] = summary.Samples;
        json["sample_temperature"] = settings.SampleTemperature;
        json["mixed_fraction"] = summary.MixedFraction;
        json["stage_seconds"] = new JsonObject(summary.StageSeconds.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        json["stages_reused"] = new JsonArray(records.Where(r => r.Reused).Select(r => (JsonNode?)r.Stage).ToArray());
        json["total_seconds"] = Math.Round(summary.TotalSeconds, 2);
        json["wall_seconds"] = Math.Round(wallSeconds, 2);
        json["rm_accuracy"] = double.IsFinite(summary.RmAccuracy) ? summary.RmAccuracy : null;
        json["rm_held_out_pairs"] = summary.RmHeldOutPairs;
        json["rm_trained"] = summary.RmTrained;
        json["r2"] = summary.R2.DeepClone();
        json["ppo_m_pass_at_1"] = double.IsFinite(summary.PpoM.PassAt1) ? summary.PpoM.PassAt1 : null;
        json["pf_ppo_pass_at_1"] = double.IsFinite(summary.PfPpo.PassAt1) ? summary.PfPpo.PassAt1 : null;
        json["pf_ppo_filter"] = summary.PfPpo.Filter;
        json["parameters"] = summary.Parameters;
        json["isolation"] = summary.Isolation;
        json["settings"] = JsonSerializer.SerializeToNode(settings);
        json["stages"] = new JsonObject(records.Select(r => KeyValuePair.Create(r.Stage, (JsonNode?)r.Result.DeepClone())));
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
