using System.Diagnostics;
using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Runtime;
using PfPpo.Tokenization;
using PfPpo.Training;
using static TorchSharp.torch;

namespace PfPpo.Sft;

/// <summary>Settings of one SFT run. The schedule spans <see cref="MaxSteps"/> (or all epochs) even when a run stops early.</summary>
public sealed record SftOptions
{
    public int Epochs { get; init; } = 3;
    /// <summary>Total optimizer steps of the run; null means <see cref="Epochs"/> passes over the data.</summary>
    public int? MaxSteps { get; init; }
    public int BatchSize { get; init; } = 16;
    public double LearningRate { get; init; } = 1e-3;
    public double WarmupFraction { get; init; } = 0.05;
    public double MinLearningRateRatio { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.1;
    public double GradClip { get; init; } = 1.0;
    /// <summary>Held-out loss every this many steps (and at the end); 0 only at the end.</summary>
    public int EvalEvery { get; init; } = 100;
    /// <summary>A resumable checkpoint every this many steps (and at the end); 0 only at the end.</summary>
    public int SaveEvery { get; init; }
    public int KeepCheckpoints { get; init; } = 2;
    public int LogEvery { get; init; } = 10;
    public int MaxLength { get; init; } = 512;
    public long Seed { get; init; }
    /// <summary>Share of the data held out for the periodic loss when no separate eval file is given.</summary>
    public double HeldOutFraction { get; init; } = 0.05;
    /// <summary>Stop after this many steps in this invocation (a time box); resume later to finish the same schedule.</summary>
    public int? StopAfterSteps { get; init; }
    /// <summary>Steps with NaN or infinite gradients that may be skipped before the run stops (0: stop at the first).</summary>
    public int MaxNonFiniteSkips { get; init; }

    /// <summary>The AdamW settings these options describe.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public OptimizerSettings Optimizer => new()
    {
        LearningRate = LearningRate, WeightDecay = WeightDecay, GradClip = GradClip, MaxNonFiniteSkips = MaxNonFiniteSkips,
    };

    /// <summary>The options that decide the result (cadence and time boxes do not), for the run's fingerprint.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public SftOptions ResultDefining => this with { EvalEvery = 0, SaveEvery = 0, KeepCheckpoints = 0, LogEvery = 0, StopAfterSteps = null };
}

/// <summary>The outcome of <see cref="SftTrainer.RunAsync"/>.</summary>
public sealed record SftResult(int Steps, int TotalSteps, bool Completed, double FinalTrainLoss, double? FinalEvalLoss,
    int TrainExamples, int HeldOutExamples, int DroppedExamples, double Seconds, string OutputDirectory);

/// <summary>What an SFT checkpoint records besides the weights and the optimizer.</summary>
public sealed record SftState(int TotalSteps, int TrainExamples);

/// <summary>
/// Supervised fine-tuning: next-token cross-entropy on the completion tokens only, composed of the shared training pieces
/// (<see cref="TrainableModel"/> for AdamW, schedule, clipping and mixed precision; <see cref="CheckpointStore"/>;
/// <see cref="TrainingLoop"/>; <see cref="TokenBatch"/>; <see cref="TokenLogprobs"/>).
/// </summary>
public static class SftTrainer
{
    private const long HeldOutStream = -1; // epochs use streams 0, 1, ...

    /// <summary>Trains and writes the final model into <paramref name="outDir"/> (as a Hugging Face checkpoint with its tokenizer).</summary>
    /// <param name="warn">Told about checkpoints passed over on resume.</param>
    public static async Task<SftResult> RunAsync(string modelDir, string dataPath, string outDir, SftOptions options, Device device,
        ScalarType dtype, string? evalDataPath = null, ResumeMode resume = ResumeMode.Fresh, bool force = false,
        IProgress<TrainingProgress>? progress = null, Action<string>? warn = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options.BatchSize));
        var clock = Stopwatch.StartNew();
        string tokenizerPath = Path.Combine(modelDir, HfCheckpoint.TokenizerFile);
        HfTokenizer tokenizer = HfTokenizer.Load(tokenizerPath);

