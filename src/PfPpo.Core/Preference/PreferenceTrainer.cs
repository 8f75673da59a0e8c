using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using PfPpo.Checkpoints;
using PfPpo.Evaluation;
using PfPpo.IO;
using PfPpo.Model;
using PfPpo.Rewards;
using PfPpo.Runtime;
using PfPpo.Sft;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Preference;

/// <summary>Settings of one DPO / IPO / KTO run.</summary>
public sealed record PreferenceOptions
{
    [JsonConverter(typeof(JsonStringEnumConverter))]
    public PreferenceLossKind Loss { get; init; } = PreferenceLossKind.Dpo;
    /// <summary>β of the loss (DPO's common default 0.1).</summary>
    public double Beta { get; init; } = 0.1;
    /// <summary>KTO's λ_D and λ_U.</summary>
    public double LambdaDesirable { get; init; } = 1.0;
    public double LambdaUndesirable { get; init; } = 1.0;
    public int Epochs { get; init; } = 1;
    public int? MaxSteps { get; init; }
    /// <summary>Pairs per step (each step runs 2 x this many sequences through the policy; KTO 3 x).</summary>
    public int BatchSize { get; init; } = 8;
    public double LearningRate { get; init; } = 1e-5;
    public double WarmupFraction { get; init; } = 0.1;
    public double MinLearningRateRatio { get; init; } = 0.1;
    public double WeightDecay { get; init; }
    public double GradClip { get; init; } = 1.0;
    /// <summary>Longest prompt + response (EOS included) in tokens; longer pairs are dropped and counted.</summary>
    public int MaxLength { get; init; } = 512;
    public long Seed { get; init; }
    /// <summary>Share of the prompts whose pairs are held out for the implicit-reward accuracy.</summary>
    public double HeldOutFraction { get; init; } = 0.1;
    public int EvalEvery { get; init; } = 50;
    public int SaveEvery { get; init; }
    public int KeepCheckpoints { get; init; } = 2;
    public int LogEvery { get; init; } = 10;
    public int? StopAfterSteps { get; init; }
    /// <summary>Problems of the final greedy pass@1 (first <see cref="EvalLimit"/>); none: no pass@1.</summary>
    public int? EvalLimit { get; init; }
    public int MaxNewTokens { get; init; } = 256;
    public int Workers { get; init; }

    [JsonIgnore]
    public OptimizerSettings Optimizer => new() { LearningRate = LearningRate, WeightDecay = WeightDecay, GradClip = GradClip };

    /// <summary>The options that decide the trained weights, for the run's fingerprint.</summary>
    [JsonIgnore]
    public PreferenceOptions ResultDefining => this with
    {
        EvalEvery = 0, SaveEvery = 0, KeepCheckpoints = 0, LogEvery = 0, StopAfterSteps = null, EvalLimit = null, MaxNewTokens = 0, Workers = 0,
    };
}

/// <summary>The outcome of <see cref="PreferenceTrainer.RunAsync"/>.</summary>
/// <param name="HeldOutAccuracy">Share of held-out pairs with ρ_w &gt; ρ_l after training (NaN without held-out pairs).</param>
/// <param name="ReferenceComputed">True when this invocation ran the reference model; false when it read the cache.</param>
/// <param name="EvalPassAt1">Greedy pass@1 of the final model on the eval problems (NaN without them).</param>
public sealed record PreferenceResult(int Steps, int TotalSteps, bool Completed, double FinalTrainLoss, double HeldOutAccuracy,
    double HeldOutMargin, int TrainPairs, int HeldOutPairs, int DroppedPairs, bool ReferenceComputed, double EvalPassAt1, double Seconds,
    string OutputDirectory);

/// <summary>What a preference checkpoint records besides the weights and the optimizer.</summary>
public sealed record PreferenceState(int TotalSteps, int TrainPairs);

