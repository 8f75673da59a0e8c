using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.Model;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Scoring;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Preference;

/// <summary>Settings of an iterative DPO / IPO / KTO run: what each round samples, and each round's preference training.</summary>
public sealed record IterativeDpoOptions
{
    /// <summary>Rounds (the paper: 3); each trains from, and against, the previous round's model.</summary>
    public int Iterations { get; init; } = 3;
    /// <summary>Responses sampled per prompt in a sampled round.</summary>
    public int SamplesPerPrompt { get; init; } = 4;
    /// <summary>Prompts per sampled round: the first K of a seeded shuffle of the problems, new each round (null: all).</summary>
    public int? Prompts { get; init; }
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int MaxNewTokens { get; init; } = 256;
    public int MicroBatchSize { get; init; } = 64;
    public int RewardBatchSize { get; init; } = 16;
    [JsonConverter(typeof(JsonStringEnumConverter))]
    public PairingMode Pairing { get; init; } = PairingMode.MaxEditDistance;
    /// <summary>Each round's training (its seed is derived from <see cref="Seed"/> and the round; no time box, no per-round pass@1).</summary>
    public PreferenceOptions Preference { get; init; } = new();
    public long Seed { get; init; }
    public int? EvalLimit { get; init; }
    public int Workers { get; init; }

    /// <summary>The options that decide the result, for the run's fingerprint.</summary>
    [JsonIgnore]
    public IterativeDpoOptions ResultDefining => this with
    {
        MicroBatchSize = 0, RewardBatchSize = 0, Preference = Preference.ResultDefining, EvalLimit = null, Workers = 0,
    };
}

/// <summary>One round's figures (also its <c>round.json</c>, which marks the round complete).</summary>
/// <param name="PairsSource"><c>given</c> (round 1 on the --pairs file) or <c>sampled</c> (fresh samples of the previous round's model).</param>
/// <param name="RewardMean">Mean raw RM score of the round's samples (NaN for given pairs); <paramref name="PassRate"/> their pass rate.</param>
public sealed record IterativeDpoRound(int Round, string PairsSource, int Prompts, int Samples, int Pairs, int PromptsWithoutPair, double RewardMean,
    double PassRate, int Steps, long PairsTrained, double TrainLoss, double HeldOutAccuracy, double HeldOutMargin, double Seconds);

/// <summary>The outcome of <see cref="IterativeDpo.RunAsync"/>.</summary>
public sealed record IterativeDpoResult(IReadOnlyList<IterativeDpoRound> Rounds, int RoundsReused, double EvalPassAt1, long PairsTrained,
    double Seconds, string OutputDirectory);

/// <summary>Where an iterative run stands: the round and its phase (sample, score, train, eval) with the phase's progress.</summary>
public sealed record IterativeDpoProgress(int Round, int Rounds, string Phase, int Done, int Total);

/// <summary>Input files of an iterative run. With <paramref name="Pairs"/>, round 1 trains on them; else round 1 samples too.</summary>
public sealed record IterativeDpoInputs(string Policy, string RewardModel, string Problems, string Output, string? Pairs = null,
    string? EvalProblems = null);

/// <summary>
/// Iterative DPO (PF-PPO.md section 7): per round R, fresh responses of the previous round's model (round 1: --policy) on
/// the round's prompts (<see cref="RoundRuns.SampleAsync"/>), scored by the RM (<see cref="RewardScorer"/>), paired by
/// RM score with <see cref="PairBuilder"/>, then <see cref="PreferenceTrainer.RunAsync"/> from that model with it as the
/// reference (its log-probs cached). With given pairs, round 1 is the offline run on them. Each round lives in
/// <c>round-R/</c>: <c>samples.jsonl</c> and <c>pairs.jsonl</c> (sampled rounds), <c>dpo/</c> (the preference run:
/// final/, checkpoints, metrics.jsonl, reference cache) and <c>round.json</c> once done; a resume reuses finished rounds
/// and resumes an interrupted round's training from its checkpoint.
/// </summary>
public static class IterativeDpo
{
    public const string FinalFolder = "final";
    public const string SummaryFile = "summary.json";
    public const string RunFile = "iterative_run.json";
    public const string SamplesFile = "samples.jsonl";
    public const string PairsFile = "pairs.jsonl";
    public const string TrainingFolder = "dpo";
    public const string RoundFile = "round.json";
    private const long PromptStream = -31;
    private const long SamplingStream = -32;
    private const long TrainingStream = -33;