        // --- data: load, split off held-out examples ---
        IReadOnlyList<SftExample> examples = SftDataset.Load(dataPath);
        IReadOnlyList<SftExample> heldOut;
        if (evalDataPath is not null)
        {
            heldOut = SftDataset.Load(evalDataPath);
        }
        else
        {
            (examples, heldOut) = SplitHeldOut(examples, options.HeldOutFraction, options.Seed);
        }

        // --- model, tokenized data, schedule ---
        using CausalLM model = HfCheckpoint.LoadCausalLM(modelDir, device, dtype);
        int eosTokenId = model.Config.EosTokenIds.FirstOrDefault(-1);
        if (eosTokenId < 0)
        {
            throw new InvalidDataException($"{modelDir}: the model config names no eos_token_id; SFT needs one to end completions.");
        }
        int padTokenId = model.Config.PadTokenId ?? eosTokenId;
        (IReadOnlyList<TokenSequence> train, int dropped) = SftDataset.Tokenize(examples, tokenizer, eosTokenId, options.MaxLength);
        (IReadOnlyList<TokenSequence> held, int droppedHeld) = SftDataset.Tokenize(heldOut, tokenizer, eosTokenId, options.MaxLength);
        if (train.Count == 0)
        {
            throw new InvalidDataException($"{dataPath}: no example fits in --max-length {options.MaxLength} tokens.");
        }
        var batches = new EpochBatches(train.Select(s => s.Length).ToArray(), options.BatchSize, options.Seed);
        int batchesPerEpoch = batches.PerEpoch;
        int totalSteps = options.MaxSteps ?? options.Epochs * batchesPerEpoch;
        var schedule = WarmupCosineSchedule.ForRun(options.LearningRate, options.WarmupFraction, totalSteps, options.MinLearningRateRatio);

        // --- the shared pieces: trained model, checkpoints, metrics ---
        using var trainable = new TrainableModel("model", model, options.Optimizer, schedule, tokenizerPath, initialWeights: modelDir);
        var inputs = new Dictionary<string, string> { ["data"] = dataPath, ["model"] = modelDir };
        if (evalDataPath is not null)
        {
            inputs["eval_data"] = evalDataPath;
        }
        RunFingerprint fingerprint = RunFingerprint.Of(new { Options = options.ResultDefining, DType = dtype.ToString() }, inputs);
        var store = new CheckpointStore(outDir, options.KeepCheckpoints, resume, force);
        ResumedCheckpoint<SftState>? resumed = store.Open<SftState>(fingerprint, [trainable], warn);
        using var metrics = new MetricsLogger(outDir, resumed?.Step);

        var steps = new SftSteps(trainable, model, train, held, options, padTokenId, batches, device,
            step => store.Save(step, new SftState(totalSteps, train.Count), fingerprint, [trainable]));
        LoopOutcome outcome = await TrainingLoop.RunAsync(steps, resumed?.Step ?? 0, totalSteps,
            new LoopCadence(Math.Max(1, options.LogEvery), options.EvalEvery, options.SaveEvery, options.StopAfterSteps),
            metrics, progress, cancellation);

