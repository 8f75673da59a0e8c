using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Scoring;
using PfPpo.Sft;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Raft;

/// <summary>Settings of a RAFT run: what each round samples, and the SFT that trains on the kept responses.</summary>
public sealed record RaftOptions
{
    /// <summary>Responses sampled per prompt (N).</summary>
    public int SamplesPerPrompt { get; init; } = 5;
    /// <summary>Prompts per round: the first K of a seeded shuffle of the problems, a new shuffle per round (null: all).</summary>
    public int? Prompts { get; init; }
    public int Rounds { get; init; } = 1;
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int MaxNewTokens { get; init; } = 256;
    public int MicroBatchSize { get; init; } = 64;
    /// <summary>Sequences per reward-model batch.</summary>
    public int RewardBatchSize { get; init; } = 16;
    public long Seed { get; init; }
    /// <summary>The SFT of each round (its seed is derived from <see cref="Seed"/> and the round; nothing is held out).</summary>
    public SftOptions Sft { get; init; } = new() { Epochs = 1, LearningRate = 1e-4, HeldOutFraction = 0, EvalEvery = 0 };
    public int? EvalLimit { get; init; }
    public int Workers { get; init; }

    /// <summary>The options that decide the result, for the run's fingerprint.</summary>
    [JsonIgnore]
    public RaftOptions ResultDefining => this with { MicroBatchSize = 0, RewardBatchSize = 0, Sft = Sft.ResultDefining, EvalLimit = null, Workers = 0 };
}

/// <summary>One round's figures (also its <c>round.json</c>, which marks the round complete).</summary>
/// <param name="RewardMean">Mean raw RM score of all samples; <paramref name="KeptRewardMean"/> of the kept ones.</param>
/// <param name="PassRate">Share of samples (with a sandbox verdict) that pass; <paramref name="KeptPassRate"/> of the kept ones.</param>
public sealed record RaftRound(int Round, int Prompts, int Samples, double RewardMean, double KeptRewardMean, double PassRate, double KeptPassRate,
    double SftLoss, int SftSteps, double Seconds);

/// <summary>The outcome of <see cref="RaftTrainer.RunAsync"/>.</summary>
public sealed record RaftResult(IReadOnlyList<RaftRound> Rounds, int RoundsReused, double EvalPassAt1, double Seconds, string OutputDirectory);

/// <summary>Where a RAFT run stands: the round and its phase (sample, score, sft) with the phase's progress.</summary>
public sealed record RaftProgress(int Round, int Rounds, string Phase, int Done, int Total);

/// <summary>Input files of a RAFT run.</summary>
public sealed record RaftInputs(string Policy, string RewardModel, string Problems, string Output, string? EvalProblems = null);

/// <summary>
/// RAFT (reward-ranked fine-tuning): per round, N responses per prompt from the current model (<see cref="RolloutCollector"/>),
/// each scored by the reward model (<see cref="RewardModel.Sequence"/> + <see cref="RewardModel.Score"/>), the RM's best
/// per prompt kept (<see cref="RaftSelection.Best"/>), and <see cref="SftTrainer"/> run on the kept (prompt, completion)
/// pairs from the current model. Each round lives in <c>round-R/</c>: <c>samples.jsonl</c> (scored samples with rewards),
/// <c>kept.jsonl</c> (SFT data), <c>sft/</c> (the SFT run: model, checkpoints, metrics) and <c>round.json</c> once done; a
/// resumed run reuses finished rounds and resumes an interrupted SFT from its checkpoint.
/// </summary>
public static class RaftTrainer
{
    public const string FinalFolder = "final";
    public const string SummaryFile = "summary.json";
    public const string RunFile = "raft_run.json";
    public const string SamplesFile = "samples.jsonl";
    public const string KeptFile = "kept.jsonl";
    public const string RoundFile = "round.json";
    private const long PromptStream = -11;
    private const long SamplingStream = -12;
    private const long SftStream = -13;

    public static string RoundFolder(string outDir, int round) => Path.Combine(outDir, $"round-{round}");

