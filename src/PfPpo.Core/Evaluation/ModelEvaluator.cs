using System.Diagnostics;
using PfPpo.Generation;
using PfPpo.Model;
using PfPpo.Tokenization;

namespace PfPpo.Evaluation;

/// <summary>How to sample for an evaluation. Greedy pass@1 by default; set <see cref="NumSamples"/> and a temperature for pass@k.</summary>
public sealed record EvalOptions
{
    public int NumSamples { get; init; } = 1;
    /// <summary>0 is greedy.</summary>
    public double Temperature { get; init; }
    public double TopP { get; init; } = 1.0;
    public int TopK { get; init; }
    public int MaxNewTokens { get; init; } = 256;
    public long Seed { get; init; }
    public IReadOnlyList<int> Ks { get; init; } = [1];
    public int MicroBatchSize { get; init; } = 64;
    /// <summary>Prompts generated (and then scored) per chunk; scoring of one chunk overlaps generation of the next.</summary>
    public int PromptsPerChunk { get; init; } = 32;
}

/// <summary>One generated and scored sample.</summary>
public sealed record EvalSample(string TaskId, int SampleIndex, string Completion, SampleKind Kind, string Code,
    FinishReason FinishReason, int GeneratedTokens, SampleResult Score);

/// <summary>The outcome of <see cref="ModelEvaluator.RunAsync"/>.</summary>
/// <param name="MixedFraction">Share of problems (with at least two scored samples) whose samples include both a pass and a fail.</param>
public sealed record EvalReport(IReadOnlyList<EvalSample> Samples, ScoreSummary Summary, double MixedFraction,
    double GenerationSeconds, double TotalSeconds, long GeneratedTokens)
{
    public double PassAt(int k) => Summary.Overall.FirstOrDefault(s => s.K == k)?.Value ?? double.NaN;
}

/// <summary>Where an evaluation stands: problems generated and scored so far.</summary>
public sealed record EvalProgress(int Generated, int Scored, int Total);

/// <summary>Generates completions for benchmark problems with a model and scores them in the sandbox.</summary>
public static class ModelEvaluator
{
    public static async Task<EvalReport> RunAsync(CausalLM model, HfTokenizer tokenizer, IReadOnlyList<Problem> problems,
        EvalOptions options, Scorer scorer, IProgress<EvalProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NumSamples, 1, nameof(options.NumSamples));
        if (options.Ks.Any(k => k < 1 || k > options.NumSamples))
        {
            throw new ArgumentException($"every k must be between 1 and the number of samples ({options.NumSamples}).", nameof(options));
        }
        var clock = Stopwatch.StartNew();
        var generator = new Generator(model, tokenizer);
        var sampling = new SamplingOptions
        {
            MaxNewTokens = options.MaxNewTokens, Temperature = options.Temperature, TopP = options.TopP, TopK = options.TopK,
            NumSamples = options.NumSamples, Seed = options.Seed, StopStrings = EvalPrompt.StopStrings,
            MicroBatchSize = options.MicroBatchSize,
        };
        EvalPrompt[] prompts = problems.Select(EvalPrompt.For).ToArray();
        var samples = new EvalSample[problems.Count * options.NumSamples];
        var scoring = new List<Task>();
        int scored = 0;
        double generationSeconds = 0;
        long generatedTokens = 0;

        for (int start = 0; start < problems.Count; start += options.PromptsPerChunk)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = Math.Min(options.PromptsPerChunk, problems.Count - start);
            var generationClock = Stopwatch.StartNew();
            // The sampler seeds sample s of prompt p from (seed, p, s); offsetting the seed by the chunk's first problem
            // keeps every problem's stream distinct. Same options (chunk size included), same samples.
            IReadOnlyList<GeneratedSample> chunk = generator.Generate(
                prompts.Skip(start).Take(count).Select(p => p.Text).ToArray(), sampling with { Seed = options.Seed + start });
            generationSeconds += generationClock.Elapsed.TotalSeconds;

            var requests = new ScoreRequest[chunk.Count];
            var slots = new int[chunk.Count];
            for (int i = 0; i < chunk.Count; i++)
            {
                GeneratedSample sample = chunk[i];
                int problemIndex = start + sample.PromptIndex;
                EvalPrompt prompt = prompts[problemIndex];
                requests[i] = new ScoreRequest(problems[problemIndex], prompt.Code(sample.Text), prompt.Kind);
                slots[i] = problemIndex * options.NumSamples + sample.SampleIndex;
                generatedTokens += sample.TokenIds.Length;
            }
            progress?.Report(new EvalProgress(start + count, Volatile.Read(ref scored), problems.Count));
            scoring.Add(Task.Run(async () =>
            {
                IReadOnlyList<SampleResult> results = await scorer.ScoreAsync(requests, cancellation);
                for (int i = 0; i < results.Count; i++)
                {
                    GeneratedSample sample = chunk[i];
                    samples[slots[i]] = new EvalSample(results[i].TaskId, sample.SampleIndex, sample.Text, requests[i].Kind,
                        requests[i].Code, sample.FinishReason, sample.TokenIds.Length, results[i]);
                }
                int done = Interlocked.Add(ref scored, count);
                progress?.Report(new EvalProgress(Math.Min(problems.Count, start + count), done, problems.Count));
            }, cancellation));
        }
        await Task.WhenAll(scoring);

        ScoreSummary summary = ScoreSummary.Compute(samples.Select(s => s.Score).ToArray(), options.Ks);
        var multi = summary.Problems.Where(p => p.Samples >= 2).ToArray();
        double mixed = multi.Length == 0 ? double.NaN : (double)multi.Count(p => p.Correct > 0 && p.Correct < p.Samples) / multi.Length;
        return new EvalReport(samples, summary, mixed, generationSeconds, clock.Elapsed.TotalSeconds, generatedTokens);
    }
}
