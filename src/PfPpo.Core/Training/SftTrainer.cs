using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Runtime;
using PfPpo.Tokenization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PfPpo.Training;

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
}

/// <summary>Where an SFT run stands, for progress displays.</summary>
public sealed record SftProgress(int Step, int TotalSteps, double Loss, double? EvalLoss, double LearningRate, double TokensPerSecond);

/// <summary>The outcome of <see cref="SftTrainer.Run"/>.</summary>
public sealed record SftResult(int Steps, int TotalSteps, bool Completed, double FinalTrainLoss, double? FinalEvalLoss,
    int TrainExamples, int HeldOutExamples, int DroppedExamples, double Seconds, string OutputDirectory);

/// <summary>
/// Supervised fine-tuning: next-token cross-entropy on the completion tokens only, AdamW with warmup and cosine decay,
/// gradient clipping, periodic held-out loss, resumable checkpoints and metrics (jsonl + TensorBoard).
/// </summary>
public static class SftTrainer
{
    public const string CheckpointsFolder = "checkpoints";
    private const string StateFile = "trainer_state.json";
    private const string OptimizerFile = "optimizer.bin";
    private const long HeldOutStream = -1; // epochs use streams 0, 1, ...

    public static SftResult Run(string modelDir, string dataPath, string outDir, SftOptions options, Device device,
        ScalarType dtype, string? evalDataPath = null, bool resume = false, IProgress<SftProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1, nameof(options.BatchSize));
        var clock = Stopwatch.StartNew();
        string tokenizerPath = Path.Combine(modelDir, "tokenizer.json");
        HfTokenizer tokenizer = HfTokenizer.Load(tokenizerPath);

        // --- data: load, split off held-out examples, tokenize ---
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

        // --- model: from the last checkpoint when resuming, else from modelDir ---
        Directory.CreateDirectory(outDir);
        string checkpointsDir = Path.Combine(outDir, CheckpointsFolder);
        string? resumeFrom = resume ? LatestCheckpoint(checkpointsDir) : null;
        if (resume && resumeFrom is null)
        {
            throw new InvalidDataException($"{checkpointsDir}: --resume given, but no complete checkpoint is there.");
        }
        using CausalLM model = HfCheckpoint.LoadCausalLM(resumeFrom ?? modelDir, device, dtype);
        int eosTokenId = model.Config.EosTokenIds.FirstOrDefault(-1);
        if (eosTokenId < 0)
        {
            throw new InvalidDataException($"{modelDir}: the model config names no eos_token_id; SFT needs one to end completions.");
        }
        int padTokenId = model.Config.PadTokenId ?? eosTokenId;

        (IReadOnlyList<SftSequence> train, int dropped) = SftDataset.Tokenize(examples, tokenizer, eosTokenId, options.MaxLength);
        (IReadOnlyList<SftSequence> held, int droppedHeld) = SftDataset.Tokenize(heldOut, tokenizer, eosTokenId, options.MaxLength);
        if (train.Count == 0)
        {
            throw new InvalidDataException($"{dataPath}: no example fits in --max-length {options.MaxLength} tokens.");
        }

        int batchesPerEpoch = (train.Count + options.BatchSize - 1) / options.BatchSize;
        int totalSteps = options.MaxSteps ?? options.Epochs * batchesPerEpoch;
        var schedule = new WarmupCosineSchedule(options.LearningRate,
            Math.Max(1, (int)Math.Round(options.WarmupFraction * totalSteps)), totalSteps, options.MinLearningRateRatio);

        // --- optimizer: AdamW, weight decay on matrices only; tied parameters counted once ---
        Parameter[] parameters = model.parameters().Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().ToArray();
        var decay = parameters.Where(p => p.dim() >= 2).ToArray();
        var noDecay = parameters.Where(p => p.dim() < 2).ToArray();
        using var optimizer = optim.AdamW(new[]
        {
            new AdamW.ParamGroup(decay, new AdamW.Options { LearningRate = options.LearningRate, weight_decay = options.WeightDecay }),
            new AdamW.ParamGroup(noDecay, new AdamW.Options { LearningRate = options.LearningRate, weight_decay = 0 }),
        }, options.LearningRate, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: options.WeightDecay);

        var state = new TrainerState(0, totalSteps, options.BatchSize, options.Seed, train.Count, Fingerprint(options));
        if (resumeFrom is not null)
        {
            TrainerState saved = ReadState(resumeFrom);
            if (saved.TotalSteps != totalSteps || saved.BatchSize != options.BatchSize || saved.Seed != options.Seed
                || saved.TrainExamples != train.Count || saved.OptionsFingerprint != state.OptionsFingerprint)
            {
                throw new InvalidDataException(
                    $"{resumeFrom}: this checkpoint was made with other settings or data (steps {saved.TotalSteps}, batch {saved.BatchSize}, " +
                    $"seed {saved.Seed}, {saved.TrainExamples} examples); resume with the same options and data.");
            }
            optimizer.load_state_dict(Path.Combine(resumeFrom, OptimizerFile));
            state = saved;
        }