    public static string RoundFolder(string outDir, int round) => Path.Combine(outDir, $"round-{round}");

    public static async Task<IterativeDpoResult> RunAsync(IterativeDpoInputs inputs, IterativeDpoOptions options, Device device, ScalarType dtype,
        ResumeMode resume = ResumeMode.Fresh, bool force = false, IProgress<IterativeDpoProgress>? progress = null, Action<string>? warn = null,
        CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Iterations, 1, nameof(options.Iterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SamplesPerPrompt, 2, nameof(options.SamplesPerPrompt));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Preference.Beta, 0, nameof(options.Preference.Beta));
        var clock = Stopwatch.StartNew();
        IReadOnlyList<Problem> problems = ProblemSet.Load(inputs.Problems).Problems;
        var fileInputs = new Dictionary<string, string> { ["policy"] = inputs.Policy, ["rm"] = inputs.RewardModel, ["problems"] = inputs.Problems };
        if (inputs.Pairs is not null)
        {
            fileInputs["pairs"] = inputs.Pairs;
        }
        RunFingerprint fingerprint = RunFingerprint.Of(new { Options = options.ResultDefining, DType = dtype.ToString() }, fileInputs);
        RoundRuns.OpenRun(inputs.Output, RunFile, "round-*", "iterative DPO run's rounds", fingerprint, resume, force);
        RoundRuns.WriteConfig(inputs.Output, inputs, options, dtype, device);