        if (outcome.Completed)
        {
            trainable.SaveModel(outDir);
        }
        return new SftResult(outcome.Step, totalSteps, outcome.Completed, outcome.Metrics.GetValueOrDefault("train/loss", double.NaN),
            outcome.Metrics.TryGetValue("eval/loss", out double evalLoss) ? evalLoss : null, train.Count, held.Count,
            dropped + droppedHeld, clock.Elapsed.TotalSeconds, outDir);
    }

    /// <summary>Mean next-token cross-entropy over the completion tokens of the batch (each completion's EOS included).</summary>
    public static Tensor Loss(CausalLM model, TokenBatch batch)
    {
        using var scope = NewDisposeScope();
        Tensor logprobs = TokenLogprobs.Compute(model, batch);                                // [B, T]
        return (-logprobs.sum() / Math.Max(1, batch.CompletionTokens)).MoveToOuterDisposeScope();
    }

    /// <summary>Token-weighted mean completion loss over <paramref name="sequences"/>, in eval mode, without gradients.</summary>
    public static double HeldOutLoss(CausalLM model, IReadOnlyList<TokenSequence> sequences, int batchSize, int padTokenId, Device device)
    {
        double total = 0;
        double tokens = 0;
        using (model.EvalMode())
        using (no_grad())
        {
            foreach (TokenSequence[] chunk in sequences.Chunk(batchSize))
            {
                using var scope = NewDisposeScope();
                TokenBatch batch = TokenBatch.Collate(chunk, padTokenId, Padding.Right, device);
                total += Loss(model, batch).item<float>() * batch.CompletionTokens;
                tokens += batch.CompletionTokens;
            }
        }
        return tokens > 0 ? total / tokens : double.NaN;
    }

    private static (IReadOnlyList<SftExample> Train, IReadOnlyList<SftExample> HeldOut) SplitHeldOut(
        IReadOnlyList<SftExample> examples, double fraction, long seed)
    {
        int count = (int)Math.Round(examples.Count * fraction);
        if (count == 0 || examples.Count - count < 1)
        {
            return (examples, Array.Empty<SftExample>());
        }
        int[] order = Enumerable.Range(0, examples.Count).ToArray();
        new Random(Seeds.Derive(seed, HeldOutStream)).Shuffle(order);
        var heldSet = order.Take(count).ToHashSet();
        return (examples.Where((_, i) => !heldSet.Contains(i)).ToArray(), order.Take(count).Order().Select(i => examples[i]).ToArray());
    }

    /// <summary>One SFT step: the step's batch (epoch order from the seed), loss, backward, optimizer step.</summary>
    private sealed class SftSteps(TrainableModel trainable, CausalLM model, IReadOnlyList<TokenSequence> train,
        IReadOnlyList<TokenSequence> held, SftOptions options, int padTokenId, EpochBatches batches, Device device, Action<int> save)
        : ITrainingSteps
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
            double loss;
            StepStats stats;
            int realTokens;
            using (var scope = NewDisposeScope())
            {
                TokenBatch batch = TokenBatch.Collate(batches.ForStep(step).Select(i => train[i]).ToArray(), padTokenId, Padding.Right, device);
                realTokens = batch.RealTokens;
                trainable.ZeroGrad();
                Tensor lossTensor = Loss(model, batch);
                trainable.ScaleLoss(lossTensor).backward();
                loss = lossTensor.item<float>();
                stats = trainable.Step(step);
            }
            clock.Stop();
            tokens += realTokens;
            var metrics = new Dictionary<string, double>
            {
                ["train/lr"] = stats.LearningRate, ["train/skipped_steps"] = trainable.NonFiniteSkips,
                ["train/tokens_per_s"] = tokens / Math.Max(1e-9, clock.Elapsed.TotalSeconds), ["train/epoch"] = (double)(step + 1) / batches.PerEpoch,
            };
            if (!stats.Skipped) // a skipped step's loss and norm are the non-finite values that were refused
            {
                metrics["train/loss"] = loss;
                metrics["train/grad_norm"] = stats.GradNorm;
            }
            return metrics;
        }

        private IReadOnlyDictionary<string, double> Evaluate() =>
            held.Count == 0
                ? new Dictionary<string, double>()
                : new Dictionary<string, double> { ["eval/loss"] = HeldOutLoss(model, held, options.BatchSize, padTokenId, device) };

        public void Save(int step) => save(step);
    }
}