/// <summary>
/// DPO, IPO and KTO on preference pairs (PF-PPO.md section 7): the policy starts from, and is regularised towards, the
/// reference model (the starting checkpoint), whose summed response log-probs are computed once and cached
/// (<see cref="ReferenceLogprobs"/>). A composition of the shared training pieces (<see cref="TrainableModel"/>,
/// <see cref="CheckpointStore"/>, <see cref="TrainingLoop"/>, <see cref="EpochBatches"/>, <see cref="TokenLogprobs"/>);
/// (prompt, response) sequences are tokenised as SFT trains them (<see cref="SftDataset.Tokenize"/>: EOS appended).
/// </summary>
public static class PreferenceTrainer
{
    public const string FinalFolder = "final";
    public const string SummaryFile = "summary.json";
    private const long HeldOutStream = -3;

    /// <param name="evalProblemsPath">Problems of the final greedy pass@1 in the sandbox (null: none).</param>
    public static async Task<PreferenceResult> RunAsync(string policyDir, string pairsPath, string outDir, PreferenceOptions options, Device device,
        ScalarType dtype, string? evalProblemsPath = null, ResumeMode resume = ResumeMode.Fresh, bool force = false,
        IProgress<TrainingProgress>? progress = null, Action<string>? warn = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.Beta, 0, nameof(options.Beta));
        var clock = Stopwatch.StartNew();
        string tokenizerPath = Path.Combine(policyDir, HfCheckpoint.TokenizerFile);
        HfTokenizer tokenizer = HfTokenizer.Load(tokenizerPath);
        IReadOnlyList<PreferencePair> pairs = PreferencePairs.Load(pairsPath);
        (IReadOnlyList<PreferencePair> trainPairs, IReadOnlyList<PreferencePair> heldPairs) = PreferencePairs.SplitByPrompt(pairs, options.HeldOutFraction, Seeds.Derive(options.Seed, HeldOutStream));

        using CausalLM model = HfCheckpoint.LoadCausalLM(policyDir, device, dtype);
        int eosTokenId = model.Config.EosTokenIds.FirstOrDefault(-1);
        if (eosTokenId < 0)
        {
            throw new InvalidDataException($"{policyDir}: the model config names no eos_token_id; responses are trained ending in EOS.");
        }
        int padTokenId = model.Config.PadTokenId ?? eosTokenId;
        bool kto = options.Loss == PreferenceLossKind.Kto;
        (Encoded[] train, int dropped) = Encode(trainPairs, tokenizer, eosTokenId, options.MaxLength, kto);
        (Encoded[] held, int droppedHeld) = Encode(heldPairs, tokenizer, eosTokenId, options.MaxLength, kto);
        if (train.Length == 0)
        {
            throw new InvalidDataException($"{pairsPath}: no training pair fits in --max-length {options.MaxLength} tokens.");
        }

        var batches = new EpochBatches(train.Select(p => Math.Max(p.Chosen.Length, p.Rejected.Length)).ToArray(), options.BatchSize, options.Seed);
        int totalSteps = options.MaxSteps ?? options.Epochs * batches.PerEpoch;
        var schedule = WarmupCosineSchedule.ForRun(options.LearningRate, options.WarmupFraction, totalSteps, options.MinLearningRateRatio);
        using var trainable = new TrainableModel("model", model, options.Optimizer, schedule, tokenizerPath, initialWeights: policyDir);
        RunFingerprint fingerprint = RunFingerprint.Of(new { Options = options.ResultDefining, DType = dtype.ToString() },
            new Dictionary<string, string> { ["pairs"] = pairsPath, ["policy"] = policyDir });
        var store = new CheckpointStore(outDir, options.KeepCheckpoints, resume, force);
        ResumedCheckpoint<PreferenceState>? resumed = store.Open<PreferenceState>(fingerprint, [trainable], warn);

        // --- the reference model's log-probs: once, cached in the run folder ---
        TokenSequence[] all = [.. train.Concat(held).SelectMany(Sequences)];
        string key = ReferenceLogprobs.Key(policyDir, dtype, all);
        string cachePath = Path.Combine(outDir, ReferenceLogprobs.CacheFile);
        ReferenceValues? cached = ReferenceLogprobs.TryLoad(cachePath, key, all.Length);
        bool computed = cached is null;
        if (cached is null)
        {
            using CausalLM reference = HfCheckpoint.LoadCausalLM(policyDir, device, dtype);
            cached = new ReferenceValues(key, ReferenceLogprobs.Sums(reference, all, padTokenId, options.BatchSize, device));
            Directory.CreateDirectory(outDir);
            ReferenceLogprobs.Write(cachePath, cached);
        }
        int heldStart = train.Sum(p => Sequences(p).Count());
        train = WithReference(train, cached.Sums, 0);
        held = WithReference(held, cached.Sums, heldStart);
        using var metrics = new MetricsLogger(outDir, resumed?.Step);

