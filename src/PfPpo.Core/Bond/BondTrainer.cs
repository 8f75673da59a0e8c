using System.Diagnostics;
using System.Text.Json.Serialization;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.Model;
using PfPpo.Preference;
using PfPpo.Raft;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Scoring;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Bond;

/// <summary>Settings of a BOND run (docs/bond.md).</summary>
public sealed record BondOptions
{
    /// <summary>Anchor updates (iterative BOND): each iteration distills the Best-of-N of the previous iteration's model.</summary>
    public int Iterations { get; init; } = 4;
    /// <summary>β_BOND in [0, 1]: the weight of the backward KL in J = (1 - β) KL_fwd + β KL_bwd (1: backward only, as the paper).</summary>
    public double Beta { get; init; } = 1.0;
    /// <summary>N: responses sampled per prompt from the anchor (N ≥ 2).</summary>
    public int SamplesPerPrompt { get; init; } = 5;
    /// <summary>Prompts per iteration: the first K of a seeded shuffle of the problems, new each iteration (null: all).</summary>
    public int? Prompts { get; init; }
    /// <summary>Weight of the log-ratio ρ = log π - log π_anchor in the backward reward (1: the divergence itself).</summary>
    public double KlCoefficient { get; init; } = 1.0;
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int MaxNewTokens { get; init; } = 256;
    public int MicroBatchSize { get; init; } = 64;
    public int RewardBatchSize { get; init; } = 16;
    /// <summary>Prompts per optimizer step (each brings its N responses).</summary>
    public int BatchSize { get; init; } = 4;
    /// <summary>Passes over an iteration's samples.</summary>
    public int Epochs { get; init; } = 1;
    public double LearningRate { get; init; } = 1e-5;
    public double WarmupFraction { get; init; } = 0.1;
    public double MinLearningRateRatio { get; init; } = 0.1;
    public double WeightDecay { get; init; }
    public double GradClip { get; init; } = 1.0;
    public long Seed { get; init; }
    public int SaveEvery { get; init; }
    public int KeepCheckpoints { get; init; } = 2;
    public int LogEvery { get; init; } = 1;
    public int? EvalLimit { get; init; }
    public int Workers { get; init; }

    [JsonIgnore]
    public OptimizerSettings Optimizer => new() { LearningRate = LearningRate, WeightDecay = WeightDecay, GradClip = GradClip };

    /// <summary>The options that decide the result, for the run's fingerprint.</summary>
    [JsonIgnore]
    public BondOptions ResultDefining => this with
    {
        MicroBatchSize = 0, RewardBatchSize = 0, SaveEvery = 0, KeepCheckpoints = 0, LogEvery = 0, EvalLimit = null, Workers = 0,
    };
}

/// <summary>One iteration's figures (also its <c>iteration.json</c>, which marks the iteration complete).</summary>
/// <param name="RewardMean">Mean raw RM score of the anchor's samples; <paramref name="BestRewardMean"/> of each prompt's best.</param>
/// <param name="Loss">The last step's loss; <paramref name="Kl"/> its mean Σ log π - Σ log π_ref (the drift from the SFT model).</param>
public sealed record BondIteration(int Iteration, int Prompts, int Samples, double RewardMean, double BestRewardMean, double PassRate,
    double BestPassRate, double Loss, double Kl, int Steps, double Seconds);

/// <summary>The outcome of <see cref="BondTrainer.RunAsync"/>.</summary>
/// <param name="SamplesTrained">Responses trained on (each iteration's samples times its epochs).</param>
public sealed record BondResult(IReadOnlyList<BondIteration> Iterations, int IterationsReused, double EvalPassAt1, long SamplesTrained,
    double Seconds, string OutputDirectory);

/// <summary>Where a BOND run stands: the iteration and its phase (sample, score, reference, train, eval) with its progress.</summary>
public sealed record BondProgress(int Iteration, int Iterations, string Phase, int Done, int Total);

/// <summary>Input files of a BOND run; <paramref name="Policy"/> is the starting model and the frozen π_ref.</summary>
public sealed record BondInputs(string Policy, string RewardModel, string Problems, string Output, string? EvalProblems = null);

/// <summary>What a BOND checkpoint records besides the weights and the optimizer.</summary>
public sealed record BondState(int Iteration, int TotalSteps);

