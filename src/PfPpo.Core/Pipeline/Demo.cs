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
    /// <summary>Validation tasks (drawn like the test tasks, disjoint from them); when there are any, the r2 stage samples them instead of the test tasks.</summary>
    public int ValidationTasks { get; init; }

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
    public static readonly IReadOnlyList<string> Stages = [.. SharedStages.Names(evaluate: true), "ppo-m", "pf-ppo"];

    public static async Task<DemoSummary> RunAsync(string outDir, DemoSettings settings, bool force, IStageObserver? observer,
        Device device, CancellationToken cancellation = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var runner = new StageRunner(outDir, force, observer);

        // 1-8. tasks, tokenizer, init, sft, eval, rm-data, rm, r2
        SharedOutcome shared = await SharedStages.RunAsync(runner, settings, evaluate: true, device, cancellation);
        (StageOutcome<TasksResult> tasks, StageOutcome<SftStageResult> sft, StageOutcome<EvalStageResult> eval, StageOutcome<RmStageResult> rm) =
            (shared.Tasks, shared.Sft, shared.Eval!, shared.Rm);

        // 9, 10. ppo-m and pf-ppo: PPO on the RM's reward from the SFT model, without a filter and with the filtering strategy
        //        whose kept responses gave the highest binned R² (none excluded: that is PPO-M), each scored on the test tasks
        //        (with the execution reward instead when rm-data gave no pair, so there is no trained RM to follow)
        PpoOptions ppoOptions = settings.Ppo with
        {
            Seed = settings.Seed, Workers = settings.Workers, Reward = rm.Result.Trained ? settings.Ppo.Reward : RewardSource.Execution,
        };
        var ppoInputs = new PpoInputs(shared.Paths.Sft, shared.Paths.Rm, shared.Paths.Train, Output: "", EvalProblems: shared.Paths.Test);
        StageOutcome<RlStageResult> ppoM = await runner.RunAsync("ppo-m", StageRunner.Key(ppoOptions with { Workers = 0 }, rm.Key, sft.Key, tasks.Key),
            stage => RlStage.RunAsync(stage, ppoInputs, ppoOptions with { Filter = "none" }, device), cancellation);
        string pfFilter = BestFilter(shared.R2Strategies);
        StageOutcome<RlStageResult> pfPpo = await runner.RunAsync("pf-ppo",
            StageRunner.Key(ppoOptions with { Workers = 0, Filter = pfFilter }, rm.Key, sft.Key, tasks.Key),
            stage => RlStage.RunAsync(stage, ppoInputs, ppoOptions with { Filter = pfFilter }, device), cancellation);

        StageRecord[] records = [.. shared.Records, ppoM.Record, pfPpo.Record];
        var summary = new DemoSummary(eval.Result.GreedyPassAt1, eval.Result.SampledPassAt, settings.Samples, eval.Result.MixedFraction,
            records.ToDictionary(r => r.Stage, r => Math.Round(r.Seconds, 2)), records.Sum(r => r.Seconds), shared.Init.Result.Parameters,
            eval.Result.Isolation, rm.Result.HeldOutAccuracy, rm.Result.HeldOutPairs, shared.R2Strategies, shared.R2.Result, rm.Result.Trained, ppoM.Result,
            pfPpo.Result);
        WriteSummary(Path.Combine(outDir, "summary.json"), summary, settings, records, clock.Elapsed.TotalSeconds);
        return summary;
    }

    /// <summary>The strategy other than none with the highest binned R² in r2.json's strategies (br when none is defined).</summary>
    public static string BestFilter(JsonObject strategies) =>
        strategies.Where(kv => kv.Key != "none" && kv.Value?["binned"]?["r2"] is JsonValue)
            .OrderByDescending(kv => kv.Value!["binned"]!["r2"]!.GetValue<double>())
            .Select(kv => kv.Key).FirstOrDefault() ?? "br";


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