        var steps = new PreferenceSteps(trainable, model, train, held, options, padTokenId, batches, device,
            step => store.Save(step, new PreferenceState(totalSteps, train.Length), fingerprint, [trainable]));
        LoopOutcome outcome = await TrainingLoop.RunAsync(steps, resumed?.Step ?? 0, totalSteps,
            new LoopCadence(Math.Max(1, options.LogEvery), options.EvalEvery, options.SaveEvery, options.StopAfterSteps),
            metrics, progress, cancellation);

        PairEvaluation final = held.Length > 0
            ? Evaluate(model, held, options, padTokenId, device)
            : new PairEvaluation(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        double passAt1 = double.NaN;
        if (outcome.Completed)
        {
            trainable.SaveModel(Path.Combine(outDir, FinalFolder));
            if (evalProblemsPath is not null)
            {
                passAt1 = await GreedyPassAt1.EvaluateAsync(model, tokenizer, policyDir, evalProblemsPath, options.EvalLimit, options.MaxNewTokens,
                    options.Workers, cancellation);
            }
            WriteSummary(Path.Combine(outDir, SummaryFile), options, outcome, final, train.Length, held.Length, dropped + droppedHeld, computed, passAt1,
                clock.Elapsed.TotalSeconds, Enumerable.Range(0, outcome.Step).Sum(step => (long)batches.ForStep(step).Length));
        }
        return new PreferenceResult(outcome.Step, totalSteps, outcome.Completed, outcome.Metrics.GetValueOrDefault("train/loss", double.NaN),
            final.Accuracy, final.Margin, train.Length, held.Length, dropped + droppedHeld, computed, passAt1, clock.Elapsed.TotalSeconds, outDir);
    }

    /// <summary>A pair as token sequences (EOS-terminated responses) with the reference sums filled in after the cache is read.</summary>
    /// <param name="Mismatched">KTO only: this pair's prompt with another pair's chosen response (for the KL estimate z).</param>
    private sealed record Encoded(TokenSequence Chosen, TokenSequence Rejected, TokenSequence? Mismatched)
    {
        public float RefChosen { get; init; }
        public float RefRejected { get; init; }
        public float RefMismatched { get; init; }
    }

    private static IEnumerable<TokenSequence> Sequences(Encoded pair) =>
        pair.Mismatched is null ? [pair.Chosen, pair.Rejected] : [pair.Chosen, pair.Rejected, pair.Mismatched];

    /// <summary>The pairs with their reference sums, read from <paramref name="sums"/> in <see cref="Sequences"/> order starting at <paramref name="at"/>.</summary>
    private static Encoded[] WithReference(Encoded[] pairs, float[] sums, int at)
    {
        var result = new Encoded[pairs.Length];
        for (int i = 0; i < pairs.Length; i++)
        {
            Encoded pair = pairs[i];
            result[i] = pair with { RefChosen = sums[at], RefRejected = sums[at + 1], RefMismatched = pair.Mismatched is null ? 0 : sums[at + 2] };
            at += pair.Mismatched is null ? 2 : 3;
        }
        return result;
    }

