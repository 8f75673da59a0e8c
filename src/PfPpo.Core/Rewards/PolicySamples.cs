using PfPpo.Benchmarks;
using PfPpo.Checkpoints;
using PfPpo.Model;
using PfPpo.Rollouts;
using PfPpo.Scoring;
using PfPpo.Tokenization;
using static TorchSharp.torch;

namespace PfPpo.Rewards;

/// <summary>How <see cref="PolicySamples.CollectAsync"/> samples a policy.</summary>
public sealed record PolicySamplingOptions
{
    /// <summary>Responses sampled per prompt.</summary>
    public int SamplesPerPrompt { get; init; } = 5;
    /// <summary>Use the first K problems of the file (null: all).</summary>
    public int? Prompts { get; init; }
    public long Seed { get; init; }
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int MaxNewTokens { get; init; } = 256;
    public int MicroBatchSize { get; init; } = 64;
    /// <summary>Sandbox workers (0: one per core).</summary>
    public int Workers { get; init; }
}

/// <summary>A policy's scored samples and where the time went.</summary>
/// <param name="Prompts">The prompts sampled, in group order (group i answers prompt i).</param>
/// <param name="Samples">The scored samples, without rewards.</param>
/// <param name="GenerationSeconds">Time spent generating.</param>
/// <param name="SandboxSeconds">Wall time during which the sandbox had a chunk to score (it overlaps generation).</param>
/// <param name="TotalSeconds">Wall time of the whole collection, loading the policy and starting the sandbox included.</param>
public sealed record PolicySamplesResult(IReadOnlyList<RolloutPrompt> Prompts, IReadOnlyList<ScoredSample> Samples,
    double GenerationSeconds, double SandboxSeconds, double TotalSeconds);

/// <summary>
/// N samples per prompt from a policy checkpoint through the <see cref="RolloutCollector"/>, scored in the sandbox and
/// turned into scored samples: what rm-data and r2 sample with.
/// </summary>
public static class PolicySamples
{
    public static async Task<PolicySamplesResult> CollectAsync(string policyDir, string problemsPath, PolicySamplingOptions options, Device device,
        ScalarType dtype, IProgress<RolloutProgress>? progress = null, CancellationToken cancellation = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<Problem> problems = ProblemSet.Load(problemsPath).Problems;
        if (options.Prompts is int count)
        {
            problems = problems.Take(count).ToArray();
        }
        using CausalLM model = HfCheckpoint.LoadCausalLM(policyDir, device, dtype);
        HfTokenizer tokenizer = HfTokenizer.Load(Path.Combine(policyDir, HfCheckpoint.TokenizerFile));
        await using Scorer scorer = await Scorer.CreateAsync(new ScorerOptions(options.Workers), cancellation);
        RolloutPrompt[] prompts = problems.Select(p => RolloutPrompt.For(p, tokenizer)).ToArray();
        var rolloutOptions = new RolloutOptions
        {
            Sampling = new RolloutOptions().Sampling with
            {
                NumSamples = options.SamplesPerPrompt, Temperature = options.Temperature, TopP = options.TopP, MaxNewTokens = options.MaxNewTokens,
                Seed = options.Seed, MicroBatchSize = options.MicroBatchSize, EosTokenIds = HfCheckpoint.LoadEosTokenIds(policyDir),
            },
        };
        RolloutBatch batch = await new RolloutCollector(model, tokenizer, scorer).CollectAsync(prompts, rolloutOptions, progress, cancellation);
        return new PolicySamplesResult(prompts, ScoredSamples.FromRollout(batch), batch.GenerationSeconds, batch.SandboxSeconds,
            clock.Elapsed.TotalSeconds);
    }
}
