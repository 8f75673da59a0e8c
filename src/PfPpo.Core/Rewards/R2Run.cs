using System.Diagnostics;
using System.Text.Json.Nodes;
using PfPpo.Benchmarks;
using PfPpo.Filtration;
using PfPpo.IO;
using PfPpo.Reports;
using PfPpo.Rollouts;
using static TorchSharp.torch;

namespace PfPpo.Rewards;

/// <summary>Settings of <see cref="R2Run.RunAsync"/>.</summary>
public sealed record R2RunOptions
{
    /// <summary>Strategies in the shared syntax (docs/filtration.md), parsed with <see cref="StrategySyntax.ParseList"/>.</summary>
    public string Strategies { get; init; } = "none,bon,br,bw";
    public int Bins { get; init; } = 10;
    public FiltrationMode Mode { get; init; } = FiltrationMode.Drop;
    /// <summary>Seed of the strategies' random choices and of the bootstrap.</summary>
    public int Seed { get; init; }
    public int Bootstrap { get; init; } = 1000;
    /// <summary>How to sample when no samples file is given (temperature 1 by default, as for rm-data).</summary>
    public PolicySamplingOptions Sampling { get; init; } = new() { SamplesPerPrompt = 10 };
    public int RewardBatchSize { get; init; } = 32;
    public bool Plots { get; init; } = true;
}

/// <summary>Where r2's inputs come from: a policy to sample, or a samples file (with rewards, or to be rewarded with the RM).</summary>
/// <param name="Policy">Policy checkpoint to sample from (needs <paramref name="Problems"/>), or null with <paramref name="Samples"/>.</param>
/// <param name="Rm">Reward model that scores the samples (needs <paramref name="Problems"/>), or null when the samples carry rewards.</param>
public sealed record R2Inputs(string? Policy, string? Rm, string? Problems, string? Samples)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the missing input.</summary>
    public void Validate()
    {
        if (Policy is null == Samples is null)
        {
            throw new ArgumentException(Policy is null
                ? "r2 needs --policy (to sample) or --samples (to reuse a scored-samples file)."
                : "give --policy (to sample) or --samples (to reuse a file), not both.");
        }
        if (Policy is not null && (Rm is null || Problems is null))
        {
            throw new ArgumentException("sampling with --policy needs --rm (to reward the samples) and --problems (the prompts).");
        }
        if (Rm is not null && Problems is null)
        {
            throw new ArgumentException("--rm needs --problems (the prompts the reward model reads).");
        }
    }
}

/// <summary>What r2 computed and wrote, and where the time went (the phases not run are 0).</summary>
public sealed record R2RunResult(IReadOnlyList<StrategyR2> Strategies, int Prompts, int Samples, PairAccuracy PairAccuracy,
    double GenerationSeconds, double SandboxSeconds, double RewardSeconds, double AnalysisSeconds, double TotalSeconds,
    string SamplesPath, string JsonPath, IReadOnlyList<string> PlotPaths);

/// <summary>
/// <c>pfppo r2</c> and the demo's r2 stage: sample the policy (or reuse a samples file), reward the samples with the RM,
/// then the R² analysis per strategy (<see cref="R2Analysis"/>); writes samples.jsonl, r2.json and the plots.
/// </summary>
public static class R2Run
{
    public const string SamplesFile = "samples.jsonl";
    public const string JsonFile = "r2.json";

    public static async Task<R2RunResult> RunAsync(R2Inputs inputs, string outDir, R2RunOptions options, Device device, ScalarType dtype,
        IProgress<RolloutProgress>? progress = null, CancellationToken cancellation = default)
    {
        inputs.Validate();
        IReadOnlyList<FiltrationStrategy> strategies = StrategySyntax.ParseList(options.Strategies);
        var clock = Stopwatch.StartNew();
        IReadOnlyList<ScoredSample> samples;
        double generation = 0, sandbox = 0, reward = 0;
        int prompts;
        if (inputs.Policy is string policy)
        {
            PolicySamplesResult sampled = await PolicySamples.CollectAsync(policy, inputs.Problems!, options.Sampling, device, dtype, progress, cancellation);
            (samples, generation, sandbox, prompts) = (sampled.Samples, sampled.GenerationSeconds, sampled.SandboxSeconds, sampled.Prompts.Count);
        }
        else
        {
            samples = ScoredSamples.Read(inputs.Samples!);
            prompts = samples.Select(s => s.Group).Distinct().Count();
        }
        if (inputs.Rm is string rm)
        {
            cancellation.ThrowIfCancellationRequested();
            var rewardClock = Stopwatch.StartNew();
            samples = SampleRewards.Score(rm, ProblemSet.Load(inputs.Problems!).Problems, inputs.Problems!, samples,
                inputs.Samples ?? "the samples", device, dtype, options.RewardBatchSize);
            reward = rewardClock.Elapsed.TotalSeconds;
        }

        var analysisClock = Stopwatch.StartNew();
        IReadOnlyList<StrategyR2> results = R2Analysis.Run(samples, strategies, options.Bins, options.Mode, options.Seed, options.Bootstrap);
        PairAccuracy pairs = R2Analysis.RankingAccuracy(samples);
        Directory.CreateDirectory(outDir);
        string samplesPath = Path.Combine(outDir, SamplesFile), jsonPath = Path.Combine(outDir, JsonFile);
        ScoredSamples.Write(samplesPath, samples);
        IReadOnlyList<string> plots = options.Plots
            ? R2Plots.Write(outDir, samples.Where(ScoredSamples.HasVerdict).Select(s => new RewardScore(s.Reward!.Value, s.Score)).ToArray(), results, options.Bins)
            : [];
        double analysis = analysisClock.Elapsed.TotalSeconds;
        var extra = new JsonObject
        {
            ["samples"] = samples.Count,
            ["prompts"] = prompts,
            ["pair_accuracy"] = new JsonObject { ["accuracy"] = double.IsNaN(pairs.Accuracy) ? null : pairs.Accuracy, ["pairs"] = pairs.Pairs },
            ["seconds"] = new JsonObject
            {
                ["generation"] = Math.Round(generation, 3), ["sandbox"] = Math.Round(sandbox, 3), ["reward"] = Math.Round(reward, 3),
                ["analysis"] = Math.Round(analysis, 3), ["total"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
            },
        };
        R2Analysis.WriteJson(jsonPath, results, options.Bins, options.Mode, options.Seed, extra);
        return new R2RunResult(results, prompts, samples.Count, pairs, generation, sandbox, reward, analysis, clock.Elapsed.TotalSeconds,
            samplesPath, jsonPath, plots);
    }
}