    public static async Task<RaftResult> RunAsync(RaftInputs inputs, RaftOptions options, Device device, ScalarType dtype,
        ResumeMode resume = ResumeMode.Fresh, bool force = false, IProgress<RaftProgress>? progress = null, Action<string>? warn = null,
        CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Rounds, 1, nameof(options.Rounds));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SamplesPerPrompt, 1, nameof(options.SamplesPerPrompt));
        var clock = Stopwatch.StartNew();
        IReadOnlyList<Problem> problems = ProblemSet.Load(inputs.Problems).Problems;
        var fileInputs = new Dictionary<string, string> { ["policy"] = inputs.Policy, ["rm"] = inputs.RewardModel, ["problems"] = inputs.Problems };
        RunFingerprint fingerprint = RunFingerprint.Of(new { Options = options.ResultDefining, DType = dtype.ToString() }, fileInputs);
        RoundRuns.OpenRun(inputs.Output, RunFile, "round-*", "RAFT run's rounds", fingerprint, resume, force);

        using var rm = new RewardScorer(inputs.RewardModel, device, dtype, options.RewardBatchSize);
        await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(options.Workers), cancellation);

        var rounds = new List<RaftRound>();
        int reused = 0;
        string policy = inputs.Policy;
        for (int round = 1; round <= options.Rounds; round++)
        {
            cancellation.ThrowIfCancellationRequested();
            string dir = RoundFolder(inputs.Output, round);
            string sftDir = Path.Combine(dir, "sft");
            string roundFile = Path.Combine(dir, RoundFile);
            if (RoundRuns.ReadRecord<RaftRound>(roundFile) is RaftRound done)
            {
                rounds.Add(done);
                reused++;
                policy = sftDir;
                continue;
            }
            var roundClock = Stopwatch.StartNew();
            Directory.CreateDirectory(dir);

            // --- sample N per prompt from the current model, score each with the RM ---
            Problem[] chosen = RoundRuns.Prompts(problems, Seeds.Derive(options.Seed, PromptStream - round * 100L), options.Prompts);
            var sampling = new RoundSampling(options.SamplesPerPrompt, options.Temperature, options.TopP, options.MaxNewTokens, options.MicroBatchSize,
                Seeds.Derive(options.Seed, SamplingStream - round));
            (IReadOnlyList<ScoredSample> samples, RolloutPrompt[] rolloutPrompts) = await RoundRuns.SampleAsync(policy, chosen, sampling, scorer, device, dtype,
                progress is null ? null : new SynchronousProgress<RolloutProgress>(p => progress.Report(new RaftProgress(round, options.Rounds, "sample", p.Scored, p.Total))),
                cancellation);
            string[] promptTexts = rolloutPrompts.Select(p => p.Prompt.Text).ToArray();
            progress?.Report(new RaftProgress(round, options.Rounds, "score", 0, samples.Count));
            ScoredSample[] rewarded = rm.Score(samples, promptTexts);
            ScoredSamples.Write(Path.Combine(dir, SamplesFile), rewarded);

            // --- keep the RM's best per prompt, SFT on it from the current model ---
            IReadOnlyList<ScoredSample> kept = RaftSelection.Best(rewarded);
            string keptPath = Path.Combine(dir, KeptFile);
            JsonLines.Write(keptPath, kept, (writer, s) =>
            {
                writer.WriteStartObject();
                writer.WriteString("task_id", s.TaskId);
                writer.WriteString("prompt", promptTexts[s.Group]);
                writer.WriteString("completion", s.Completion);
                writer.WriteNumber("reward", s.Reward!.Value);
                writer.WriteEndObject();
            });
            SftOptions sft = options.Sft with { Seed = Seeds.Derive(options.Seed, SftStream - round), HeldOutFraction = 0, EvalEvery = 0 };
            var sftProgress = progress is null ? null
                : new SynchronousProgress<TrainingProgress>(p => progress.Report(new RaftProgress(round, options.Rounds, "sft", p.Step, p.TotalSteps)));
            SftResult trained = await SftTrainer.RunAsync(policy, keptPath, sftDir, sft, device, dtype, resume: ResumeMode.ResumeIfPresent,
                progress: sftProgress, warn: warn, cancellation: cancellation);
            if (!trained.Completed)
            {
                throw new RunFolderException($"{sftDir}: the round's SFT stopped before its last step.");
            }

            ScoredSample[] judged = rewarded.Where(ScoredSamples.HasVerdict).ToArray();
            ScoredSample[] keptJudged = kept.Where(ScoredSamples.HasVerdict).ToArray();
            var record = new RaftRound(round, chosen.Length, rewarded.Length, rewarded.Average(s => s.Reward!.Value), kept.Average(s => s.Reward!.Value),
                judged.Length == 0 ? double.NaN : judged.Average(s => s.Passed ? 1.0 : 0.0),
                keptJudged.Length == 0 ? double.NaN : keptJudged.Average(s => s.Passed ? 1.0 : 0.0),
                trained.FinalTrainLoss, trained.Steps, roundClock.Elapsed.TotalSeconds);
            RoundRuns.WriteRecord(roundFile, record);
            rounds.Add(record);
            policy = sftDir;
        }

        // --- the last round's model as final/, its pass@1, summary.json ---
        string final = Path.Combine(inputs.Output, FinalFolder);
        RoundRuns.CopyModel(policy, final);
        double passAt1 = double.NaN;
        if (inputs.EvalProblems is not null)
        {
            progress?.Report(new RaftProgress(options.Rounds, options.Rounds, "eval", 0, 1));
            using CausalLM model = HfCheckpoint.LoadCausalLM(final, device, dtype);
            passAt1 = await GreedyPassAt1.EvaluateAsync(model, HfTokenizer.Load(Path.Combine(final, HfCheckpoint.TokenizerFile)), final,
                inputs.EvalProblems, options.EvalLimit, options.MaxNewTokens, options.Workers, cancellation);
        }
        var summary = new Dictionary<string, object?>
        {
            ["method"] = "raft",
            ["rounds"] = rounds,
            ["samples_trained"] = rounds.Sum(r => r.Prompts),
            ["samples_generated"] = rounds.Sum(r => r.Samples),
            ["seconds"] = clock.Elapsed.TotalSeconds,
            ["final"] = FinalFolder,
        };
        if (!double.IsNaN(passAt1))
        {
            summary["eval_pass_at_1"] = passAt1;
        }
        RoundRuns.WriteSummary(Path.Combine(inputs.Output, SummaryFile), summary);
        return new RaftResult(rounds, reused, passAt1, clock.Elapsed.TotalSeconds, inputs.Output);
    }
}

/// <summary>RAFT's selection: per prompt, the sample the reward model scores highest.</summary>
public static class RaftSelection
{
    /// <summary>
    /// The sample with the highest <see cref="ScoredSample.Reward"/> of each group, in group order (ties: the lower sample
    /// index). Every sample must have a reward.
    /// </summary>
    public static IReadOnlyList<ScoredSample> Best(IReadOnlyList<ScoredSample> samples) =>
        samples.GroupBy(s => s.Group)
            .OrderBy(g => g.Key)
            .Select(g => g.OrderByDescending(s => s.Reward ?? throw new ArgumentException($"sample {s.Sample} of group {s.Group} has no reward.", nameof(samples)))
                .ThenBy(s => s.Sample).First())
            .ToArray();
}
