using System.Diagnostics;
using System.Text.Json.Serialization;
using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Runtime;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Rewards;

/// <summary>Settings of one reward-model run (the paper trains 1 epoch).</summary>
public sealed record RewardTrainerOptions
{
    public int Epochs { get; init; } = 1;
    public int? MaxSteps { get; init; }
    /// <summary>Pairs per step (each step scores 2 x this many sequences).</summary>
    public int BatchSize { get; init; } = 16;
    public double LearningRate { get; init; } = 1e-4;
    public double WarmupFraction { get; init; } = 0.05;
    public double MinLearningRateRatio { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.0;
    public double GradClip { get; init; } = 1.0;
    /// <summary>Longest prompt + response in tokens; longer pairs are dropped and counted.</summary>
    public int MaxLength { get; init; } = 512;
    public long Seed { get; init; }
    /// <summary>Share of the pairs held out for accuracy (split by prompt, so no prompt is in both).</summary>
    public double HeldOutFraction { get; init; } = 0.1;
    public int EvalEvery { get; init; } = 50;
    public int SaveEvery { get; init; }
    public int KeepCheckpoints { get; init; } = 2;
    public int LogEvery { get; init; } = 10;
    public int? StopAfterSteps { get; init; }

    [JsonIgnore]
    public OptimizerSettings Optimizer => new() { LearningRate = LearningRate, WeightDecay = WeightDecay, GradClip = GradClip };

    /// <summary>The options that decide the result, for the run's fingerprint.</summary>
    [JsonIgnore]
    public RewardTrainerOptions ResultDefining => this with { EvalEvery = 0, SaveEvery = 0, KeepCheckpoints = 0, LogEvery = 0, StopAfterSteps = null };
}

/// <summary>The outcome of <see cref="RewardTrainer.RunAsync"/>.</summary>
/// <param name="HeldOutAccuracy">Share of held-out pairs whose chosen response gets the higher reward (NaN without held-out pairs).</param>
/// <param name="RewardMean">Mean reward over the held-out responses (the training ones without held-out pairs); saved in config.json.</param>
public sealed record RewardTrainerResult(int Steps, int TotalSteps, bool Completed, double FinalTrainLoss, double HeldOutAccuracy,
    double RewardMean, double RewardStd, int TrainPairs, int HeldOutPairs, int DroppedPairs, double Seconds, string OutputDirectory);

/// <summary>What a reward-model checkpoint records besides the weights and the optimizer.</summary>
public sealed record RewardTrainerState(int TotalSteps, int TrainPairs);

/// <summary>
/// Reward-model training with the Bradley-Terry loss -log σ(r_chosen - r_rejected - margin), the reward read at each
/// response's last token (<see cref="RewardModel.Rewards"/>). A composition of the shared training pieces; the result
/// is a Hugging Face *ForSequenceClassification checkpoint (num_labels 1, <c>score.weight</c>) whose config.json holds the
/// reward's held-out mean and std.
/// </summary>
public static class RewardTrainer
{
    private const long HeldOutStream = -2;

