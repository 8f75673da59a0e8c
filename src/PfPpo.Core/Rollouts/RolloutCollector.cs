using System.Diagnostics;
using PfPpo.Benchmarks;
using PfPpo.Generation;
using PfPpo.Model;
using PfPpo.Scoring;
using PfPpo.Tokenization;

namespace PfPpo.Rollouts;

/// <summary>One prompt to sample from: the problem its samples are scored against, what the model continues, and its tokens.</summary>
public sealed record RolloutPrompt(Problem Problem, EvalPrompt Prompt, IReadOnlyList<int> Tokens)
{
    /// <summary>The eval prompt of <paramref name="problem"/> (<see cref="EvalPrompt.For"/>), encoded as it is (no special tokens).</summary>
    public static RolloutPrompt For(Problem problem, HfTokenizer tokenizer)
    {
        EvalPrompt prompt = EvalPrompt.For(problem);
        return new RolloutPrompt(problem, prompt, tokenizer.Encode(prompt.Text));
    }
}

/// <summary>How a <see cref="RolloutCollector"/> samples and chunks.</summary>
public sealed record RolloutOptions
{
    /// <summary>
    /// How to sample (samples per prompt, temperature, seed, stop strings, EOS ids, micro-batch size). Its stop strings
    /// default to <see cref="EvalPrompt.StopStrings"/>; give the EOS ids of the checkpoint
    /// (<c>HfCheckpoint.LoadEosTokenIds</c>), or null for the model config's.
    /// </summary>
    public SamplingOptions Sampling { get; init; } = new() { StopStrings = EvalPrompt.StopStrings };

    /// <summary>Prompts generated (and then scored) per chunk; scoring of one chunk overlaps generation of the next. No effect on the samples.</summary>
    public int PromptsPerChunk { get; init; } = 32;
}

/// <summary>One scored sample of a prompt.</summary>
/// <param name="Completion">The generated text (<see cref="GeneratedSample.Text"/>): exactly what <paramref name="TokenIds"/> decode to, without a final EOS.</param>
/// <param name="Code">What was scored: the completion, or the prompt plus the completion for whole-program prompts.</param>
/// <param name="TokenIds">Every generated token, a final EOS included.</param>
/// <param name="Logprobs">Per token, under the distribution it was sampled from (see <see cref="Generator"/>).</param>
public sealed record RolloutSample(int SampleIndex, string Completion, string Code, int[] TokenIds, float[] Logprobs,
    FinishReason FinishReason, SampleResult Score);

/// <summary>A prompt's samples with their test outcomes.</summary>
/// <param name="PromptIndex">The prompt's index in the collector's input; its samples are seeded from it.</param>
public sealed record RolloutGroup(int PromptIndex, string TaskId, SampleKind Kind, IReadOnlyList<int> PromptTokens,
    IReadOnlyList<RolloutSample> Samples);

/// <summary>Where a collection stands: prompts generated and scored so far.</summary>
public sealed record RolloutProgress(int Generated, int Scored, int Total);

/// <summary>The outcome of <see cref="RolloutCollector.CollectAsync"/>.</summary>
/// <param name="Groups">One group per prompt, in prompt order.</param>
/// <param name="GenerationSeconds">Time spent generating.</param>
/// <param name="SandboxSeconds">Wall time during which at least one chunk was being scored (the union of the scoring calls'
/// intervals, queueing in the sandbox included; it overlaps generation).</param>
/// <param name="TotalSeconds">Wall time of the whole collection.</param>
/// <param name="GeneratedTokens">Tokens of all samples (a final EOS included).</param>
public sealed record RolloutBatch(IReadOnlyList<RolloutGroup> Groups, double GenerationSeconds, double SandboxSeconds,
    double TotalSeconds, long GeneratedTokens)
{
    /// <summary>Generated tokens per second of generation.</summary>
    public double TokensPerSecond => GeneratedTokens / Math.Max(1e-9, GenerationSeconds);
}

