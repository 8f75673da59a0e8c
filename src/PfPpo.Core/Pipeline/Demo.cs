using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.IO;
using PfPpo.Model;
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

/// <summary>The demo's outcome, as written to <c>summary.json</c>.</summary>
/// <param name="SampledPassAt">pass@k of <c>Samples</c> completions per task at the sampling temperature, by k.</param>
public sealed record DemoSummary(double GreedyPassAt1, IReadOnlyDictionary<int, double> SampledPassAt, int Samples, double MixedFraction,
    IReadOnlyDictionary<string, double> StageSeconds, double TotalSeconds, long Parameters, string Isolation)
{
    /// <summary>pass@k at the largest k: all samples of a task.</summary>
    public double PassAtSamples => SampledPassAt[Samples];
}

/// <summary>
/// The embedded end-to-end default: generate tasks, train a tokenizer, initialise a tiny model, SFT it, evaluate it in
/// the sandbox. Each stage calls the same code as its own command (<c>pfppo tasks</c>, <c>train-tokenizer</c>,
/// <c>init-model</c>, <c>sft</c>, <c>eval</c>) and keeps its output in its own folder, so one stage can be rerun alone.
/// </summary>
public static class Demo
{
    public static readonly IReadOnlyList<string> Stages = ["tasks", "tokenizer", "init", "sft", "eval"];

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

        StageRecord[] records = [tasks.Record, tokenizer.Record, init.Record, sft.Record, eval.Record];
        var summary = new DemoSummary(eval.Result.GreedyPassAt1, eval.Result.SampledPassAt, settings.Samples, eval.Result.MixedFraction,
            records.ToDictionary(r => r.Stage, r => Math.Round(r.Seconds, 2)), records.Sum(r => r.Seconds), init.Result.Parameters,
            eval.Result.Isolation);
        WriteSummary(Path.Combine(outDir, "summary.json"), summary, settings, records, clock.Elapsed.TotalSeconds);
        return summary;
    }

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
        json["parameters"] = summary.Parameters;
        json["isolation"] = summary.Isolation;
        json["settings"] = JsonSerializer.SerializeToNode(settings);
        json["stages"] = new JsonObject(records.Select(r => KeyValuePair.Create(r.Stage, (JsonNode?)r.Result.DeepClone())));
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