    /// <param name="initDir">The starting model: a causal LM (its backbone; the score head starts fresh from the seed) or a reward model.</param>
    public static async Task<RewardTrainerResult> RunAsync(string initDir, string pairsPath, string outDir, RewardTrainerOptions options, Device device,
        ScalarType dtype, ResumeMode resume = ResumeMode.Fresh, bool force = false, IProgress<TrainingProgress>? progress = null,
        Action<string>? warn = null, CancellationToken cancellation = default)
    {
        var clock = Stopwatch.StartNew();
        string tokenizerPath = Path.Combine(initDir, HfCheckpoint.TokenizerFile);
        HfTokenizer tokenizer = HfTokenizer.Load(tokenizerPath);
        IReadOnlyList<PreferencePair> pairs = PreferencePairs.Load(pairsPath);
        (IReadOnlyList<PreferencePair> trainPairs, IReadOnlyList<PreferencePair> heldPairs) = PreferencePairs.SplitByPrompt(pairs, options.HeldOutFraction, Seeds.Derive(options.Seed, HeldOutStream));

        using ScalarHeadModel model = HfCheckpoint.LoadScalarHead(initDir, device, dtype, options.Seed);
        int padTokenId = model.Config.PadTokenId ?? model.Config.EosTokenIds.FirstOrDefault(0);
        (Tokenized[] train, int dropped) = Tokenize(trainPairs, tokenizer, options.MaxLength);
        (Tokenized[] held, int droppedHeld) = Tokenize(heldPairs, tokenizer, options.MaxLength);
        if (train.Length == 0)
        {
            throw new InvalidDataException($"{pairsPath}: no training pair fits in --max-length {options.MaxLength} tokens.");
        }
        var batches = new EpochBatches(train.Select(p => Math.Max(p.Chosen.Length, p.Rejected.Length)).ToArray(), options.BatchSize, options.Seed);
        int totalSteps = options.MaxSteps ?? options.Epochs * batches.PerEpoch;
        var schedule = WarmupCosineSchedule.ForRun(options.LearningRate, options.WarmupFraction, totalSteps, options.MinLearningRateRatio);

        // A reward model checkpoint has every tensor, so its fp32 masters can be read at full precision; a causal LM has
        // no score head, so the masters start from the (freshly initialised) module.
        bool fromRewardModel = HfCheckpoint.LoadConfig(initDir).Architectures.Any(a => a.EndsWith("ForSequenceClassification", StringComparison.Ordinal));
        using var trainable = new TrainableModel("reward_model", model, options.Optimizer, schedule, tokenizerPath,
            initialWeights: fromRewardModel ? initDir : null);
        RunFingerprint fingerprint = RunFingerprint.Of(new { Options = options.ResultDefining, DType = dtype.ToString() },
            new Dictionary<string, string> { ["pairs"] = pairsPath, ["init"] = initDir });
        var store = new CheckpointStore(outDir, options.KeepCheckpoints, resume, force);
        ResumedCheckpoint<RewardTrainerState>? resumed = store.Open<RewardTrainerState>(fingerprint, [trainable], warn);
        using var metrics = new MetricsLogger(outDir, resumed?.Step);

        var steps = new RewardSteps(trainable, model, train, held, padTokenId, batches, options.BatchSize, device,
            step => store.Save(step, new RewardTrainerState(totalSteps, train.Length), fingerprint, [trainable]));
        LoopOutcome outcome = await TrainingLoop.RunAsync(steps, resumed?.Step ?? 0, totalSteps,
            new LoopCadence(Math.Max(1, options.LogEvery), options.EvalEvery, options.SaveEvery, options.StopAfterSteps),
            metrics, progress, cancellation);

        Evaluation final = Evaluate(model, held.Length > 0 ? held : train, padTokenId, options.BatchSize, device);
        if (outcome.Completed)
        {
            trainable.SaveModel(outDir);
            RewardModel.WriteStatistics(outDir, final.Mean, final.Std);
        }
        return new RewardTrainerResult(outcome.Step, totalSteps, outcome.Completed, outcome.Metrics.GetValueOrDefault("train/loss", double.NaN),
            held.Length > 0 ? final.Accuracy : double.NaN, final.Mean, final.Std, train.Length, held.Length, dropped + droppedHeld,
            clock.Elapsed.TotalSeconds, outDir);
    }

    /// <summary>Mean Bradley-Terry loss of a batch whose first half are the chosen responses and second half the rejected ones.</summary>
    public static Tensor Loss(Tensor rewards, Tensor margins)
    {
        using var scope = NewDisposeScope();
        long pairs = rewards.shape[0] / 2;
        Tensor chosen = rewards.narrow(0, 0, pairs), rejected = rewards.narrow(0, pairs, pairs);
        return (-nn.functional.logsigmoid(chosen - rejected - margins)).mean().MoveToOuterDisposeScope();
    }

    private sealed record Tokenized(TokenSequence Chosen, TokenSequence Rejected, double Margin);

    private sealed record Evaluation(double Accuracy, double Loss, double Mean, double Std);

    private static (Tokenized[] Pairs, int Dropped) Tokenize(IReadOnlyList<PreferencePair> pairs, HfTokenizer tokenizer, int maxLength)
    {
        var result = new List<Tokenized>();
        int dropped = 0;
        foreach (PreferencePair pair in pairs)
        {
            int[] prompt = [.. tokenizer.Encode(pair.Prompt)];
            TokenSequence chosen = RewardModel.Sequence(tokenizer, prompt, pair.Chosen);
            TokenSequence rejected = RewardModel.Sequence(tokenizer, prompt, pair.Rejected);
            if (prompt.Length == 0 || chosen.Length > maxLength || rejected.Length > maxLength || chosen.Completion.Count == 0 || rejected.Completion.Count == 0)
            {
                dropped++;
                continue;
            }
            result.Add(new Tokenized(chosen, rejected, pair.Margin));
        }
        return (result.ToArray(), dropped);
    }