        using var metrics = new MetricsLogger(outDir, append: resumeFrom is not null);
        model.train();
        double lastLoss = double.NaN;
        double? lastEval = null;
        int stepsThisRun = 0;
        var tokenClock = Stopwatch.StartNew();
        long tokensSinceLog = 0;
        int step = state.Step;

        while (step < totalSteps)
        {
            int epoch = step / batchesPerEpoch;
            IReadOnlyList<int[]> batches = SftDataset.EpochBatches(train, options.BatchSize, options.Seed, epoch);
            for (int b = step % batchesPerEpoch; b < batches.Count && step < totalSteps; b++)
            {
                cancellation.ThrowIfCancellationRequested();
                double learningRate = schedule.At(step);
                foreach (ParamGroup group in optimizer.ParamGroups)
                {
                    group.LearningRate = learningRate;
                }

                SftBatch batch = SftDataset.Collate(train, batches[b], padTokenId);
                double gradNorm;
                using (var scope = NewDisposeScope())
                {
                    optimizer.zero_grad();
                    Tensor loss = CompletionLoss(model, batch, device);
                    loss.backward();
                    gradNorm = nn.utils.clip_grad_norm_(parameters, options.GradClip);
                    optimizer.step();
                    lastLoss = loss.item<float>();
                }
                tokensSinceLog += batch.BatchSize * batch.Length;
                step++;
                stepsThisRun++;

                bool last = step == totalSteps;
                if (step % options.LogEvery == 0 || last)
                {
                    double tokensPerSecond = tokensSinceLog / Math.Max(1e-9, tokenClock.Elapsed.TotalSeconds);
                    metrics.Log(step, new Dictionary<string, double>
                    {
                        ["train/loss"] = lastLoss, ["train/lr"] = learningRate, ["train/grad_norm"] = gradNorm,
                        ["train/tokens_per_s"] = tokensPerSecond, ["train/epoch"] = (double)step / batchesPerEpoch,
                    });
                    tokensSinceLog = 0;
                    tokenClock.Restart();
                }
                if (held.Count > 0 && ((options.EvalEvery > 0 && step % options.EvalEvery == 0) || last))
                {
                    lastEval = HeldOutLoss(model, held, options.BatchSize, padTokenId, device);
                    metrics.Log(step, new Dictionary<string, double> { ["eval/loss"] = lastEval.Value });
                }
                progress?.Report(new SftProgress(step, totalSteps, lastLoss, lastEval, learningRate,
                    tokensSinceLog / Math.Max(1e-9, tokenClock.Elapsed.TotalSeconds)));

                bool stopping = options.StopAfterSteps is int stopAfter && stepsThisRun >= stopAfter && !last;
                if ((options.SaveEvery > 0 && step % options.SaveEvery == 0) || last || stopping)
                {
                    SaveCheckpoint(model, optimizer, tokenizerPath, checkpointsDir, state with { Step = step }, options.KeepCheckpoints);
                }
                if (stopping)
                {
                    return new SftResult(step, totalSteps, false, lastLoss, lastEval, train.Count, held.Count,
                        dropped + droppedHeld, clock.Elapsed.TotalSeconds, outDir);
                }
            }
        }