/// <summary>
/// Samples N completions of each prompt with a model and scores them in the sandbox: the RL loop's hot path, shared by
/// eval, reward-model data, R² and PPO. Prompts are generated in chunks; the sandbox scores one chunk while the next is
/// generated. Sample s of prompt p depends on the seed, p and s only (never on the chunk or micro-batch size).
/// </summary>
public sealed class RolloutCollector(CausalLM model, HfTokenizer tokenizer, Scorer scorer)
{
    private readonly Generator generator = new(model, tokenizer);

    /// <summary>Generates and scores <see cref="SamplingOptions.NumSamples"/> samples of every prompt.</summary>
    public async Task<RolloutBatch> CollectAsync(IReadOnlyList<RolloutPrompt> prompts, RolloutOptions options,
        IProgress<RolloutProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PromptsPerChunk, 1, nameof(options.PromptsPerChunk));
        options.Sampling.Validate();
        var clock = Stopwatch.StartNew();
        int samplesPerPrompt = options.Sampling.NumSamples;
        var samples = new RolloutSample[prompts.Count][];
        var scoring = new List<Task<(double Start, double End)>>();
        int scored = 0, generated = 0;
        double generationSeconds = 0;
        long generatedTokens = 0;
        try
        {
            for (int start = 0; start < prompts.Count; start += options.PromptsPerChunk)
            {
                cancellation.ThrowIfCancellationRequested();
                int count = Math.Min(options.PromptsPerChunk, prompts.Count - start);
                var generationClock = Stopwatch.StartNew();
                IReadOnlyList<GeneratedSample> chunk = generator.Generate(
                    prompts.Skip(start).Take(count).Select(p => p.Tokens).ToArray(), options.Sampling, firstPromptIndex: start, cancellation);
                generationSeconds += generationClock.Elapsed.TotalSeconds;
                generatedTokens += chunk.Sum(s => (long)s.TokenIds.Length);
                Volatile.Write(ref generated, start + count);
                progress?.Report(new RolloutProgress(start + count, Volatile.Read(ref scored), prompts.Count));
                scoring.Add(Task.Run(async () =>
                {
                    double started = clock.Elapsed.TotalSeconds;
                    ScoreRequest[] requests = chunk.Select(s => Request(prompts[s.PromptIndex], s)).ToArray();
                    IReadOnlyList<SampleResult> results = await scorer.ScoreAsync(requests, cancellation);
                    for (int i = 0; i < chunk.Count; i++)
                    {
                        GeneratedSample sample = chunk[i];
                        (samples[sample.PromptIndex] ??= new RolloutSample[samplesPerPrompt])[sample.SampleIndex] = new RolloutSample(
                            sample.SampleIndex, sample.Text, requests[i].Code, sample.TokenIds, sample.Logprobs, sample.FinishReason, results[i]);
                    }
                    int done = Interlocked.Add(ref scored, count);
                    progress?.Report(new RolloutProgress(Volatile.Read(ref generated), done, prompts.Count));
                    return (started, clock.Elapsed.TotalSeconds);
                }, cancellation));
            }
        }
        catch
        {
            // Do not leave scoring running behind the caller's back; the generation error is the one to report.
            await Task.WhenAll(scoring.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            throw;
        }
        (double Start, double End)[] intervals = await Task.WhenAll(scoring);
        RolloutGroup[] groups = prompts.Select((p, i) => new RolloutGroup(i, p.Problem.TaskId, p.Prompt.Kind, p.Tokens, samples[i])).ToArray();
        return new RolloutBatch(groups, generationSeconds, UnionSeconds(intervals), clock.Elapsed.TotalSeconds, generatedTokens);
    }

    /// <summary>The length of the union of time intervals (overlapping ones counted once).</summary>
    internal static double UnionSeconds(IEnumerable<(double Start, double End)> intervals)
    {
        double total = 0, coveredUntil = double.NegativeInfinity;
        foreach ((double start, double end) in intervals.OrderBy(i => i.Start))
        {
            if (end > coveredUntil)
            {
                total += end - Math.Max(start, coveredUntil);
                coveredUntil = end;
            }
        }
        return total;
    }

    private static ScoreRequest Request(RolloutPrompt prompt, GeneratedSample sample) =>
        new(prompt.Problem, prompt.Prompt.Code(sample.Text), prompt.Prompt.Kind);
}