/// <summary>
/// Iterative J-BOND (Sessa et al. 2024; docs/bond.md). Per iteration I (anchor = the previous iteration's model; iteration
/// 1: --policy): N responses per prompt from the anchor (<see cref="RoundRuns.SampleAsync"/>), scored by the RM
/// (<see cref="RewardScorer"/>); then one pass of optimizer steps from the anchor on
/// (1 - β) · NLL(best of N) + β · REINFORCE((N - 1) · log F̂(r) - ρ_anchor), F̂ the prompt's empirical reward CDF
/// (<see cref="BondObjective"/>). Each iteration lives in <c>iteration-I/</c>: <c>samples.jsonl</c> (with rewards),
/// <c>logprobs.json</c> (anchor and reference sums), <c>checkpoints/</c>, <c>model/</c> and <c>iteration.json</c> once
/// done. One <c>metrics.jsonl</c> + <c>tensorboard/</c> in the run folder counts steps across iterations.
/// </summary>
public static class BondTrainer
{
    public const string FinalFolder = "final";
    public const string SummaryFile = "summary.json";
    public const string RunFile = "bond_run.json";
    public const string SamplesFile = "samples.jsonl";
    public const string LogprobsFile = "logprobs.json";
    public const string ModelFolder = "model";
    public const string IterationFile = "iteration.json";
    private const long PromptStream = -21;
    private const long SamplingStream = -22;
    private const long BatchStream = -23;

    public static string IterationFolder(string outDir, int iteration) => Path.Combine(outDir, $"iteration-{iteration}");

    /// <summary>Σ log π of every sample under the iteration's anchor and under π_ref, in sample order (written once sampled).</summary>
    public sealed record SampleLogprobs(float[] Anchor, float[] Reference);

    public static async Task<BondResult> RunAsync(BondInputs inputs, BondOptions options, Device device, ScalarType dtype,
        ResumeMode resume = ResumeMode.Fresh, bool force = false, IProgress<BondProgress>? progress = null, Action<string>? warn = null,
        CancellationToken cancellation = default)
    {
        Validate(options);
        var clock = Stopwatch.StartNew();
        IReadOnlyList<Problem> problems = ProblemSet.Load(inputs.Problems).Problems;
        var fileInputs = new Dictionary<string, string> { ["policy"] = inputs.Policy, ["rm"] = inputs.RewardModel, ["problems"] = inputs.Problems };
        RunFingerprint fingerprint = RunFingerprint.Of(new { Options = options.ResultDefining, DType = dtype.ToString() }, fileInputs);
        RoundRuns.OpenRun(inputs.Output, RunFile, "iteration-*", "BOND run's iterations", fingerprint, resume, force);
        RoundRuns.WriteConfig(inputs.Output, inputs, options, dtype, device);

        using var rm = new RewardScorer(inputs.RewardModel, device, dtype, options.RewardBatchSize);
        await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(options.Workers), cancellation);
        HfTokenizer tokenizer = HfTokenizer.Load(Path.Combine(inputs.Policy, HfCheckpoint.TokenizerFile));

        var iterations = new List<BondIteration>();
        int reused = 0, offset = 0;
        string anchor = inputs.Policy;
        for (int iteration = 1; iteration <= options.Iterations; iteration++)
        {
            cancellation.ThrowIfCancellationRequested();
            string dir = IterationFolder(inputs.Output, iteration);
            if (RoundRuns.ReadRecord<BondIteration>(Path.Combine(dir, IterationFile)) is BondIteration done)
            {
                iterations.Add(done);
                reused++;
                offset += done.Steps;
                anchor = Path.Combine(dir, ModelFolder);
                continue;
            }
            Directory.CreateDirectory(dir);
            var iterationClock = Stopwatch.StartNew();
            Problem[] chosen = RoundRuns.Prompts(problems, Seeds.Derive(options.Seed, PromptStream - iteration * 100L), options.Prompts);
            RolloutPrompt[] prompts = chosen.Select(p => RolloutPrompt.For(p, tokenizer)).ToArray();
            (IReadOnlyList<ScoredSample> samples, SampleLogprobs logprobs) = await SamplesAsync(inputs, anchor, dir, chosen, prompts, options, iteration,
                rm, scorer, device, dtype, progress, cancellation);

            Group[] groups = Groups(samples, prompts, logprobs, options.SamplesPerPrompt, dir);
            (LoopOutcome outcome, int steps) = await TrainAsync(anchor, dir, groups, inputs.Output, offset, options, iteration, device, dtype, progress,
                warn, cancellation);

            IReadOnlyList<ScoredSample> best = RaftSelection.Best(samples);
            ScoredSample[] judged = samples.Where(ScoredSamples.HasVerdict).ToArray();
            ScoredSample[] bestJudged = best.Where(ScoredSamples.HasVerdict).ToArray();
            var record = new BondIteration(iteration, chosen.Length, samples.Count, samples.Average(s => s.Reward!.Value), best.Average(s => s.Reward!.Value),
                judged.Length == 0 ? double.NaN : judged.Average(s => s.Passed ? 1.0 : 0.0),
                bestJudged.Length == 0 ? double.NaN : bestJudged.Average(s => s.Passed ? 1.0 : 0.0),
                outcome.Metrics.GetValueOrDefault("train/loss", double.NaN), outcome.Metrics.GetValueOrDefault("train/kl", double.NaN), steps,
                iterationClock.Elapsed.TotalSeconds);
            RoundRuns.WriteRecord(Path.Combine(dir, IterationFile), record);
            iterations.Add(record);
            offset += steps;
            anchor = Path.Combine(dir, ModelFolder);
        }