        // --- the final model, in Hugging Face format, with its tokenizer ---
        HfCheckpoint.Save(model, outDir, ScalarType.Float32);
        CopyAtomically(tokenizerPath, Path.Combine(outDir, "tokenizer.json"));
        return new SftResult(step, totalSteps, true, lastLoss, lastEval, train.Count, held.Count, dropped + droppedHeld,
            clock.Elapsed.TotalSeconds, outDir);
    }

    /// <summary>
    /// Mean next-token cross-entropy over the completion tokens of the batch: logits at position t predict token t+1,
    /// counted where token t+1 belongs to the completion (its EOS included).
    /// </summary>
    public static Tensor CompletionLoss(CausalLM model, SftBatch batch, Device device)
    {
        using var ids = tensor(batch.InputIds, new long[] { batch.BatchSize, batch.Length }, device: device);
        using var lossMask = tensor(batch.LossMask, new long[] { batch.BatchSize, batch.Length }, device: device);
        // Batches are right-padded, so a plain causal mask is exact for every real token (positions 0..len-1, and no
        // real token can see a later pad); pad positions only produce logits the loss mask drops. No attention mask
        // lets attention take its fused causal path.
        Tensor logits = model.forward(ids, attentionMask: null);                            // [B, T, V]
        long vocab = logits.shape[2];
        Tensor predicted = logits[.., ..^1, ..].reshape(-1, vocab).to_type(ScalarType.Float32); // [B*(T-1), V]
        Tensor targets = ids[.., 1..].reshape(-1);                                             // [B*(T-1)]
        Tensor mask = lossMask[.., 1..].reshape(-1);                                           // [B*(T-1)]
        Tensor tokenLoss = nn.functional.cross_entropy(predicted, targets, reduction: nn.Reduction.None);
        return (tokenLoss * mask).sum() / mask.sum().clamp_min(1);
    }

    /// <summary>Token-weighted mean completion loss over <paramref name="sequences"/>, without gradients.</summary>
    public static double HeldOutLoss(CausalLM model, IReadOnlyList<SftSequence> sequences, int batchSize, int padTokenId, Device device)
    {
        bool wasTraining = model.training;
        model.eval();
        double total = 0;
        double tokens = 0;
        using (no_grad())
        {
            for (int start = 0; start < sequences.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                int[] indices = Enumerable.Range(start, Math.Min(batchSize, sequences.Count - start)).ToArray();
                SftBatch batch = SftDataset.Collate(sequences, indices, padTokenId);
                double loss = CompletionLoss(model, batch, device).item<float>();
                int completionTokens = batch.CompletionTokens; // prompts are never empty, so every loss position has a predecessor
                total += loss * completionTokens;
                tokens += completionTokens;
            }
        }
        if (wasTraining)
        {
            model.train();
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

    // --- resumable checkpoints: checkpoints/step-N/{HF checkpoint, tokenizer.json, optimizer.bin, trainer_state.json} ---

    private sealed record TrainerState(
        [property: JsonPropertyName("step")] int Step,
        [property: JsonPropertyName("total_steps")] int TotalSteps,
        [property: JsonPropertyName("batch_size")] int BatchSize,
        [property: JsonPropertyName("seed")] long Seed,
        [property: JsonPropertyName("train_examples")] int TrainExamples,
        [property: JsonPropertyName("options")] string OptionsFingerprint);

    private static string Fingerprint(SftOptions o) =>
        FormattableString.Invariant($"lr={o.LearningRate};warmup={o.WarmupFraction};min={o.MinLearningRateRatio};wd={o.WeightDecay};clip={o.GradClip};maxlen={o.MaxLength};held={o.HeldOutFraction}");

    private static void SaveCheckpoint(CausalLM model, AdamW optimizer, string tokenizerPath, string checkpointsDir,
        TrainerState state, int keep)
    {
        Directory.CreateDirectory(checkpointsDir);
        string final = Path.Combine(checkpointsDir, $"step-{state.Step}");
        string temp = Path.Combine(checkpointsDir, $".step-{state.Step}.tmp");
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }
        Directory.CreateDirectory(temp);
        HfCheckpoint.Save(model, temp, ScalarType.Float32);
        File.Copy(tokenizerPath, Path.Combine(temp, "tokenizer.json"));
        optimizer.save_state_dict(Path.Combine(temp, OptimizerFile));
        File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(state));
        if (Directory.Exists(final))
        {
            Directory.Delete(final, recursive: true);
        }
        Directory.Move(temp, final);
        foreach (string old in CompleteCheckpoints(checkpointsDir).SkipLast(Math.Max(1, keep)))
        {
            Directory.Delete(old, recursive: true);
        }
    }

    /// <summary>The newest checkpoint under <paramref name="checkpointsDir"/> with a complete trainer state, or null.</summary>
    public static string? LatestCheckpoint(string checkpointsDir) => CompleteCheckpoints(checkpointsDir).LastOrDefault();

    private static IEnumerable<string> CompleteCheckpoints(string checkpointsDir) =>
        !Directory.Exists(checkpointsDir)
            ? Array.Empty<string>()
            : Directory.GetDirectories(checkpointsDir, "step-*")
                .Where(d => File.Exists(Path.Combine(d, StateFile)) && int.TryParse(Path.GetFileName(d)["step-".Length..], out _))
                .OrderBy(d => int.Parse(Path.GetFileName(d)["step-".Length..], System.Globalization.CultureInfo.InvariantCulture));

    private static TrainerState ReadState(string checkpoint)
    {
        string path = Path.Combine(checkpoint, StateFile);
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path))
                ?? throw new InvalidDataException($"{path}: empty trainer state.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable trainer state ({e.Message}).");
        }
    }

    private static void CopyAtomically(string source, string destination)
    {
        if (Path.GetFullPath(source) == Path.GetFullPath(destination))
        {
            return;
        }
        string temp = destination + ".tmp";
        File.Copy(source, temp, overwrite: true);
        File.Move(temp, destination, overwrite: true);
    }
}
