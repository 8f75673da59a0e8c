using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Runtime;
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
    };
    /// <summary>Samples per test prompt for pass@k (at <see cref="SampleTemperature"/>).</summary>
    public int Samples { get; init; } = 4;
    public double SampleTemperature { get; init; } = 1.0;
    public int MaxNewTokens { get; init; } = 128;
    public int Workers { get; init; }
}

/// <summary>The demo's outcome, as written to <c>summary.json</c>.</summary>
public sealed record DemoSummary(double PassAt1, double PassAt4, double MixedFraction, double SampledPassAt1,
    IReadOnlyDictionary<string, double> StageSeconds, double TotalSeconds, long Parameters, string Isolation);

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

        // 1. tasks: the generated benchmark (train.jsonl, test.jsonl)
        string tasksKey = StageRunner.Key(new { settings.Seed, settings.TrainTasks, settings.TestTasks });
        StageRecord tasks = await runner.RunAsync("tasks", tasksKey, (dir, _, _) =>
        {
            TaskSplits splits = TaskGenerator.Generate(settings.Seed, settings.TrainTasks, settings.TestTasks);
            TaskJsonl.Write(Path.Combine(dir, "train.jsonl"), splits.Train);
            TaskJsonl.Write(Path.Combine(dir, "test.jsonl"), splits.Test);
            return Task.FromResult(new JsonObject { ["train"] = splits.Train.Count, ["test"] = splits.Test.Count, ["held_out_pairs"] = splits.HeldOut.Count });
        });
        string trainPath = Path.Combine(runner.StageDirectory("tasks"), "train.jsonl");
        string testPath = Path.Combine(runner.StageDirectory("tasks"), "test.jsonl");

        // 2. tokenizer: byte-level BPE trained on the training prompts and solutions
        string tokenizerKey = StageRunner.Key(new { settings.VocabSize }, tasks.Key);
        StageRecord tokenizer = await runner.RunAsync("tokenizer", tokenizerKey, (dir, _, _) =>
        {
            IEnumerable<string> texts = TaskJsonl.Read(trainPath).Select(t => t.Prompt + t.CanonicalSolution);
            string path = Path.Combine(dir, HfCheckpoint.TokenizerFile);
            BpeTrainer.Train(texts, new BpeTrainerOptions { VocabSize = settings.VocabSize }, path);
            return Task.FromResult(new JsonObject { ["vocab_size"] = HfTokenizer.Load(path).VocabSize });
        });

        // 3. init: a randomly initialised model with that tokenizer
        string initKey = StageRunner.Key(new { settings.Shape, settings.Seed }, tokenizer.Key);
        StageRecord init = await runner.RunAsync("init", initKey, (dir, _, _) =>
        {
            (ModelConfig _, long parameters) = ModelInitializer.Create(settings.Shape,
                Path.Combine(runner.StageDirectory("tokenizer"), HfCheckpoint.TokenizerFile), dir, settings.Seed);
            return Task.FromResult(new JsonObject { ["parameters"] = parameters });
        });

        // 4. sft: supervised fine-tuning on the training tasks (resumes an interrupted run with the same key)
        string sftKey = StageRunner.Key(settings.Sft with { Seed = settings.Seed }, init.Key, tasks.Key);
        StageRecord sft = await runner.RunAsync("sft", sftKey, (dir, resumable, progress) =>
        {
            bool resume = resumable && SftTrainer.LatestCheckpoint(Path.Combine(dir, SftTrainer.CheckpointsFolder)) is not null;
            var sftProgress = new SynchronousProgress<SftProgress>(p => progress.Report(((double)p.Step / p.TotalSteps,
                string.Create(CultureInfo.InvariantCulture, $"loss {p.Loss:F3}") +
                (p.EvalLoss is double e ? string.Create(CultureInfo.InvariantCulture, $", held-out {e:F3}") : ""))));
            SftResult result = SftTrainer.Run(runner.StageDirectory("init"), trainPath, dir, settings.Sft with { Seed = settings.Seed },
                device, ScalarType.Float32, resume: resume, progress: sftProgress, cancellation: cancellation);
            return Task.FromResult(new JsonObject
            {
                ["steps"] = result.Steps, ["train_loss"] = result.FinalTrainLoss, ["held_out_loss"] = result.FinalEvalLoss,
                ["train_examples"] = result.TrainExamples, ["dropped_examples"] = result.DroppedExamples,
            });
        });

        // 5. eval: greedy pass@1 and sampled pass@k on the held-out test tasks, scored in the sandbox
        string evalKey = StageRunner.Key(new { settings.Samples, settings.SampleTemperature, settings.MaxNewTokens, settings.Seed }, sft.Key, tasks.Key);
        string isolation = "";
        StageRecord eval = await runner.RunAsync("eval", evalKey, async (dir, _, progress) =>
        {
            IReadOnlyList<Problem> problems = ProblemSet.Load(testPath).Problems;
            using CausalLM model = HfCheckpoint.LoadCausalLM(runner.StageDirectory("sft"), device);
            model.eval();
            HfTokenizer tok = HfTokenizer.Load(Path.Combine(runner.StageDirectory("sft"), HfCheckpoint.TokenizerFile));
            await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(settings.Workers), cancellation);
            isolation = scorer.Isolation.Level.ToString();
            await scorer.CalibrateAsync(problems, cancellation);
            var greedyOptions = new EvalOptions { NumSamples = 1, Temperature = 0, MaxNewTokens = settings.MaxNewTokens, Seed = settings.Seed, Ks = [1] };
            EvalReport greedy = await ModelEvaluator.RunAsync(model, tok, problems, greedyOptions, scorer,
                new SynchronousProgress<EvalProgress>(p => progress.Report((0.2 * p.Scored / p.Total, $"greedy {p.Scored}/{p.Total}"))), cancellation);
            var sampledOptions = greedyOptions with { NumSamples = settings.Samples, Temperature = settings.SampleTemperature, Ks = [1, settings.Samples] };
            EvalReport sampled = await ModelEvaluator.RunAsync(model, tok, problems, sampledOptions, scorer,
                new SynchronousProgress<EvalProgress>(p => progress.Report((0.2 + 0.8 * p.Scored / p.Total, $"sampled {p.Scored}/{p.Total}"))), cancellation);
            ResultsJsonl.Write(Path.Combine(dir, "greedy.jsonl"), greedy.Samples);
            ResultsJsonl.Write(Path.Combine(dir, "sampled.jsonl"), sampled.Samples);
            return new JsonObject
            {
                ["pass_at_1"] = greedy.PassAt(1),
                [$"pass_at_{settings.Samples}"] = sampled.PassAt(settings.Samples),
                ["sampled_pass_at_1"] = sampled.PassAt(1),
                ["mixed_fraction"] = sampled.MixedFraction,
                ["isolation"] = isolation,
                ["generation_seconds"] = greedy.GenerationSeconds + sampled.GenerationSeconds,
            };
        });

        StageRecord[] records = [tasks, tokenizer, init, sft, eval];
        var summary = new DemoSummary(
            eval.Result["pass_at_1"]!.GetValue<double>(),
            eval.Result[$"pass_at_{settings.Samples}"]!.GetValue<double>(),
            eval.Result["mixed_fraction"]!.GetValue<double>(),
            eval.Result["sampled_pass_at_1"]!.GetValue<double>(),
            records.ToDictionary(r => r.Stage, r => Math.Round(r.Seconds, 2)),
            records.Sum(r => r.Seconds),
            init.Result["parameters"]!.GetValue<long>(),
            eval.Result["isolation"]!.GetValue<string>());
        WriteSummary(Path.Combine(outDir, "summary.json"), summary, settings, records, clock.Elapsed.TotalSeconds);
        return summary;
    }

    private static void WriteSummary(string path, DemoSummary summary, DemoSettings settings, IReadOnlyList<StageRecord> records, double wallSeconds)
    {
        var json = new JsonObject
        {
            ["pass_at_1"] = summary.PassAt1,
            [$"pass_at_{settings.Samples}"] = summary.PassAt4,
            ["mixed_fraction"] = summary.MixedFraction,
            ["sampled_pass_at_1"] = summary.SampledPassAt1,
            ["stage_seconds"] = new JsonObject(summary.StageSeconds.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["stages_reused"] = new JsonArray(records.Where(r => r.Reused).Select(r => (JsonNode?)r.Stage).ToArray()),
            ["total_seconds"] = Math.Round(summary.TotalSeconds, 2),
            ["wall_seconds"] = Math.Round(wallSeconds, 2),
            ["parameters"] = summary.Parameters,
            ["isolation"] = summary.Isolation,
            ["settings"] = JsonSerializer.SerializeToNode(settings),
            ["stages"] = new JsonObject(records.Select(r => KeyValuePair.Create(r.Stage, (JsonNode?)r.Result.DeepClone()))),
        };
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