    private static (TokenBatch Batch, Tensor Margins) Collate(IReadOnlyList<Tokenized> pairs, int padTokenId, Device device) =>
        (TokenBatch.Collate([.. pairs.Select(p => p.Chosen), .. pairs.Select(p => p.Rejected)], padTokenId, Padding.Right, device),
         tensor(pairs.Select(p => (float)p.Margin).ToArray(), device: device));

    private static Evaluation Evaluate(ScalarHeadModel model, IReadOnlyList<Tokenized> pairs, int padTokenId, int batchSize, Device device)
    {
        var rewards = new List<float>();
        double loss = 0;
        int correct = 0;
        using (model.EvalMode())
        using (no_grad())
        {
            foreach (Tokenized[] chunk in pairs.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                (TokenBatch batch, Tensor margins) = Collate(chunk, padTokenId, device);
                Tensor r = RewardModel.Rewards(model, batch);
                loss += Loss(r, margins).item<float>() * chunk.Length;
                float[] values = r.cpu().data<float>().ToArray();
                for (int i = 0; i < chunk.Length; i++)
                {
                    correct += values[i] > values[chunk.Length + i] ? 1 : 0;
                }
                rewards.AddRange(values);
            }
        }
        double mean = rewards.Average(r => (double)r);
        double std = Math.Sqrt(rewards.Average(r => (r - mean) * (r - mean)));
        return new Evaluation((double)correct / pairs.Count, loss / pairs.Count, mean, std);
    }

    /// <summary>One step: a batch of pairs, both responses scored in one forward pass, Bradley-Terry loss, optimizer step.</summary>
    private sealed class RewardSteps(TrainableModel trainable, ScalarHeadModel model, Tokenized[] train, Tokenized[] held, int padTokenId,
        EpochBatches batches, int batchSize, Device device, Action<int> save) : ITrainingSteps
    {
        private long tokens;
        private readonly Stopwatch clock = new();

        public ValueTask<IReadOnlyDictionary<string, double>> StepAsync(int step, CancellationToken cancellation) =>
            ValueTask.FromResult(Step(step));

        public ValueTask<IReadOnlyDictionary<string, double>> EvaluateAsync(int step, CancellationToken cancellation) =>
            ValueTask.FromResult(Evaluate());

        private IReadOnlyDictionary<string, double> Step(int step)
        {
            clock.Start();
            model.train();
            using var scope = NewDisposeScope();
            Tokenized[] chunk = batches.ForStep(step).Select(i => train[i]).ToArray();
            (TokenBatch batch, Tensor margins) = Collate(chunk, padTokenId, device);
            tokens += batch.RealTokens;
            trainable.ZeroGrad();
            Tensor rewards = RewardModel.Rewards(model, batch);                                   // [2P]: chosen, then rejected
            Tensor loss = Loss(rewards, margins);
            trainable.ScaleLoss(loss).backward();
            StepStats stats = trainable.Step(step);
            using Tensor detached = rewards.detach();
            double accuracy = detached.narrow(0, 0, chunk.Length).gt(detached.narrow(0, chunk.Length, chunk.Length)).to(ScalarType.Float32).mean().item<float>();
            double lossValue = loss.item<float>();
            clock.Stop();
            return new Dictionary<string, double>
            {
                ["train/loss"] = lossValue, ["train/accuracy"] = accuracy, ["train/lr"] = stats.LearningRate,
                ["train/grad_norm"] = stats.GradNorm, ["train/epoch"] = (double)(step + 1) / batches.PerEpoch,
                // real (unpadded) tokens of both responses of every pair, per second of step time since this invocation started
                ["train/tokens_per_s"] = tokens / Math.Max(1e-9, clock.Elapsed.TotalSeconds),
            };
        }

        private IReadOnlyDictionary<string, double> Evaluate()
        {
            if (held.Length == 0)
            {
                return new Dictionary<string, double>();
            }
            Evaluation e = RewardTrainer.Evaluate(model, held, padTokenId, batchSize, device);
            return new Dictionary<string, double>
            {
                ["eval/accuracy"] = e.Accuracy, ["eval/loss"] = e.Loss, ["eval/reward_mean"] = e.Mean, ["eval/reward_std"] = e.Std,
            };
        }

        public void Save(int step) => save(step);
    }
}
