using PfPpo.Benchmarks;
using PfPpo.Generation;
using PfPpo.Model;
using PfPpo.Rollouts;
using PfPpo.Runtime;
using PfPpo.Scoring;
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
    /// <summary>Prompts generated (and then scored) per chunk; scoring of one chunk overlaps generation of the next. No effect on the samples.</summary>
    public int PromptsPerChunk { get; init; } = 32;
    /// <summary>Token ids that end a sample: the checkpoint's (<c>HfCheckpoint.LoadEosTokenIds</c>); null means the model config's.</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }
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

/// <summary>Generates completions for benchmark problems with a model and scores them in the sandbox (a <see cref="RolloutCollector"/> run, summarised).</summary>
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
        var rollouts = new RolloutOptions
        {
            Sampling = new SamplingOptions
            {
                MaxNewTokens = options.MaxNewTokens, Temperature = options.Temperature, TopP = options.TopP, TopK = options.TopK,
                NumSamples = options.NumSamples, Seed = options.Seed, StopStrings = EvalPrompt.StopStrings,
                EosTokenIds = options.EosTokenIds, MicroBatchSize = options.MicroBatchSize,
            },
            PromptsPerChunk = options.PromptsPerChunk,
        };
        RolloutBatch batch = await new RolloutCollector(model, tokenizer, scorer).CollectAsync(
            problems.Select(p => RolloutPrompt.For(p, tokenizer)).ToArray(), rollouts,
            progress is null ? null : new SynchronousProgress<RolloutProgress>(p => progress.Report(new EvalProgress(p.Generated, p.Scored, p.Total))),
            cancellation);
        EvalSample[] samples = batch.Groups.SelectMany(g => g.Samples.Select(s => new EvalSample(s.Score.TaskId, s.SampleIndex, s.Completion,
            g.Kind, s.Code, s.FinishReason, s.TokenIds.Length, s.Score))).ToArray();

        ScoreSummary summary = ScoreSummary.Compute(samples.Select(s => s.Score).ToArray(), options.Ks);
        var multi = summary.Problems.Where(p => p.Samples >= 2).ToArray();
        double mixed = multi.Length == 0 ? double.NaN : (double)multi.Count(p => p.Correct > 0 && p.Correct < p.Samples) / multi.Length;
        return new EvalReport(samples, summary, mixed, batch.GenerationSeconds, batch.TotalSeconds, batch.GeneratedTokens);
    }
}
