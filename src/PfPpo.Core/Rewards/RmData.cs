using System.Text.Json.Serialization;
using PfPpo.Rollouts;
using static TorchSharp.torch;

namespace PfPpo.Rewards;

/// <summary>Settings of <see cref="RmData.RunAsync"/>.</summary>
public sealed record RmDataOptions
{
    /// <summary>Responses sampled per prompt (the paper: 5).</summary>
    public int SamplesPerPrompt { get; init; } = 5;
    /// <summary>Use the first K problems of the file (null: all).</summary>
    public int? Prompts { get; init; }
    public long Seed { get; init; }
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int MaxNewTokens { get; init; } = 256;
    public int MicroBatchSize { get; init; } = 64;
    public PairingMode Pairing { get; init; } = PairingMode.MaxEditDistance;
    /// <summary>Sandbox workers (0: one per core).</summary>
    public int Workers { get; init; }

    /// <summary>The sampling part of these options.</summary>
    [JsonIgnore]
    public PolicySamplingOptions Sampling => new()
    {
        SamplesPerPrompt = SamplesPerPrompt, Prompts = Prompts, Seed = Seed, Temperature = Temperature, TopP = TopP, MaxNewTokens = MaxNewTokens,
        MicroBatchSize = MicroBatchSize, Workers = Workers,
    };
}

/// <summary>What rm-data wrote.</summary>
public sealed record RmDataResult(int Prompts, int Samples, int Pairs, int PromptsWithoutPair, int SandboxErrors, double PassRate,
    double GenerationSeconds, double SandboxSeconds, double TotalSeconds, string SamplesPath, string PairsPath);

/// <summary>
/// Reward-model data: N samples per prompt from the policy, scored in the sandbox (samples.jsonl, the scored-samples
/// format), then preference pairs labelled by actual score (pairs.jsonl; see <see cref="PairBuilder"/>).
/// </summary>
public static class RmData
{
    public const string SamplesFile = "samples.jsonl";
    public const string PairsFile = "pairs.jsonl";

    public static async Task<RmDataResult> RunAsync(string policyDir, string problemsPath, string outDir, RmDataOptions options, Device device,
        ScalarType dtype, IProgress<RolloutProgress>? progress = null, CancellationToken cancellation = default)
    {
        PolicySamplesResult sampled = await PolicySamples.CollectAsync(policyDir, problemsPath, options.Sampling, device, dtype, progress, cancellation);
        IReadOnlyList<ScoredSample> samples = sampled.Samples;
        (IReadOnlyList<PreferencePair> pairs, int without) = PairBuilder.Build(samples,
            sampled.Prompts.Select((p, i) => (i, p.Prompt.Text)).ToDictionary(x => x.i, x => x.Text), options.Pairing);
        Directory.CreateDirectory(outDir);
        string samplesPath = Path.Combine(outDir, SamplesFile);
        string pairsPath = Path.Combine(outDir, PairsFile);
        ScoredSamples.Write(samplesPath, samples);
        PreferencePairs.Write(pairsPath, pairs);
        ScoredSample[] judged = samples.Where(ScoredSamples.HasVerdict).ToArray();
        return new RmDataResult(sampled.Prompts.Count, samples.Count, pairs.Count, without, samples.Count - judged.Length,
            judged.Length == 0 ? double.NaN : judged.Average(s => s.Passed ? 1.0 : 0.0),
            sampled.GenerationSeconds, sampled.SandboxSeconds, sampled.TotalSeconds, samplesPath, pairsPath);
    }
}
