using System.Globalization;
using System.Text.Json.Nodes;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.Model;
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

/// <summary>
/// What the stages every RL run builds on left: the tasks, the SFT model, the reward model and the R² analysis, each a
/// finished stage of the pipeline's <see cref="StageRunner"/>.
/// </summary>
/// <param name="Eval">The demo's evaluation of the SFT model, or null when it was not asked for.</param>
/// <param name="R2Strategies">The <c>strategies</c> object of the r2 stage's r2.json.</param>
public sealed record SharedOutcome(StageOutcome<TasksResult> Tasks, StageOutcome<TokenizerResult> Tokenizer, StageOutcome<InitResult> Init,
    StageOutcome<SftStageResult> Sft, StageOutcome<EvalStageResult>? Eval, StageOutcome<RmDataStageResult> RmData, StageOutcome<RmStageResult> Rm,
    StageOutcome<R2StageResult> R2, JsonObject R2Strategies, SharedPaths Paths)
{
    /// <summary>The finished stages, in pipeline order.</summary>
    public IReadOnlyList<StageRecord> Records =>
        [Tasks.Record, Tokenizer.Record, Init.Record, Sft.Record, .. Eval is null ? Array.Empty<StageRecord>() : [Eval.Record], RmData.Record,
            Rm.Record, R2.Record];
}

/// <summary>Where the shared stages keep what later stages read.</summary>
/// <param name="Validation">validation.jsonl, or null when the settings ask for no validation split.</param>
public sealed record SharedPaths(string Train, string Test, string? Validation, string Sft, string RmData, string Rm, string R2);

/// <summary>
/// The stages the demo and <c>pfppo compare</c> share: generate tasks, train a tokenizer, initialise a tiny model, SFT
/// it, (for the demo) evaluate it, sample reward-model data from it, train the reward model, and measure R² per
/// filtration strategy. Each stage calls the same code as its own command (<c>pfppo tasks</c>, <c>train-tokenizer</c>,
/// <c>init-model</c>, <c>sft</c>, <c>eval</c>, <c>rm-data</c>, <c>rm-train</c>, <c>r2</c>) in its own folder.
/// </summary>
public static class SharedStages
{
    /// <summary>The shared stages' names, in pipeline order (eval only when the pipeline evaluates the SFT model itself).</summary>
    public static IReadOnlyList<string> Names(bool evaluate) =>
        ["tasks", "tokenizer", "init", "sft", .. evaluate ? new[] { "eval" } : [], "rm-data", "rm", "r2"];

    public static async Task<SharedOutcome> RunAsync(StageRunner runner, DemoSettings settings, bool evaluate, Device device,
        CancellationToken cancellation = default)
    {
        string trainPath = Path.Combine(runner.StageDirectory("tasks"), "train.jsonl");
        string testPath = Path.Combine(runner.StageDirectory("tasks"), "test.jsonl");
        string validationPath = Path.Combine(runner.StageDirectory("tasks"), "validation.jsonl");
        string r2Path = settings.ValidationTasks > 0 ? validationPath : testPath;

        // 1. tasks: the generated benchmark (train.jsonl, test.jsonl and, when asked for, validation.jsonl)
        StageOutcome<TasksResult> tasks = await runner.RunAsync("tasks",
            StageRunner.Key(new { settings.Seed, settings.TrainTasks, settings.TestTasks, settings.ValidationTasks }), stage =>
        {
            TaskSplits splits = TaskGenerator.Generate(settings.Seed, settings.TrainTasks, settings.TestTasks, settings.ValidationTasks);
            TaskJsonl.Write(trainPath, splits.Train);
            TaskJsonl.Write(testPath, splits.Test);
            if (splits.Validation.Count > 0)
            {
                TaskJsonl.Write(validationPath, splits.Validation);
            }
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

        // 5. eval (the demo's; a comparison evaluates every method itself): greedy pass@1 and sampled pass@k on the held-out
        //    test tasks, scored in the sandbox
        string evalKey = StageRunner.Key(new { settings.Samples, settings.SampleTemperature, settings.MaxNewTokens, settings.Seed }, sft.Key, tasks.Key);
        StageOutcome<EvalStageResult>? eval = !evaluate ? null : await runner.RunAsync("eval", evalKey, async stage =>
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

        // 8. r2: fresh samples of held-out prompts (the validation split when there is one, else the test split), rewarded by
        //    the RM, R² per filtration strategy
        R2RunOptions r2Options = settings.R2 with { Seed = settings.Seed, Sampling = settings.R2.Sampling with { Seed = settings.Seed, Workers = 0 } };
        StageOutcome<R2StageResult> r2 = await runner.RunAsync("r2", StageRunner.Key(new { Options = r2Options, Prompts = Path.GetFileName(r2Path) }, rm.Key, sft.Key, tasks.Key), async stage =>
        {
            R2RunResult result = await R2Run.RunAsync(new R2Inputs(sftDir, runner.StageDirectory("rm"), r2Path, Samples: null), stage.Directory,
                r2Options with { Sampling = r2Options.Sampling with { Workers = settings.Workers } }, device, ScalarType.Float32,
                RolloutProgress(stage), stage.Cancellation);
            var best = R2Analysis.Recommend(result.Strategies);
            return new R2StageResult(result.Prompts, result.Samples, result.PairAccuracy.Accuracy, result.PairAccuracy.Pairs, best?.Best.Strategy,
                best?.Overlaps ?? false, result.GenerationSeconds, result.SandboxSeconds, result.RewardSeconds);
        }, cancellation);
        JsonObject r2Strategies = JsonNode.Parse(File.ReadAllText(Path.Combine(runner.StageDirectory("r2"), R2Run.JsonFile)))!["strategies"]!.AsObject();

        var paths = new SharedPaths(trainPath, testPath, settings.ValidationTasks > 0 ? validationPath : null, sftDir, runner.StageDirectory("rm-data"),
            runner.StageDirectory("rm"), runner.StageDirectory("r2"));
        return new SharedOutcome(tasks, tokenizer, init, sft, eval, rmData, rm, r2, r2Strategies, paths);
    }

    private static SynchronousProgress<RolloutProgress> RolloutProgress(StageContext stage) =>
        new(p => stage.Progress.Report(((p.Generated + p.Scored) / (2.0 * Math.Max(1, p.Total)), $"generated {p.Generated}/{p.Total}, scored {p.Scored}/{p.Total}")));
}
