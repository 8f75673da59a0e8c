using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.Filtration;
using PfPpo.Generation;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Scoring;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Ppo;

/// <summary>The folders and files a PPO run reads and writes.</summary>
/// <param name="Policy">The starting policy (SFT model): the actor and the frozen reference.</param>
/// <param name="RewardModel">The reward model (needed by the rm rewards); the critic starts from it when given.</param>
/// <param name="Critic">Where the critic starts (default: the reward model, else the policy's backbone with a fresh head).</param>
/// <param name="EvalProblems">Held-out problems for the periodic greedy pass@1 (default: a seeded share of <paramref name="Problems"/>).</param>
public sealed record PpoInputs(string Policy, string? RewardModel, string Problems, string Output, string? EvalProblems = null, string? Critic = null);

/// <summary>The outcome of <see cref="PpoTrainer.RunAsync"/> (also DIR/summary.json).</summary>
/// <param name="EvalPassAt1">Greedy pass@1 on the held-out problems after the last iteration.</param>
/// <param name="BestEvalPassAt1">The best periodic held-out pass@1 and its iteration (its actor is in DIR/best).</param>
/// <param name="Filter">The strategy that filtered (what <c>auto</c> chose, thresholds resolved).</param>
public sealed record PpoResult(int Iterations, int TotalIterations, bool Completed, double EvalPassAt1, double BestEvalPassAt1, int BestIteration,
    string Filter, long SamplesTrained, double Seconds, string OutputDirectory);

/// <summary>What a PPO checkpoint records besides the actor, the critic and their optimizers.</summary>
public sealed record PpoState(
    [property: JsonPropertyName("total_iterations")] int TotalIterations,
    [property: JsonPropertyName("filter")] string Filter,
    [property: JsonPropertyName("kl_coefficient")] double KlCoefficient,
    [property: JsonPropertyName("samples_trained")] long SamplesTrained,
    [property: JsonPropertyName("best_eval_pass_at_1")] double? BestEvalPassAt1,
    [property: JsonPropertyName("best_iteration")] int BestIteration);

/// <summary>
/// PPO, PF-PPO, PPO-S and GRPO on code with a learned or an execution reward (docs/ppo.md). Each iteration, read top to
/// bottom in <see cref="PpoSteps.StepAsync"/>: sample N responses for P prompts and score them in the sandbox, compute the
/// sequence rewards, filter each prompt group, recompute old / reference log-probs and values for what trains, turn
/// rewards into per-token rewards with the KL penalty, advantages (GAE, or GRPO's group normalisation) and returns, then
/// K epochs of clipped updates on shuffled mini-batches. The infrastructure is the shared one: <see cref="TrainableModel"/>,
/// <see cref="CheckpointStore"/>, <see cref="TrainingLoop"/> (one step = one iteration), <see cref="TokenBatch"/>,
/// <see cref="TokenLogprobs"/>, <see cref="RolloutCollector"/>, <see cref="RewardModel"/> and the filtration module.
/// </summary>
public static class PpoTrainer
{
    public const string SummaryFile = "summary.json";
    public const string ConfigFile = "run_config.json";
    public const string FilterFile = "filter.json";
    public const string FinalFolder = "final";
    public const string CriticFolder = "critic";
    public const string BestFolder = "best";
    public const string RolloutsFolder = "rollouts";

    // Random streams derived from the seed (each further keyed by the iteration).
    internal const int PromptStream = 11, RolloutStream = 12, FilterStream = 13, ShuffleStream = 14, CalibrationStream = 15, HeldOutStream = 16;

    public static async Task<PpoResult> RunAsync(PpoInputs inputs, PpoOptions options, Device device, ScalarType dtype,
        ResumeMode resume = ResumeMode.Fresh, bool force = false, IProgress<TrainingProgress>? progress = null, Action<string>? warn = null,
        CancellationToken cancellation = default)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        bool usesRm = options.Reward != RewardSource.Execution;
        if (usesRm && inputs.RewardModel is null)
        {
            throw new ArgumentException($"--reward {Describe(options.Reward)} needs a reward model (--rm).", nameof(inputs));
        }

        // --- data: training prompts and held-out problems ---
        IReadOnlyList<Problem> train = ProblemSet.Load(inputs.Problems).Problems;
        IReadOnlyList<Problem> held;
        if (inputs.EvalProblems is not null)
        {
            held = ProblemSet.Load(inputs.EvalProblems).Problems;
        }
        else
        {
            (train, held) = SplitHeldOut(train, options.HeldOutFraction, options.Seed);
        }
        if (options.EvalLimit is int limit)
        {
            held = held.Take(limit).ToArray();
        }
        if (train.Count == 0)
        {
            throw new InvalidDataException($"{inputs.Problems}: no training problems (after holding out {options.HeldOutFraction:P0} for evaluation).");
        }

        // --- models: actor, frozen reference, critic, reward model ---
        string tokenizerPath = Path.Combine(inputs.Policy, HfCheckpoint.TokenizerFile);
        HfTokenizer tokenizer = HfTokenizer.Load(tokenizerPath);
        using CausalLM actorModel = HfCheckpoint.LoadCausalLM(inputs.Policy, device, dtype);
        using CausalLM reference = HfCheckpoint.LoadCausalLM(inputs.Policy, device, dtype);
        reference.eval();
        foreach (var parameter in reference.parameters())
        {
            parameter.requires_grad = false;
        }
        string? criticInit = options.UsesCritic ? inputs.Critic ?? inputs.RewardModel ?? inputs.Policy : null;
        using ScalarHeadModel? criticModel = criticInit is null ? null : HfCheckpoint.LoadScalarHead(criticInit, device, dtype, options.Seed);
        using ScalarHeadModel? rewardModel = usesRm ? HfCheckpoint.LoadScalarHead(inputs.RewardModel!, device, dtype) : null;
        RewardFunction rewards = usesRm
            ? RewardFunction.ForRewardModel(rewardModel!, inputs.RewardModel!, options, device)
            : RewardFunction.Execution(options);