        using var rm = new RewardScorer(inputs.RewardModel, device, dtype, options.RewardBatchSize);
        await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(options.Workers), cancellation);

        var rounds = new List<IterativeDpoRound>();
        int reused = 0;
        string model = inputs.Policy;
        for (int round = 1; round <= options.Iterations; round++)
        {
            cancellation.ThrowIfCancellationRequested();
            string dir = RoundFolder(inputs.Output, round);
            string trainDir = Path.Combine(dir, TrainingFolder);
            string roundFile = Path.Combine(dir, RoundFile);
            if (RoundRuns.ReadRecord<IterativeDpoRound>(roundFile) is IterativeDpoRound done)
            {
                rounds.Add(done);
                reused++;
                model = Path.Combine(trainDir, PreferenceTrainer.FinalFolder);
                continue;
            }
            var roundClock = Stopwatch.StartNew();
            Directory.CreateDirectory(dir);

            // --- the round's pairs: the given ones (round 1), or fresh samples of the current model paired by RM score ---
            string pairsPath;
            (int prompts, int samples, int withoutPair, double rewardMean, double passRate) = (0, 0, 0, double.NaN, double.NaN);
            bool given = round == 1 && inputs.Pairs is not null;
            if (given)
            {
                pairsPath = inputs.Pairs!;
            }
            else
            {
                pairsPath = Path.Combine(dir, PairsFile);
                (IReadOnlyList<ScoredSample> rewarded, int promptCount, int without) = await SampleAndPairAsync(model, dir, problems, options, round, rm,
                    scorer, device, dtype, progress, cancellation);
                ScoredSample[] judged = rewarded.Where(ScoredSamples.HasVerdict).ToArray();
                (prompts, samples, withoutPair, rewardMean, passRate) = (promptCount, rewarded.Count, without, rewarded.Average(s => s.Reward!.Value),
                    judged.Length == 0 ? double.NaN : judged.Average(s => s.Passed ? 1.0 : 0.0));
            }

            // --- preference training from the current model, which is also the reference ---
            PreferenceOptions preference = options.Preference with { Seed = Seeds.Derive(options.Seed, TrainingStream - round), StopAfterSteps = null };
            var trainProgress = progress is null ? null
                : new SynchronousProgress<TrainingProgress>(p => progress.Report(new IterativeDpoProgress(round, options.Iterations, "train", p.Step, p.TotalSteps)));
            PreferenceResult trained = await PreferenceTrainer.RunAsync(model, pairsPath, trainDir, preference, device, dtype, evalProblemsPath: null,
                resume: ResumeMode.ResumeIfPresent, progress: trainProgress, warn: warn, cancellation: cancellation);
            if (!trained.Completed)
            {
                throw new RunFolderException($"{trainDir}: the round's training stopped before its last step.");
            }
            long pairsTrained = JsonNode.Parse(File.ReadAllText(Path.Combine(trainDir, PreferenceTrainer.SummaryFile)))!["pairs_trained"]!.GetValue<long>();
            var record = new IterativeDpoRound(round, given ? "given" : "sampled", prompts, samples, trained.TrainPairs + trained.HeldOutPairs, withoutPair,
                rewardMean, passRate, trained.Steps, pairsTrained, trained.FinalTrainLoss, trained.HeldOutAccuracy, trained.HeldOutMargin,
                roundClock.Elapsed.TotalSeconds);
            RoundRuns.WriteRecord(roundFile, record);
            rounds.Add(record);
            model = Path.Combine(trainDir, PreferenceTrainer.FinalFolder);
        }

        WriteMetrics(inputs.Output, rounds);

        // --- the last round's model as final/, its pass@1, summary.json ---
        string final = Path.Combine(inputs.Output, FinalFolder);
        RoundRuns.CopyModel(model, final);
        double passAt1 = double.NaN;
        if (inputs.EvalProblems is not null)
        {
            progress?.Report(new IterativeDpoProgress(options.Iterations, options.Iterations, "eval", 0, 1));
            using CausalLM loaded = HfCheckpoint.LoadCausalLM(final, device, dtype);
            passAt1 = await GreedyPassAt1.EvaluateAsync(loaded, HfTokenizer.Load(Path.Combine(final, HfCheckpoint.TokenizerFile)), final,
                inputs.EvalProblems, options.EvalLimit, options.MaxNewTokens, options.Workers, cancellation);
        }
        long totalPairs = rounds.Sum(r => r.PairsTrained);
        var summary = new Dictionary<string, object?>
        {
            ["method"] = "iterative-" + options.Preference.Loss.ToString().ToLowerInvariant(),
            ["beta"] = options.Preference.Beta,
            ["iterations"] = options.Iterations,
            ["rounds"] = rounds,
            ["pairs_trained"] = totalPairs,
            ["samples_generated"] = rounds.Sum(r => r.Samples),
            ["seconds"] = clock.Elapsed.TotalSeconds,
            ["final"] = FinalFolder,
        };
        if (!double.IsNaN(passAt1))
        {
            summary["eval_pass_at_1"] = passAt1;
        }
        RoundRuns.WriteSummary(Path.Combine(inputs.Output, SummaryFile), summary);
        return new IterativeDpoResult(rounds, reused, passAt1, totalPairs, clock.Elapsed.TotalSeconds, inputs.Output);
    }

    /// <summary>
    /// The run's <c>metrics.jsonl</c> + <c>tensorboard/</c>: every round's training records, steps counted across rounds,
    /// with <c>train/round</c>, and at each sampled round's first step <c>round/reward_mean</c> and <c>round/pass_rate</c> of
    /// its samples (drawn from the model as it stood at that step). Rebuilt from the rounds' own metrics.
    /// </summary>
    private static void WriteMetrics(string outDir, IReadOnlyList<IterativeDpoRound> rounds)
    {
        using var metrics = new MetricsLogger(outDir, resumedAtStep: null);
        int offset = 0;
        foreach (IterativeDpoRound round in rounds)
        {
            string path = Path.Combine(RoundFolder(outDir, round.Round), TrainingFolder, "metrics.jsonl");
            bool first = true;
            foreach (string line in File.ReadLines(path))
            {
                JsonObject record = JsonNode.Parse(line)!.AsObject();
                var values = new Dictionary<string, double> { ["train/round"] = round.Round };
                foreach ((string name, JsonNode? value) in record)
                {
                    if (name != "step" && value is JsonValue number && number.TryGetValue(out double x))
                    {
                        values[name] = x;
                    }
                }
                if (first && round.PairsSource == "sampled")
                {
                    values["round/reward_mean"] = round.RewardMean;
                    values["round/pass_rate"] = round.PassRate;
                }
                first = false;
                metrics.Log(offset + record["step"]!.GetValue<int>(), values);
            }
            offset += round.Steps;
        }
    }

    /// <summary>
    /// Samples the round's prompts from <paramref name="modelDir"/>, scores them with the RM and writes <c>samples.jsonl</c>
    /// then <c>pairs.jsonl</c> (both atomically; a rerun reads them back: sampling is seeded, so they are what it would
    /// draw again). Pairs are <see cref="PairBuilder"/>'s, with the RM score standing in for the actual score.
    /// </summary>
    private static async Task<(IReadOnlyList<ScoredSample> Samples, int Prompts, int WithoutPair)> SampleAndPairAsync(string modelDir, string dir,
        IReadOnlyList<Problem> problems, IterativeDpoOptions options, int round, RewardScorer rm, Scorer scorer, Device device, ScalarType dtype,
        IProgress<IterativeDpoProgress>? progress, CancellationToken cancellation)
    {
        string samplesPath = Path.Combine(dir, SamplesFile), pairsPath = Path.Combine(dir, PairsFile);
        Problem[] chosen = RoundRuns.Prompts(problems, Seeds.Derive(options.Seed, PromptStream - round * 100L), options.Prompts);
        IReadOnlyList<ScoredSample> rewarded;
        if (File.Exists(samplesPath) && File.Exists(pairsPath))
        {
            rewarded = ScoredSamples.Read(samplesPath);
            (IReadOnlyList<PreferencePair> _, int without) = Pair(rewarded, chosen, options.Pairing);
            return (rewarded, chosen.Length, without);
        }
        var sampling = new RoundSampling(options.SamplesPerPrompt, options.Temperature, options.TopP, options.MaxNewTokens, options.MicroBatchSize,
            Seeds.Derive(options.Seed, SamplingStream - round));
        (IReadOnlyList<ScoredSample> samples, RolloutPrompt[] prompts) = await RoundRuns.SampleAsync(modelDir, chosen, sampling, scorer, device, dtype,
            progress is null ? null : new SynchronousProgress<RolloutProgress>(p => progress.Report(new IterativeDpoProgress(round, options.Iterations, "sample", p.Scored, p.Total))),
            cancellation);
        progress?.Report(new IterativeDpoProgress(round, options.Iterations, "score", 0, samples.Count));
        rewarded = rm.Score(samples, prompts.Select(p => p.Prompt.Text).ToArray());
        ScoredSamples.Write(samplesPath, rewarded);
        (IReadOnlyList<PreferencePair> pairs, int withoutPair) = Pair(rewarded, chosen, options.Pairing);
        if (pairs.Count == 0)
        {
            throw new InvalidDataException($"{samplesPath}: round {round} gave no preference pair (every prompt's responses tie on the RM score or are identical); " +
                "sample more responses (--n) or prompts (--prompts).");
        }
        PreferencePairs.Write(pairsPath, pairs);
        return (rewarded, chosen.Length, withoutPair);
    }

    /// <summary>The pairs of a round: <see cref="PairBuilder.Build"/> on the samples with their RM score as the score.</summary>
    private static (IReadOnlyList<PreferencePair> Pairs, int WithoutPair) Pair(IReadOnlyList<ScoredSample> rewarded, Problem[] chosen, PairingMode mode)
    {
        Dictionary<int, string> prompts = chosen.Select((p, i) => (Index: i, EvalPrompt.For(p).Text)).ToDictionary(x => x.Index, x => x.Text);
        return PairBuilder.Build(rewarded.Select(s => s with { Score = s.Reward!.Value }).ToArray(), prompts, mode);
    }
}