        // --- the last iteration's model as final/, its pass@1, summary.json ---
        string final = Path.Combine(inputs.Output, FinalFolder);
        RoundRuns.CopyModel(anchor, final);
        double passAt1 = double.NaN;
        if (inputs.EvalProblems is not null)
        {
            progress?.Report(new BondProgress(options.Iterations, options.Iterations, "eval", 0, 1));
            using CausalLM model = HfCheckpoint.LoadCausalLM(final, device, dtype);
            passAt1 = await GreedyPassAt1.EvaluateAsync(model, HfTokenizer.Load(Path.Combine(final, HfCheckpoint.TokenizerFile)), final,
                inputs.EvalProblems, options.EvalLimit, options.MaxNewTokens, options.Workers, cancellation);
        }
        long samplesTrained = iterations.Sum(i => (long)i.Samples * options.Epochs);
        var summary = new Dictionary<string, object?>
        {
            ["method"] = "bond",
            ["beta"] = options.Beta,
            ["n"] = options.SamplesPerPrompt,
            ["iterations"] = iterations,
            ["steps"] = offset,
            ["samples_trained"] = samplesTrained,
            ["samples_generated"] = iterations.Sum(i => i.Samples),
            ["seconds"] = clock.Elapsed.TotalSeconds,
            ["final"] = FinalFolder,
        };
        if (!double.IsNaN(passAt1))
        {
            summary["eval_pass_at_1"] = passAt1;
        }
        RoundRuns.WriteSummary(Path.Combine(inputs.Output, SummaryFile), summary);
        return new BondResult(iterations, reused, passAt1, samplesTrained, clock.Elapsed.TotalSeconds, inputs.Output);
    }

    private static void Validate(BondOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Iterations, 1, nameof(options.Iterations));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SamplesPerPrompt, 2, nameof(options.SamplesPerPrompt));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options.BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Epochs, 1, nameof(options.Epochs));
        if (!(options.Beta >= 0 && options.Beta <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Beta, "β_BOND must be in [0, 1].");
        }
        if (!(options.KlCoefficient >= 0) || double.IsInfinity(options.KlCoefficient))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.KlCoefficient, "The KL coefficient must be finite and non-negative.");
        }
    }

    /// <summary>
    /// The iteration's samples with rewards and their log-prob sums under the anchor and π_ref: read back when an earlier
    /// invocation wrote both files (sampling is seeded, so they are what it would draw again), else sampled and computed.
    /// </summary>
    private static async Task<(IReadOnlyList<ScoredSample> Samples, SampleLogprobs Logprobs)> SamplesAsync(BondInputs inputs, string anchor, string dir,
        Problem[] chosen, RolloutPrompt[] prompts, BondOptions options, int iteration, RewardScorer rm, Scorer scorer, Device device, ScalarType dtype,
        IProgress<BondProgress>? progress, CancellationToken cancellation)
    {
        string samplesPath = Path.Combine(dir, SamplesFile), logprobsPath = Path.Combine(dir, LogprobsFile);
        if (File.Exists(samplesPath) && RoundRuns.ReadRecord<SampleLogprobs>(logprobsPath) is SampleLogprobs saved)
        {
            return (ScoredSamples.Read(samplesPath), saved);
        }
        var sampling = new RoundSampling(options.SamplesPerPrompt, options.Temperature, options.TopP, options.MaxNewTokens, options.MicroBatchSize,
            Seeds.Derive(options.Seed, SamplingStream - iteration));
        (IReadOnlyList<ScoredSample> samples, RolloutPrompt[] _) = await RoundRuns.SampleAsync(anchor, chosen, sampling, scorer, device, dtype,
            progress is null ? null : new SynchronousProgress<RolloutProgress>(p => progress.Report(new BondProgress(iteration, options.Iterations, "sample", p.Scored, p.Total))),
            cancellation);
        progress?.Report(new BondProgress(iteration, options.Iterations, "score", 0, samples.Count));
        ScoredSample[] rewarded = rm.Score(samples, prompts.Select(p => p.Prompt.Text).ToArray());
        ScoredSamples.Write(samplesPath, rewarded);

        progress?.Report(new BondProgress(iteration, options.Iterations, "reference", 0, samples.Count));
        TokenSequence[] sequences = rewarded.Select(s => new TokenSequence(prompts[s.Group].Tokens, s.Tokens)).ToArray();
        float[] anchorSums = Sums(anchor, sequences, options, device, dtype);
        float[] referenceSums = anchor == inputs.Policy ? anchorSums : Sums(inputs.Policy, sequences, options, device, dtype);
        var logprobs = new SampleLogprobs(anchorSums, referenceSums);
        RoundRuns.WriteRecord(logprobsPath, logprobs);
        return (rewarded, logprobs);
    }

    private static float[] Sums(string modelDir, TokenSequence[] sequences, BondOptions options, Device device, ScalarType dtype)
    {
        using CausalLM model = HfCheckpoint.LoadCausalLM(modelDir, device, dtype);
        int pad = model.Config.PadTokenId ?? model.Config.EosTokenIds.FirstOrDefault(0);
        return ReferenceLogprobs.Sums(model, sequences, pad, options.BatchSize * options.SamplesPerPrompt, device);
    }

    /// <summary>A prompt's N responses as training data: token sequences, quantile rewards, the best index, anchor and reference sums.</summary>
    private sealed record Group(TokenSequence[] Sequences, float[] QuantileRewards, long Best, float[] Anchor, float[] Reference, float[] Rewards);

    private static Group[] Groups(IReadOnlyList<ScoredSample> samples, RolloutPrompt[] prompts, SampleLogprobs logprobs, int n, string dir)
    {
        if (samples.Count != prompts.Length * n || logprobs.Anchor.Length != samples.Count || logprobs.Reference.Length != samples.Count)
        {
            throw new InvalidDataException($"{dir}: {SamplesFile} and {LogprobsFile} do not hold {n} samples for each of {prompts.Length} prompts; " +
                "delete the folder to sample the iteration again.");
        }
        IReadOnlyList<ScoredSample> best = RaftSelection.Best(samples);
        return Enumerable.Range(0, prompts.Length).Select(g =>
        {
            int[] rows = Enumerable.Range(0, samples.Count).Where(i => samples[i].Group == g).OrderBy(i => samples[i].Sample).ToArray();
            double[] rewards = rows.Select(i => samples[i].Reward ?? throw new InvalidDataException($"{dir}: sample {i} has no reward.")).ToArray();
            return new Group(rows.Select(i => new TokenSequence(prompts[g].Tokens, samples[i].Tokens)).ToArray(),
                BondObjective.QuantileRewards(rewards).Select(q => (float)q).ToArray(), best[g].Sample,
                rows.Select(i => logprobs.Anchor[i]).ToArray(), rows.Select(i => logprobs.Reference[i]).ToArray(),
                rewards.Select(r => (float)r).ToArray());
        }).ToArray();
    }

    /// <summary>
    /// One iteration's optimizer steps from the anchor, numbered from <paramref name="offset"/> (the steps of the earlier
    /// iterations) in the run's metrics and this iteration's checkpoints; resumes from an interrupted iteration's checkpoint.
    /// Writes the trained model to <c>model/</c>.
    /// </summary>
    private static async Task<(LoopOutcome Outcome, int Steps)> TrainAsync(string anchor, string dir, Group[] groups, string outDir, int offset,
        BondOptions options, int iteration, Device device, ScalarType dtype, IProgress<BondProgress>? progress, Action<string>? warn,
        CancellationToken cancellation)
    {
        using CausalLM model = HfCheckpoint.LoadCausalLM(anchor, device, dtype);
        int pad = model.Config.PadTokenId ?? model.Config.EosTokenIds.FirstOrDefault(0);
        var batches = new EpochBatches(groups.Select(g => g.Sequences.Max(s => s.Length)).ToArray(), options.BatchSize,
            Seeds.Derive(options.Seed, BatchStream - iteration));
        int steps = options.Epochs * batches.PerEpoch;
        var schedule = WarmupCosineSchedule.ForRun(options.LearningRate, options.WarmupFraction, steps, options.MinLearningRateRatio);
        using var trainable = new TrainableModel("model", model, options.Optimizer, schedule, Path.Combine(anchor, HfCheckpoint.TokenizerFile),
            initialWeights: anchor);
        RunFingerprint fingerprint = RunFingerprint.Of(new { Options = options.ResultDefining, DType = dtype.ToString(), Iteration = iteration },
            new Dictionary<string, string> { ["anchor"] = anchor, ["samples"] = Path.Combine(dir, SamplesFile) });
        var store = new CheckpointStore(dir, options.KeepCheckpoints, ResumeMode.ResumeIfPresent);
        ResumedCheckpoint<BondState>? resumed = store.Open<BondState>(fingerprint, [trainable], warn);
        int start = resumed?.Step ?? offset;
        using var metrics = new MetricsLogger(outDir, start);
        var trainProgress = progress is null ? null
            : new SynchronousProgress<TrainingProgress>(p => progress.Report(new BondProgress(iteration, options.Iterations, "train", p.Step - offset, steps)));
        var loop = new BondSteps(trainable, model, groups, options, pad, batches, offset, iteration, device,
            step => store.Save(step, new BondState(iteration, steps), fingerprint, [trainable]));
        LoopOutcome outcome = await TrainingLoop.RunAsync(loop, start, offset + steps, new LoopCadence(Math.Max(1, options.LogEvery), 0, options.SaveEvery),
            metrics, trainProgress, cancellation);
        trainable.SaveModel(Path.Combine(dir, ModelFolder));
        return (outcome, steps);
    }

    /// <summary>One step: a batch of prompts' N responses through the policy, the J-BOND loss, an optimizer step.</summary>
    private sealed class BondSteps(TrainableModel trainable, CausalLM model, Group[] groups, BondOptions options, int padTokenId, EpochBatches batches,
        int offset, int iteration, Device device, Action<int> save) : ITrainingSteps
    {
        public ValueTask<IReadOnlyDictionary<string, double>> StepAsync(int step, CancellationToken cancellation) =>
            ValueTask.FromResult(Step(step - offset));

        public ValueTask<IReadOnlyDictionary<string, double>> EvaluateAsync(int step, CancellationToken cancellation) =>
            ValueTask.FromResult<IReadOnlyDictionary<string, double>>(new Dictionary<string, double>());

        public void Save(int step) => save(step);

        private IReadOnlyDictionary<string, double> Step(int local)
        {
            model.train();
            using var scope = NewDisposeScope();
            Group[] chunk = batches.ForStep(local).Select(i => groups[i]).ToArray();
            int g = chunk.Length, n = options.SamplesPerPrompt;
            TokenBatch batch = TokenBatch.Collate([.. chunk.SelectMany(c => c.Sequences)], padTokenId, Padding.Right, device);
            trainable.ZeroGrad();
            Tensor logp = TokenLogprobs.Compute(model, batch).sum(1).reshape(g, n);                          // [G, N]
            Tensor quantile = tensor(chunk.SelectMany(c => c.QuantileRewards).ToArray(), device: device).reshape(g, n);
            Tensor anchorSums = tensor(chunk.SelectMany(c => c.Anchor).ToArray(), device: device).reshape(g, n);
            Tensor referenceSums = tensor(chunk.SelectMany(c => c.Reference).ToArray(), device: device).reshape(g, n);
            Tensor rho = logp.detach() - anchorSums;
            Tensor advantages = BondObjective.Advantages(quantile, rho, options.KlCoefficient);
            BondObjective.Terms terms = BondObjective.Loss(logp, advantages, tensor(chunk.Select(c => c.Best).ToArray(), device: device), options.Beta);
            trainable.ScaleLoss(terms.Loss).backward();
            StepStats stats = trainable.Step(local);
            return new Dictionary<string, double>
            {
                ["train/loss"] = terms.Loss.item<float>(),
                ["train/forward_loss"] = terms.Forward.item<float>(),
                ["train/backward_loss"] = terms.Backward.item<float>(),
                ["train/reward_mean"] = chunk.SelectMany(c => c.Rewards).Average(r => (double)r),
                ["train/quantile_reward_mean"] = quantile.mean().item<float>(),
                ["train/kl"] = (logp.detach() - referenceSums).mean().item<float>(),
                ["train/kl_anchor"] = rho.mean().item<float>(),
                ["train/lr"] = stats.LearningRate,
                ["train/grad_norm"] = stats.GradNorm,
                ["train/iteration"] = iteration,
            };
        }
    }
}