        var actorSchedule = WarmupCosineSchedule.ForRun(options.ActorLearningRate, options.WarmupFraction, options.Iterations, options.MinLearningRateRatio);
        var criticSchedule = WarmupCosineSchedule.ForRun(options.CriticLearningRate, options.WarmupFraction, options.Iterations, options.MinLearningRateRatio);
        using var actor = new TrainableModel("actor", actorModel, new OptimizerSettings { LearningRate = options.ActorLearningRate, WeightDecay = 0, GradClip = options.GradClip },
            actorSchedule, tokenizerPath, initialWeights: inputs.Policy);
        bool criticFromHead = criticInit is not null && HfCheckpoint.LoadConfig(criticInit).Architectures
            .Any(a => a.EndsWith("ForSequenceClassification", StringComparison.Ordinal));
        using TrainableModel? critic = criticModel is null ? null : new TrainableModel("critic", criticModel,
            new OptimizerSettings { LearningRate = options.CriticLearningRate, WeightDecay = 0, GradClip = options.GradClip }, criticSchedule,
            tokenizerPath, initialWeights: criticFromHead ? criticInit : null);
        TrainableModel[] trained = critic is null ? [actor] : [actor, critic];

        // --- the run folder: fingerprint, checkpoints, metrics, resolved configuration ---
        var fingerprintInputs = new Dictionary<string, string> { ["policy"] = inputs.Policy, ["problems"] = inputs.Problems };
        foreach ((string name, string? path) in new[] { ("rm", inputs.RewardModel), ("critic", inputs.Critic), ("eval_problems", inputs.EvalProblems) })
        {
            if (path is not null)
            {
                fingerprintInputs[name] = path;
            }
        }
        RunFingerprint fingerprint = RunFingerprint.Of(new { Options = options.ResultDefining, DType = dtype.ToString() }, fingerprintInputs);
        var store = new CheckpointStore(inputs.Output, options.KeepCheckpoints, resume, force);
        ResumedCheckpoint<PpoState>? resumed = store.Open<PpoState>(fingerprint, trained, warn);
        Directory.CreateDirectory(inputs.Output);
        WriteConfig(Path.Combine(inputs.Output, ConfigFile), inputs, options, dtype, device);