    /// <summary>
    /// Tokenises each pair as SFT does (prompt and response encoded apart, EOS appended); a pair with a response over
    /// <paramref name="maxLength"/> is dropped and counted. KTO's mismatched sequence of pair i is its prompt with the
    /// chosen response of pair i + 1 (cyclically): a fixed pairing, so its reference value is cached with the others.
    /// </summary>
    private static (Encoded[] Pairs, int Dropped) Encode(IReadOnlyList<PreferencePair> pairs, HfTokenizer tokenizer, int eosTokenId, int maxLength,
        bool mismatched)
    {
        var kept = new List<(TokenSequence Chosen, TokenSequence Rejected)>();
        int dropped = 0;
        foreach (PreferencePair pair in pairs)
        {
            (IReadOnlyList<TokenSequence> sequences, int _) = SftDataset.Tokenize(
                [new SftExample(pair.Prompt, pair.Chosen), new SftExample(pair.Prompt, pair.Rejected)], tokenizer, eosTokenId, maxLength);
            if (sequences.Count < 2)
            {
                dropped++;
                continue;
            }
            kept.Add((sequences[0], sequences[1]));
        }
        return (kept.Select((p, i) => new Encoded(p.Chosen, p.Rejected,
            mismatched ? new TokenSequence(p.Chosen.Prompt, kept[(i + 1) % kept.Count].Chosen.Completion) : null)).ToArray(), dropped);
    }


    /// <summary>ρ of chosen and rejected ([P] each), the KTO reference point z (null for DPO / IPO) and the loss of a batch.</summary>
    private sealed record BatchLoss(Tensor RhoChosen, Tensor RhoRejected, Tensor? Z, Tensor Loss);

    /// <summary>The loss of a batch: one forward pass over chosen then rejected, ρ against the cached reference sums.</summary>
    private static BatchLoss Forward(CausalLM model, IReadOnlyList<Encoded> chunk, PreferenceOptions options, int padTokenId, Device device)
    {
        int p = chunk.Count;
        TokenBatch batch = TokenBatch.Collate([.. chunk.Select(e => e.Chosen), .. chunk.Select(e => e.Rejected)], padTokenId, Padding.Right, device);
        Tensor logp = TokenLogprobs.Compute(model, batch).sum(1);                                              // [2P]
        float[] referenceSums = [.. chunk.Select(e => e.RefChosen), .. chunk.Select(e => e.RefRejected)];
        Tensor reference = tensor(referenceSums, device: device);
        Tensor rho = logp - reference;
        Tensor chosen = rho.narrow(0, 0, p), rejected = rho.narrow(0, p, p);
        Tensor? z = null;
        if (options.Loss == PreferenceLossKind.Kto)
        {
            using (no_grad())
            {
                TokenBatch mismatched = TokenBatch.Collate([.. chunk.Select(e => e.Mismatched!)], padTokenId, Padding.Right, device);
                Tensor rhoMismatched = TokenLogprobs.Compute(model, mismatched).sum(1) - tensor(chunk.Select(e => e.RefMismatched).ToArray(), device: device);
                z = PreferenceLoss.KtoReferencePoint(rhoMismatched);
            }
        }
        Tensor loss = PreferenceLoss.Of(options.Loss, chosen, rejected, options.Beta, z, options.LambdaDesirable, options.LambdaUndesirable);
        return new BatchLoss(chosen, rejected, z, loss);
    }

    private sealed record PairEvaluation(double Accuracy, double Loss, double Margin, double ChosenReward, double RejectedReward);

    /// <summary>Implicit-reward accuracy (ρ_w &gt; ρ_l), mean loss and mean margin β (ρ_w - ρ_l) of pairs, without gradients, in eval mode.</summary>
    private static PairEvaluation Evaluate(CausalLM model, IReadOnlyList<Encoded> pairs, PreferenceOptions options, int padTokenId, Device device)
    {
        double loss = 0, margin = 0, chosenReward = 0, rejectedReward = 0;
        int correct = 0;
        using (model.EvalMode())
        using (no_grad())
        {
            foreach (Encoded[] chunk in pairs.Chunk(options.BatchSize))
            {
                using var scope = NewDisposeScope();
                BatchLoss b = Forward(model, chunk, options, padTokenId, device);
                float[] w = b.RhoChosen.cpu().data<float>().ToArray(), l = b.RhoRejected.cpu().data<float>().ToArray();
                loss += b.Loss.item<float>() * chunk.Length;
                for (int i = 0; i < chunk.Length; i++)
                {
                    correct += w[i] > l[i] ? 1 : 0;
                    margin += options.Beta * (w[i] - l[i]);
                    chosenReward += options.Beta * w[i];
                    rejectedReward += options.Beta * l[i];
                }
            }
        }
        int n = pairs.Count;
        return new PairEvaluation((double)correct / n, loss / n, margin / n, chosenReward / n, rejectedReward / n);
    }