        await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(options.Workers), cancellation);
        await scorer.CalibrateAsync(held, cancellation);
        var collector = new RolloutCollector(actorModel, tokenizer, scorer);
        IReadOnlyList<int> eos = HfCheckpoint.LoadEosTokenIds(inputs.Policy);
        RolloutPrompt[] prompts = train.Select(p => RolloutPrompt.For(p, tokenizer)).ToArray();

        // --- the filter: as given, or chosen by R² on a calibration rollout of the starting policy ---
        FiltrationStrategy filter;
        if (resumed is not null)
        {
            filter = StrategySyntax.Parse(resumed.State.Filter);
        }
        else
        {
            filter = await ResolveFilterAsync(collector, prompts, rewards, options, eos, inputs.Output, cancellation);
        }

        using var metrics = new MetricsLogger(inputs.Output, resumed?.Step, stepKey: "iteration", nestGroups: true);
        int padTokenId = actorModel.Config.PadTokenId ?? actorModel.Config.EosTokenIds.FirstOrDefault(0);
        var steps = new PpoSteps(options, actor, actorModel, reference, critic, criticModel, rewards, filter, collector, prompts, held,
            tokenizer, scorer, eos, padTokenId, device, inputs.Output, resumed?.State);
        steps.SaveTo = iteration => store.Save(iteration, steps.State(), fingerprint, trained);
        LoopOutcome outcome = await TrainingLoop.RunAsync(steps, resumed?.Step ?? 0, options.Iterations,
            new LoopCadence(LogEvery: 1, options.EvalEvery, options.SaveEvery, options.StopAfterIterations), metrics, progress, cancellation);

        double evalPassAt1 = outcome.Metrics.GetValueOrDefault("eval_pass_at_1", double.NaN);
        var result = new PpoResult(outcome.Step, options.Iterations, outcome.Completed, evalPassAt1, steps.BestEvalPassAt1, steps.BestIteration,
            filter.ToString(), steps.SamplesTrained, clock.Elapsed.TotalSeconds, inputs.Output);
        if (outcome.Completed)
        {
            actor.SaveModel(Path.Combine(inputs.Output, FinalFolder));
            critic?.SaveModel(Path.Combine(inputs.Output, CriticFolder));
            WriteSummary(Path.Combine(inputs.Output, SummaryFile), result, options, held.Count);
        }
        return result;
    }

    /// <summary>
    /// The filter the run uses: the given strategy, with quantile thresholds resolved on a calibration rollout; or, for
    /// <c>auto</c>, the candidate with the highest binned R² of actual score against reward on that rollout. What was
    /// chosen and why goes to DIR/filter.json (and the calibration samples beside it).
    /// </summary>
    private static async Task<FiltrationStrategy> ResolveFilterAsync(RolloutCollector collector, RolloutPrompt[] prompts, RewardFunction rewards,
        PpoOptions options, IReadOnlyList<int> eos, string outDir, CancellationToken cancellation)
    {
        bool auto = string.Equals(options.Filter.Trim(), "auto", StringComparison.OrdinalIgnoreCase);
        FiltrationStrategy? given = auto ? null : StrategySyntax.Parse(options.Filter);
        if (given is not null && !given.NeedsCalibration)
        {
            return given;
        }
        int count = Math.Min(options.CalibrationPrompts, prompts.Length);
        int[] order = PromptOrder(prompts.Length, Seeds.Derive(options.Seed, CalibrationStream));
        RolloutPrompt[] calibrationPrompts = order.Take(count).Select(i => prompts[i]).ToArray();
        RolloutBatch batch = await collector.CollectAsync(calibrationPrompts,
            SamplingFor(options, Math.Max(2, options.SamplesPerPrompt), Seeds.Derive(options.Seed, CalibrationStream, 1), eos), cancellation: cancellation);
        SequenceRewards scored = rewards.Compute(batch, calibrationPrompts);
        ScoredSample[] samples = ScoredSamples.FromRollout(batch)
            .Select((s, i) => s with { Reward = scored.Usable[i] ? scored.Reward[i] : null })
            .Where(s => s.Reward is not null).ToArray();
        ScoredSamples.Write(Path.Combine(outDir, "calibration_samples.jsonl"), samples);
        double[] calibration = samples.Select(s => s.Reward!.Value).ToArray();
        var json = new JsonObject { ["requested"] = options.Filter, ["calibration_prompts"] = count, ["calibration_samples"] = samples.Length };
        FiltrationStrategy chosen;
        if (given is not null)
        {
            chosen = given.Resolve(calibration);
            json["reason"] = "quantile thresholds resolved on the calibration rollout's training rewards";
        }
        else
        {
            AutoFilterChoice choice = AutoFilter.Choose(samples, options.AutoCandidates.Select(StrategySyntax.Parse).ToArray(), options.Mode,
                Seeds.Derive(options.Seed, CalibrationStream, 2));
            chosen = choice.Chosen;
            json["reason"] = choice.Reason;
            json["r2"] = new JsonObject(choice.R2.Select(r => KeyValuePair.Create(r.Strategy, (JsonNode?)new JsonObject
            {
                ["kept"] = r.Kept, ["binned"] = Finite(r.Binned.Fit.R2), ["binned_ci_low"] = Finite(r.BinnedInterval.Low),
                ["binned_ci_high"] = Finite(r.BinnedInterval.High), ["per_response"] = Finite(r.PerResponse.R2),
            })));
        }
        json["chosen"] = chosen.ToString();
        AtomicFile.WriteAllText(Path.Combine(outDir, FilterFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return chosen;
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    internal static RolloutOptions SamplingFor(PpoOptions options, int responses, long seed, IReadOnlyList<int> eos) => new()
    {
        Sampling = new RolloutOptions().Sampling with
        {
            NumSamples = responses, Temperature = options.Temperature, TopP = options.TopP, MaxNewTokens = options.MaxNewTokens, Seed = seed,
            EosTokenIds = eos, MicroBatchSize = options.GenerationBatchSize,
        },
    };

    /// <summary>A seeded permutation of [0, n).</summary>
    internal static int[] PromptOrder(int n, int seed)
    {
        int[] order = Enumerable.Range(0, n).ToArray();
        new Random(seed).Shuffle(order);
        return order;
    }

    /// <summary>
    /// The prompts of iteration <paramref name="iteration"/>: consecutive slices of seeded permutations of the training
    /// problems, a new permutation for each pass over them (so every prompt is used once per pass).
    /// </summary>
    public static int[] PromptsFor(int iteration, int count, int total, long seed)
    {
        var result = new int[count];
        long start = (long)iteration * count;
        int[]? order = null;
        long pass = -1;
        for (int i = 0; i < count; i++)
        {
            long position = start + i;
            if (position / total != pass)
            {
                pass = position / total;
                order = PromptOrder(total, Seeds.Derive(seed, PromptStream, (int)pass));
            }
            result[i] = order![(int)(position % total)];
        }
        return result;
    }

    private static (IReadOnlyList<Problem> Train, IReadOnlyList<Problem> HeldOut) SplitHeldOut(IReadOnlyList<Problem> problems, double fraction, long seed)
    {
        int count = (int)Math.Round(problems.Count * fraction);
        if (count == 0)
        {
            return (problems, []);
        }
        var heldSet = PromptOrder(problems.Count, Seeds.Derive(seed, HeldOutStream)).Take(count).ToHashSet();
        return (problems.Where((_, i) => !heldSet.Contains(i)).ToArray(), problems.Where((_, i) => heldSet.Contains(i)).ToArray());
    }

    /// <summary>The CLI name of a reward source.</summary>
    public static string Describe(RewardSource source) => source switch
    {
        RewardSource.Rm => "rm",
        RewardSource.Execution => "execution",
        _ => "rm+execution",
    };

    internal static string Describe(PpoAlgorithm algorithm) => algorithm switch
    {
        PpoAlgorithm.Ppo => "ppo",
        PpoAlgorithm.PpoS => "ppo-s",
        _ => "grpo",
    };

    private static void WriteConfig(string path, PpoInputs inputs, PpoOptions options, ScalarType dtype, Device device)
    {
        var json = new JsonObject
        {
            ["inputs"] = JsonSerializer.SerializeToNode(inputs, JsonDefaults),
            ["options"] = JsonSerializer.SerializeToNode(options, JsonDefaults),
            ["kl_as_loss"] = options.KlIsLoss,
            ["dtype"] = dtype.ToString(),
            ["device"] = device.ToString(),
        };
        AtomicFile.WriteAllText(path, json.ToJsonString(JsonDefaults) + "\n");
    }

    private static void WriteSummary(string path, PpoResult result, PpoOptions options, int heldOutProblems)
    {
        var json = new JsonObject
        {
            ["eval_pass_at_1"] = Finite(result.EvalPassAt1),
            ["best_eval_pass_at_1"] = Finite(result.BestEvalPassAt1),
            ["best_iteration"] = result.BestIteration,
            ["eval_problems"] = heldOutProblems,
            ["algorithm"] = Describe(options.Algorithm),
            ["filter"] = result.Filter,
            ["filter_requested"] = options.Filter,
            ["mode"] = options.Mode == FiltrationMode.Drop ? "drop" : "weight",
            ["reward"] = Describe(options.Reward),
            ["iterations"] = result.Iterations,
            ["samples_trained"] = result.SamplesTrained,
            ["seed"] = options.Seed,
            ["seconds"] = Math.Round(result.Seconds, 2),
        };
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static readonly JsonSerializerOptions JsonDefaults = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>One response of an iteration, from its sampling to its advantages.</summary>
    private sealed class Response(int group, RolloutSample sample, TokenSequence sequence)
    {
        public int Group { get; } = group;
        public RolloutSample Sample { get; } = sample;
        /// <summary>(prompt tokens, generated tokens): what the actor, reference and critic read.</summary>
        public TokenSequence Sequence { get; } = sequence;
        public int Length => Sequence.Completion.Count;
        /// <summary>The sequence reward (normalised RM and/or execution).</summary>
        public double Reward { get; set; }
        /// <summary>The loss multiplier from the filter (0: does not train).</summary>
        public double Weight { get; set; }
        public float[] OldLogprobs { get; set; } = [];
        public float[] RefLogprobs { get; set; } = [];
        public float[] Entropy { get; set; } = [];
        public float[] Values { get; set; } = [];
        public float[] Advantages { get; set; } = [];
        public float[] Returns { get; set; } = [];
    }

    /// <summary>One iteration per step: experience, filtration, advantages, update (see the class remarks).</summary>
    private sealed class PpoSteps(PpoOptions options, TrainableModel actor, CausalLM actorModel, CausalLM reference, TrainableModel? critic,
        ScalarHeadModel? criticModel, RewardFunction rewards, FiltrationStrategy filter, RolloutCollector collector, RolloutPrompt[] prompts,
        IReadOnlyList<Problem> held, HfTokenizer tokenizer, Scorer scorer, IReadOnlyList<int> eos, int padTokenId, Device device, string outDir,
        PpoState? resumed) : ITrainingSteps
    {
        private readonly KlController kl = new(resumed?.KlCoefficient ?? options.KlCoefficient, options.KlTarget, options.KlHorizon);

        public long SamplesTrained { get; private set; } = resumed?.SamplesTrained ?? 0;

        public double BestEvalPassAt1 { get; private set; } = resumed?.BestEvalPassAt1 ?? double.NaN;

        private double? BestOrNull => double.IsNaN(BestEvalPassAt1) ? null : BestEvalPassAt1;

        public int BestIteration { get; private set; } = resumed?.BestIteration ?? 0;

        public Action<int> SaveTo { get; set; } = _ => { };

        public PpoState State() => new(options.Iterations, filter.ToString(), kl.Coefficient, SamplesTrained, BestOrNull, BestIteration);

        public async ValueTask<IReadOnlyDictionary<string, double>> StepAsync(int iteration, CancellationToken cancellation)
        {
            var clock = Stopwatch.StartNew();
            var seconds = new Dictionary<string, double>();

            // 1. Experience: P prompts x N responses from the actor, scored in the sandbox while the next chunk generates.
            (int promptCount, int responsesPerPrompt) = options.Rollout;
            RolloutPrompt[] batchPrompts = PromptsFor(iteration, promptCount, prompts.Length, options.Seed).Select(i => prompts[i]).ToArray();
            RolloutBatch rollout = await collector.CollectAsync(batchPrompts,
                SamplingFor(options, responsesPerPrompt, Seeds.Derive(options.Seed, RolloutStream, iteration), eos), cancellation: cancellation);
            seconds["generate"] = rollout.GenerationSeconds;
            seconds["sandbox"] = rollout.SandboxSeconds;
            cancellation.ThrowIfCancellationRequested();

            // 2. Sequence rewards: the RM's (normalised) and/or the execution score.
            var phase = Stopwatch.StartNew();
            SequenceRewards scored = rewards.Compute(rollout, batchPrompts);
            seconds["reward"] = phase.Elapsed.TotalSeconds;
            var responses = new List<Response>();
            int flat = 0;
            foreach (RolloutGroup group in rollout.Groups)
            {
                foreach (RolloutSample sample in group.Samples)
                {
                    if (scored.Usable[flat])
                    {
                        responses.Add(new Response(group.PromptIndex, sample, new TokenSequence(group.PromptTokens, sample.TokenIds)) { Reward = scored.Reward[flat] });
                    }
                    flat++;
                }
            }
            Directory.CreateDirectory(Path.Combine(outDir, RolloutsFolder));
            ScoredSamples.Write(Path.Combine(outDir, RolloutsFolder, string.Create(CultureInfo.InvariantCulture, $"iteration-{iteration + 1:D4}.jsonl")),
                ScoredSamples.FromRollout(rollout).Select((s, i) => s with { Reward = scored.Raw?[i] }));

            // 3. Filtration per prompt group: which responses train, and with what loss weight.
            Response[][] groups = responses.GroupBy(r => r.Group).Select(g => g.ToArray()).ToArray();
            IReadOnlyList<Filtered> filtered = filter.ApplyToBuffer(
                groups.Select(g => new RewardGroup($"group {g[0].Group} ({batchPrompts[g[0].Group].Problem.TaskId})", g.Select(r => r.Reward).ToArray())).ToArray(),
                new Random(Seeds.Derive(options.Seed, FilterStream, iteration)));
            for (int g = 0; g < groups.Length; g++)
            {
                IReadOnlyList<double> weights = filtered[g].LossWeights(options.Mode);
                for (int i = 0; i < groups[g].Length; i++)
                {
                    groups[g][i].Weight = weights[i];
                }
            }
            Response[] trained = responses.Where(r => r.Weight > 0).ToArray();

            // 4. Old log-probs (and entropy), reference log-probs and values, in the mini-batches of the first epoch so the
            //    first update recomputes exactly these numbers (its ratio is exactly 1).
            int[][] firstEpoch = MiniBatches(trained.Length, iteration, epoch: 0);
            double actorSeconds = 0, referenceSeconds = 0, criticSeconds = 0;
            foreach (int[] indices in firstEpoch)
            {
                Response[] chunk = indices.Select(i => trained[i]).ToArray();
                using var scope = NewDisposeScope();
                TokenBatch batch = TokenBatch.Collate(chunk.Select(r => r.Sequence).ToArray(), padTokenId, Padding.Right, device);
                phase.Restart();
                using (actorModel.EvalMode())
                {
                    (Tensor old, Tensor entropy) = TokenLogprobs.ComputeWithEntropy(actorModel, batch);
                    SetRows(chunk, Rows(old, batch), (r, v) => r.OldLogprobs = v);
                    SetRows(chunk, Rows(entropy, batch), (r, v) => r.Entropy = v);
                }
                actorSeconds += phase.Elapsed.TotalSeconds;
                phase.Restart();
                using (no_grad())
                {
                    SetRows(chunk, Rows(TokenLogprobs.Compute(reference, batch), batch), (r, v) => r.RefLogprobs = v);
                }
                referenceSeconds += phase.Elapsed.TotalSeconds;
                if (criticModel is not null)
                {
                    phase.Restart();
                    using (criticModel.EvalMode())
                    using (no_grad())
                    {
                        SetRows(chunk, Rows(Values(criticModel, batch), batch), (r, v) => r.Values = v);
                    }
                    criticSeconds += phase.Elapsed.TotalSeconds;
                }
            }
            seconds["actor"] = actorSeconds;
            seconds["reference"] = referenceSeconds;
            seconds["critic"] = criticSeconds;

            // 5. Per-token rewards (KL penalty at every token, the sequence reward at the last), advantages and returns.
            double beta = kl.Coefficient;
            double[] sequenceKl = new double[trained.Length];
            for (int n = 0; n < trained.Length; n++)
            {
                Response r = trained[n];
                var tokenRewards = new float[r.Length];
                for (int t = 0; t < r.Length; t++)
                {
                    double d = r.OldLogprobs[t] - r.RefLogprobs[t];
                    sequenceKl[n] += d;
                    if (!options.KlIsLoss)
                    {
                        tokenRewards[t] = (float)(-beta * (options.KlEstimator == KlEstimator.K1 ? d : Math.Exp(-d) + d - 1));
                    }
                }
                double final = r.Reward + (r.Sample.FinishReason == FinishReason.Length ? options.TruncationPenalty : 0);
                tokenRewards[^1] += (float)final;
                if (options.Algorithm == PpoAlgorithm.Grpo)
                {
                    r.Values = new float[r.Length];
                    r.Returns = new float[r.Length];
                }
                else
                {
                    (r.Advantages, r.Returns) = Advantages.Gae(tokenRewards, r.Values, options.Gamma, options.Lambda);
                }
            }
            if (options.Algorithm == PpoAlgorithm.Grpo)
            {
                // Group-normalised over every usable response of the prompt (the group's baseline), whatever the filter kept.
                foreach (Response[] group in groups)
                {
                    double[] normalised = Advantages.GroupNormalised(group.Select(r => r.Reward).ToArray());
                    for (int i = 0; i < group.Length; i++)
                    {
                        group[i].Advantages = Enumerable.Repeat((float)normalised[i], group[i].Length).ToArray();
                    }
                }
            }
            else if (options.WhitenAdvantages)
            {
                Advantages.Whiten(trained.Select(r => r.Advantages).ToArray(), trained.Select(r => r.Weight).ToArray());
            }

            // 6. Update: K epochs over shuffled mini-batches (the actor only after the critic's warm-up iterations).
            phase.Restart();
            bool trainActor = iteration >= options.CriticWarmupIterations;
            var stats = new UpdateStats();
            for (int epoch = 0; epoch < options.Epochs && !stats.Stopped; epoch++)
            {
                int[][] miniBatches = epoch == 0 ? firstEpoch : MiniBatches(trained.Length, iteration, epoch);
                foreach (int[] indices in miniBatches)
                {
                    cancellation.ThrowIfCancellationRequested();
                    Update(indices.Select(i => trained[i]).ToArray(), iteration, trainActor, beta, stats);
                    if (trainActor && options.TargetKl is double target && stats.LastApproxKl > target)
                    {
                        stats.Stopped = true;
                        break;
                    }
                }
            }
            seconds["update"] = phase.Elapsed.TotalSeconds;
            kl.Update(sequenceKl.Length == 0 ? double.NaN : sequenceKl.Average(), trained.Length);
            SamplesTrained += trained.Length;

            // 7. Metrics of the iteration.
            RolloutSample[] all = rollout.Groups.SelectMany(g => g.Samples).ToArray();
            RolloutSample[] judged = all.Where(s => s.Score.Status != SampleStatus.Error).ToArray();
            double trainedWeight = trained.Sum(r => r.Weight);
            seconds["total"] = clock.Elapsed.TotalSeconds;
            var values = new Dictionary<string, double>
            {
                ["samples_trained"] = trained.Length,
                ["samples"] = all.Length,
                ["reward_mean"] = responses.Count == 0 ? double.NaN : responses.Average(r => r.Reward),
                ["reward_kept_mean"] = trainedWeight > 0 ? trained.Sum(r => r.Weight * r.Reward) / trainedWeight : double.NaN,
                ["rollout_pass_rate"] = judged.Length == 0 ? double.NaN : judged.Average(s => s.Score.Passed ? 1.0 : 0.0),
                ["rollout_score"] = judged.Length == 0 ? double.NaN : judged.Average(s => s.Score.TestsTotal > 0 ? (double)s.Score.TestsPassed / s.Score.TestsTotal : 0),
                ["sandbox_errors"] = all.Length - judged.Length,
                ["kl"] = sequenceKl.Length == 0 ? double.NaN : sequenceKl.Average(),
                ["kl_coefficient"] = beta,
                ["entropy"] = TokenMean(trained.Select(r => r.Entropy)),
                ["response_length"] = all.Length == 0 ? double.NaN : all.Average(s => s.TokenIds.Length),
                ["truncated"] = all.Length == 0 ? double.NaN : all.Average(s => s.FinishReason == FinishReason.Length ? 1.0 : 0.0),
                ["clip_fraction"] = stats.Mean(stats.ClipFraction),
                ["approx_kl"] = stats.Mean(stats.ApproxKl),
                ["first_ratio_deviation"] = stats.FirstRatioDeviation,
                ["sampler_logprob_gap"] = SamplerGap(trained),
                ["policy_loss"] = stats.Mean(stats.PolicyLoss),
                ["value_loss"] = stats.Mean(stats.ValueLoss),
                ["explained_variance"] = critic is null ? double.NaN : Advantages.ExplainedVariance(trained.Select(r => r.Values).ToArray(), trained.Select(r => r.Returns).ToArray()),
                ["epochs_run"] = stats.Epochs(options.Epochs, firstEpoch.Length),
                ["lr/actor"] = actor.LearningRateAt(iteration),
                ["grad_norm/actor"] = stats.Mean(stats.ActorGradNorm),
                ["update_tokens_per_s"] = stats.Tokens / Math.Max(1e-9, seconds["update"]),
                ["memory_mb"] = Environment.WorkingSet / (1024.0 * 1024.0),
                ["live_tensors"] = Tensor.TotalCount, // flat across iterations when nothing leaks
            };
            if (critic is not null)
            {
                values["lr/critic"] = critic.LearningRateAt(iteration);
                values["grad_norm/critic"] = stats.Mean(stats.CriticGradNorm);
            }
            foreach ((string name, double value) in seconds)
            {
                values["seconds/" + name] = value;
            }
            // What an iteration did not measure (no critic, the critic's warm-up, nothing trained) is left out, not NaN.
            foreach (string name in values.Where(kv => double.IsNaN(kv.Value)).Select(kv => kv.Key).ToArray())
            {
                values.Remove(name);
            }
            return values;
        }

        /// <summary>One mini-batch: the clipped surrogate (+ the KL loss) on the actor, the clipped value loss on the critic.</summary>
        private void Update(Response[] chunk, int iteration, bool trainActor, double beta, UpdateStats stats)
        {
            using var scope = NewDisposeScope();
            TokenBatch batch = TokenBatch.Collate(chunk.Select(r => r.Sequence).ToArray(), padTokenId, Padding.Right, device);
            Tensor weights = batch.CompletionMask * tensor(chunk.Select(r => (float)r.Weight).ToArray(), device: device).unsqueeze(1); // [B, T]
            stats.Tokens += batch.RealTokens;
            if (trainActor)
            {
                actorModel.train();
                Tensor logprobs = TokenLogprobs.Compute(actorModel, batch);                                   // [B, T]
                Tensor oldLogprobs = TokenTensor(chunk, r => r.OldLogprobs, batch);
                (Tensor policyLoss, Tensor clipFraction, Tensor approxKl) = PpoLoss.Policy(logprobs, oldLogprobs,
                    TokenTensor(chunk, r => r.Advantages, batch), weights, options.ClipRange);
                if (stats.MiniBatches == 0)
                {
                    // The first mini-batch recomputes exactly the old log-probs: its ratio must be 1 at every token.
                    using var noGrad = no_grad();
                    stats.FirstRatioDeviation = ((logprobs - oldLogprobs).exp() - 1).abs().mul(batch.CompletionMask).max().item<float>();
                }
                Tensor loss = policyLoss;
                if (options.KlIsLoss && beta > 0)
                {
                    loss = loss + beta * PpoLoss.WeightedMean(PpoLoss.Kl(logprobs, TokenTensor(chunk, r => r.RefLogprobs, batch), options.KlEstimator), weights);
                }
                actor.ZeroGrad();
                actor.ScaleLoss(loss).backward();
                StepStats step = actor.Step(iteration);
                stats.PolicyLoss.Add(policyLoss.item<float>());
                stats.ClipFraction.Add(clipFraction.item<float>());
                stats.LastApproxKl = approxKl.item<float>();
                stats.ApproxKl.Add(stats.LastApproxKl);
                stats.ActorGradNorm.Add(step.GradNorm);
            }
            if (critic is not null && criticModel is not null)
            {
                criticModel.train();
                Tensor valueLoss = PpoLoss.Value(Values(criticModel, batch), TokenTensor(chunk, r => r.Values, batch), TokenTensor(chunk, r => r.Returns, batch),
                    weights, options.ValueClip);
                critic.ZeroGrad();
                critic.ScaleLoss(valueLoss).backward();
                StepStats step = critic.Step(iteration);
                stats.ValueLoss.Add(valueLoss.item<float>());
                stats.CriticGradNorm.Add(step.GradNorm);
            }
            stats.MiniBatches++;
        }

        public async ValueTask<IReadOnlyDictionary<string, double>> EvaluateAsync(int iteration, CancellationToken cancellation)
        {
            if (held.Count == 0)
            {
                return new Dictionary<string, double>();
            }
            var clock = Stopwatch.StartNew();
            EvalReport report = await ModelEvaluator.RunAsync(actorModel, tokenizer, held,
                new EvalOptions { NumSamples = 1, Temperature = 0, MaxNewTokens = options.MaxNewTokens, Ks = [1], EosTokenIds = eos, MicroBatchSize = options.GenerationBatchSize },
                scorer, cancellation: cancellation);
            double passAt1 = report.PassAt(1);
            if (double.IsNaN(BestEvalPassAt1) || passAt1 > BestEvalPassAt1)
            {
                BestEvalPassAt1 = passAt1;
                BestIteration = iteration;
                actor.SaveModel(Path.Combine(outDir, BestFolder));
            }
            return new Dictionary<string, double> { ["eval_pass_at_1"] = passAt1, ["seconds/eval"] = clock.Elapsed.TotalSeconds };
        }

        public void Save(int iteration) => SaveTo(iteration);

        /// <summary>Mini-batches of one epoch: a seeded shuffle of the trained responses, cut into <see cref="PpoOptions.MiniBatchSize"/>.</summary>
        private int[][] MiniBatches(int count, int iteration, int epoch) =>
            PromptOrder(count, Seeds.Derive(Seeds.Derive(options.Seed, ShuffleStream, iteration), epoch)).Chunk(options.MiniBatchSize).ToArray();

        /// <summary>
        /// Mean |log-prob the sampler drew the token with - the recomputed old log-prob| over the trained tokens: near 0 at
        /// temperature 1 without top-p (a check that the experience describes what was sampled); larger when sampling
        /// reshapes the distribution.
        /// </summary>
        private static double SamplerGap(Response[] trained) =>
            TokenMean(trained.Select(r => r.OldLogprobs.Select((old, t) => Math.Abs(old - r.Sample.Logprobs[t])).ToArray()));

        private static double TokenMean(IEnumerable<float[]> rows)
        {
            double sum = 0;
            long count = 0;
            foreach (float[] row in rows)
            {
                foreach (float x in row)
                {
                    sum += x;
                    count++;
                }
            }
            return count == 0 ? double.NaN : sum / count;
        }
    }

    /// <summary>What an iteration's updates measured.</summary>
    private sealed class UpdateStats
    {
        public List<double> PolicyLoss { get; } = [];
        public List<double> ValueLoss { get; } = [];
        public List<double> ClipFraction { get; } = [];
        public List<double> ApproxKl { get; } = [];
        public List<double> ActorGradNorm { get; } = [];
        public List<double> CriticGradNorm { get; } = [];
        public double LastApproxKl { get; set; }
        /// <summary>max |ρ - 1| over the first mini-batch's tokens: 0 when the old log-probs are what the update recomputes.</summary>
        public double FirstRatioDeviation { get; set; } = double.NaN;
        public long Tokens { get; set; }
        public int MiniBatches { get; set; }
        public bool Stopped { get; set; }

        public double Mean(List<double> values) => values.Count == 0 ? double.NaN : values.Average();

        /// <summary>Epochs run, fractional when the KL target stopped one part-way.</summary>
        public double Epochs(int planned, int perEpoch) => perEpoch == 0 ? 0 : Math.Min(planned, (double)MiniBatches / perEpoch);
    }

    /// <summary>The value V_t of the state before each completion token t, aligned with the completion columns ([B, T]).</summary>
    private static Tensor Values(ScalarHeadModel critic, TokenBatch batch)
    {
        Tensor scores = critic.forward(batch.InputIds, batch.ModelMask).to(ScalarType.Float32);   // [B, T]: the head at each position
        // The state before the token at column c is the prefix ending at column c - 1.
        return cat([zeros(batch.BatchSize, 1, ScalarType.Float32, scores.device), scores[.., ..^1]], 1);
    }

    /// <summary>Per-response token values placed at their completion columns of a [B, T] fp32 tensor.</summary>
    private static Tensor TokenTensor(Response[] chunk, Func<Response, float[]> select, TokenBatch batch)
    {
        int columns = batch.Length;
        var data = new float[chunk.Length * columns];
        for (int row = 0; row < chunk.Length; row++)
        {
            float[] values = select(chunk[row]);
            Array.Copy(values, 0, data, row * columns + batch.PromptLengths[row], values.Length);
        }
        return tensor(data, [chunk.Length, columns], device: batch.InputIds.device);
    }

    /// <summary>The completion columns of each row of a [B, T] tensor.</summary>
    private static float[][] Rows(Tensor values, TokenBatch batch)
    {
        float[] data = values.to(ScalarType.Float32).cpu().data<float>().ToArray();
        int columns = batch.Length;
        return Enumerable.Range(0, batch.BatchSize).Select(row =>
            data.AsSpan(row * columns + batch.PromptLengths[row], batch.Lengths[row] - batch.PromptLengths[row]).ToArray()).ToArray();
    }

    private static void SetRows(Response[] chunk, float[][] rows, Action<Response, float[]> set)
    {
        for (int i = 0; i < chunk.Length; i++)
        {
            set(chunk[i], rows[i]);
        }
    }
}

/// <summary>The sequence rewards of a rollout, flat in group then sample order.</summary>
/// <param name="Reward">What trains: the normalised, clipped RM score, and/or the execution score in [-1, 1].</param>
/// <param name="Raw">The raw RM score (null when no RM scores).</param>
/// <param name="Usable">False for a response that cannot be rewarded (an execution reward without a sandbox verdict).</param>
internal sealed record SequenceRewards(double[] Reward, double[]? Raw, bool[] Usable);

/// <summary>Turns a scored rollout into sequence rewards (<see cref="RewardSource"/>).</summary>
internal sealed class RewardFunction
{
    private readonly PpoOptions options;
    private readonly ScalarHeadModel? model;
    private readonly HfTokenizer? tokenizer;
    private readonly (double Mean, double Std) statistics;
    private readonly Device device;
    private readonly int padTokenId;

    private RewardFunction(PpoOptions options, ScalarHeadModel? model, HfTokenizer? tokenizer, (double, double) statistics, Device device, int padTokenId)
    {
        this.options = options;
        this.model = model;
        this.tokenizer = tokenizer;
        this.statistics = statistics;
        this.device = device;
        this.padTokenId = padTokenId;
    }

    public static RewardFunction Execution(PpoOptions options) => new(options, null, null, (0, 1), CPU, 0);

    public static RewardFunction ForRewardModel(ScalarHeadModel model, string dir, PpoOptions options, Device device)
    {
        (double Mean, double Std) stats = RewardModel.ReadStatistics(model.Config)
            ?? throw new InvalidDataException($"{Path.Combine(dir, HfCheckpoint.ConfigFile)}: no {RewardModel.MeanField} / {RewardModel.StdField}; " +
                "train the reward model with pfppo rm-train, which saves them for PPO's normalisation.");
        if (!(stats.Std > 0) || !double.IsFinite(stats.Mean))
        {
            throw new InvalidDataException($"{Path.Combine(dir, HfCheckpoint.ConfigFile)}: {RewardModel.StdField} is {stats.Std}; it must be positive.");
        }
        model.eval();
        return new RewardFunction(options, model, HfTokenizer.Load(Path.Combine(dir, HfCheckpoint.TokenizerFile)), stats, device,
            model.Config.PadTokenId ?? model.Config.EosTokenIds.FirstOrDefault(0));
    }

    /// <param name="prompts">The prompts of the batch's groups, in order (the RM reads their text with its own tokenizer).</param>
    public SequenceRewards Compute(RolloutBatch batch, IReadOnlyList<RolloutPrompt> prompts)
    {
        var samples = batch.Groups.SelectMany(g => g.Samples.Select(s => (Group: g, Sample: s))).ToArray();
        var reward = new double[samples.Length];
        var usable = new bool[samples.Length];
        double[]? raw = null;
        if (model is not null)
        {
            int[][] promptTokens = prompts.Select(p => (int[])[.. tokenizer!.Encode(p.Prompt.Text)]).ToArray();
            TokenSequence[] sequences = samples.Select(x => RewardModel.Sequence(tokenizer!, promptTokens[x.Group.PromptIndex], x.Sample.Completion)).ToArray();
            float[] scores = RewardModel.Score(model, sequences, padTokenId, batchSize: 32, device);
            raw = scores.Select(s => (double)s).ToArray();
        }
        for (int i = 0; i < samples.Length; i++)
        {
            SampleResult score = samples[i].Sample.Score;
            bool hasVerdict = score.Status != SampleStatus.Error;
            double execution = 2 * (score.TestsTotal > 0 ? (double)score.TestsPassed / score.TestsTotal : 0) - 1;
            double rm = raw is null ? 0 : Math.Clamp((raw[i] - statistics.Mean) / statistics.Std, -options.RewardClip, options.RewardClip);
            (reward[i], usable[i]) = options.Reward switch
            {
                RewardSource.Rm => (rm, true),
                RewardSource.Execution => (execution, hasVerdict),
                _ => (rm + execution, hasVerdict),
            };
        }
        return new SequenceRewards(reward, raw, usable);
    }
}