    private static void WriteSummary(string path, PreferenceOptions options, LoopOutcome outcome, PairEvaluation held, int trainPairs, int heldPairs,
        int dropped, bool computed, double passAt1, double seconds, long pairsTrained)
    {
        var summary = new SortedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["method"] = options.Loss.ToString().ToLowerInvariant(),
            ["beta"] = options.Beta,
            ["steps"] = outcome.Step,
            ["train_loss"] = Finite(outcome.Metrics.GetValueOrDefault("train/loss", double.NaN)),
            ["held_out_accuracy"] = Finite(held.Accuracy),
            ["held_out_loss"] = Finite(held.Loss),
            ["held_out_margin"] = Finite(held.Margin),
            ["train_pairs"] = trainPairs,
            ["held_out_pairs"] = heldPairs,
            ["dropped_pairs"] = dropped,
            ["pairs_trained"] = pairsTrained,
            ["reference_logprobs"] = computed ? "computed" : "cached",
            ["seconds"] = seconds,
            ["final"] = FinalFolder,
        };
        if (!double.IsNaN(passAt1))
        {
            summary["eval_pass_at_1"] = passAt1;
        }
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    /// <summary>One step: a batch of pairs through the policy, the loss against the cached reference, an optimizer step.</summary>
    private sealed class PreferenceSteps(TrainableModel trainable, CausalLM model, Encoded[] train, Encoded[] held, PreferenceOptions options,
        int padTokenId, EpochBatches batches, Device device, Action<int> save) : ITrainingSteps
    {
        public ValueTask<IReadOnlyDictionary<string, double>> StepAsync(int step, CancellationToken cancellation) =>
            ValueTask.FromResult(Step(step));

        public ValueTask<IReadOnlyDictionary<string, double>> EvaluateAsync(int step, CancellationToken cancellation) =>
            ValueTask.FromResult(Evaluate());

        private IReadOnlyDictionary<string, double> Step(int step)
        {
            model.train();
            using var scope = NewDisposeScope();
            Encoded[] chunk = batches.ForStep(step).Select(i => train[i]).ToArray();
            trainable.ZeroGrad();
            BatchLoss b = Forward(model, chunk, options, padTokenId, device);
            trainable.ScaleLoss(b.Loss).backward();
            StepStats stats = trainable.Step(step);
            Tensor w = b.RhoChosen.detach(), l = b.RhoRejected.detach();
            var metrics = new Dictionary<string, double>
            {
                ["train/loss"] = b.Loss.item<float>(),
                ["train/accuracy"] = w.gt(l).to(ScalarType.Float32).mean().item<float>(),
                ["train/margin"] = ((w - l) * options.Beta).mean().item<float>(),
                ["train/chosen_reward"] = (w * options.Beta).mean().item<float>(),
                ["train/rejected_reward"] = (l * options.Beta).mean().item<float>(),
                ["train/lr"] = stats.LearningRate,
                ["train/grad_norm"] = stats.GradNorm,
                ["train/epoch"] = (double)(step + 1) / batches.PerEpoch,
            };
            if (b.Z is not null)
            {
                metrics["train/kl"] = b.Z.item<float>();
            }
            return metrics;
        }

        private IReadOnlyDictionary<string, double> Evaluate()
        {
            if (held.Length == 0)
            {
                return new Dictionary<string, double>();
            }
            PairEvaluation e = PreferenceTrainer.Evaluate(model, held, options, padTokenId, device);
            return new Dictionary<string, double>
            {
                ["eval/accuracy"] = e.Accuracy, ["eval/loss"] = e.Loss, ["eval/margin"] = e.Margin,
                ["eval/chosen_reward"] = e.ChosenReward, ["eval/rejected_reward"] = e.RejectedReward,
            };
        }

        public void Save(int step) => save(step);
    }
}
