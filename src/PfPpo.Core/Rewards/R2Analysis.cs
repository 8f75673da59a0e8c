using System.Text.Json.Nodes;
using PfPpo.Filtration;
using PfPpo.IO;
using PfPpo.Rollouts;

namespace PfPpo.Rewards;

/// <summary>One strategy's R² of actual score against reward on the responses it keeps, with bootstrap intervals over prompts.</summary>
/// <param name="Kept">Responses kept (drop mode) or with positive weight (weight mode).</param>
public sealed record StrategyR2(string Strategy, int Kept, R2Fit PerResponse, R2Interval PerResponseInterval, BinnedR2 Binned, R2Interval BinnedInterval)
{
    /// <summary>The regression points (kept responses, weighted in weight mode), for plots.</summary>
    public IReadOnlyList<RewardScore> Points { get; init; } = [];
}

/// <summary>How often the reward orders two responses of one prompt as their actual scores do.</summary>
/// <param name="Accuracy">Share of the pairs with differing scores whose higher-scored response has the higher reward (equal rewards count half); NaN without pairs.</param>
/// <param name="Pairs">Pairs of responses of one prompt whose actual scores differ.</param>
public sealed record PairAccuracy(double Accuracy, int Pairs);

/// <summary>
/// The R² analysis of PF-PPO section 3 over scored, rewarded samples: for each strategy, filter each prompt group, then
/// regress actual score on reward over what is kept (per response, and binned as in the paper), with a bootstrap 95%
/// interval that resamples prompts. Every number is recomputable from the samples file, the strategy list and the seed.
/// </summary>
public static class R2Analysis
{
    public static IReadOnlyList<StrategyR2> Run(IReadOnlyList<ScoredSample> samples, IReadOnlyList<FiltrationStrategy> strategies, int bins,
        FiltrationMode mode, int seed, int replicates = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1, nameof(bins));
        ArgumentOutOfRangeException.ThrowIfLessThan(replicates, 1, nameof(replicates));
        ScoredSample? unrewarded = samples.FirstOrDefault(s => s.Reward is null);
        if (unrewarded is not null)
        {
            throw new DataFormatException(
                $"sample {unrewarded.Sample} of group {unrewarded.Group} ({unrewarded.TaskId}) has no reward: score the samples with pfppo reward first (or pass --rm).");
        }
        var groups = samples.Where(ScoredSamples.HasVerdict).GroupBy(s => s.Group).OrderBy(g => g.Key)
            .Select(g => g.OrderBy(s => s.Sample).ToArray()).ToArray();
        if (groups.Length == 0)
        {
            throw new DataFormatException("no sample has a sandbox verdict; there is nothing to regress.");
        }
        var rewardGroups = groups.Select(g => new RewardGroup($"group {g[0].Group} ({g[0].TaskId})", g.Select(s => s.Reward!.Value).ToArray())).ToArray();
        double[] calibration = rewardGroups.SelectMany(g => g.Rewards).ToArray();
        var results = new List<StrategyR2>();
        foreach (FiltrationStrategy strategy in strategies)
        {
            FiltrationStrategy resolved = strategy.NeedsCalibration ? strategy.Resolve(calibration) : strategy;
            IReadOnlyList<Filtered> filtered = resolved.ApplyToBuffer(rewardGroups, new Random(seed));
            IReadOnlyList<RewardScore>[] points = groups.Select((g, i) =>
                R2.Points(rewardGroups[i].Rewards, g.Select(s => s.Score).ToArray(), filtered[i], mode)).ToArray();
            RewardScore[] all = points.SelectMany(p => p).ToArray();
            results.Add(new StrategyR2(strategy.ToString(), all.Length,
                R2.PerResponse(all), R2.Bootstrap(points, p => R2.PerResponse(p).R2, replicates, seed),
                R2.Binned(all, bins), R2.Bootstrap(points, p => R2.Binned(p, bins).Fit.R2, replicates, seed)) { Points = all });
        }
        return results;
    }

    /// <summary>
    /// Within each prompt group (samples with a verdict), every pair of responses whose actual scores differ: the share the
    /// reward orders the same way (a reward tie counts half). The reward model's ranking accuracy on these samples.
    /// </summary>
    public static PairAccuracy RankingAccuracy(IReadOnlyList<ScoredSample> samples)
    {
        double agree = 0;
        int pairs = 0;
        foreach (ScoredSample[] group in samples.Where(ScoredSamples.HasVerdict).GroupBy(s => s.Group).Select(g => g.ToArray()))
        {
            for (int i = 0; i < group.Length; i++)
            {
                for (int j = i + 1; j < group.Length; j++)
                {
                    if (group[i].Score == group[j].Score)
                    {
                        continue;
                    }
                    (ScoredSample better, ScoredSample worse) = group[i].Score > group[j].Score ? (group[i], group[j]) : (group[j], group[i]);
                    double rb = better.Reward ?? throw new ArgumentException($"sample {better.Sample} of group {better.Group} has no reward", nameof(samples));
                    double rw = worse.Reward ?? throw new ArgumentException($"sample {worse.Sample} of group {worse.Group} has no reward", nameof(samples));
                    agree += rb > rw ? 1 : rb == rw ? 0.5 : 0;
                    pairs++;
                }
            }
        }
        return new PairAccuracy(pairs == 0 ? double.NaN : agree / pairs, pairs);
    }

    /// <summary>
    /// The strategy with the highest binned R² (the paper's criterion), and whether its interval overlaps the runner-up's
    /// (when it does, the data do not separate them). Null when no strategy has a defined binned R².
    /// </summary>
    public static (StrategyR2 Best, StrategyR2? RunnerUp, bool Overlaps)? Recommend(IReadOnlyList<StrategyR2> results)
    {
        StrategyR2[] ranked = results.Where(r => !double.IsNaN(r.Binned.Fit.R2)).OrderByDescending(r => r.Binned.Fit.R2).ToArray();
        if (ranked.Length == 0)
        {
            return null;
        }
        StrategyR2? second = ranked.Length > 1 ? ranked[1] : null;
        bool overlaps = second is not null && !(ranked[0].BinnedInterval.Low > second.BinnedInterval.High);
        return (ranked[0], second, overlaps);
    }

    /// <summary>
    /// r2.json: <c>{"bins", "mode", "seed", "strategies": {name: {"kept", "per_response": {...}, "binned": {...}}}}</c>; undefined R² is
    /// null with a reason. <paramref name="extra"/>'s fields (timings, pair accuracy) are added at the top level.
    /// </summary>
    public static void WriteJson(string path, IReadOnlyList<StrategyR2> results, int bins, FiltrationMode mode, int seed, JsonObject? extra = null)
    {
        JsonObject strategies = StrategiesJson(results);
        var json = new JsonObject { ["bins"] = bins, ["mode"] = mode.ToString().ToLowerInvariant(), ["seed"] = seed, ["strategies"] = strategies };
        foreach ((string key, JsonNode? value) in extra ?? [])
        {
            json[key] = value?.DeepClone();
        }
        AtomicFile.WriteAllText(path, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The <c>strategies</c> object of r2.json for <paramref name="results"/> (what the demo's summary.json carries).</summary>
    public static JsonObject StrategiesJson(IReadOnlyList<StrategyR2> results)
    {
        var strategies = new JsonObject();
        foreach (StrategyR2 r in results)
        {
            strategies[r.Strategy] = StrategyJson(r);
        }
        return strategies;
    }

    private static JsonObject StrategyJson(StrategyR2 r) => new()
    {
        ["kept"] = r.Kept,
        ["per_response"] = Fit(r.PerResponse, r.PerResponseInterval),
        ["binned"] = Fit(r.Binned.Fit, r.BinnedInterval),
        ["bins"] = new JsonArray(r.Binned.Bins.Select(b => (JsonNode?)new JsonObject
        {
            ["count"] = b.Count, ["mean_reward"] = b.MeanReward, ["mean_score"] = b.MeanScore, ["min_reward"] = b.MinReward, ["max_reward"] = b.MaxReward,
        }).ToArray()),
    };

    private static JsonObject Fit(R2Fit fit, R2Interval interval)
    {
        var node = new JsonObject
        {
            ["r2"] = Number(fit.R2), ["ci_low"] = Number(interval.Low), ["ci_high"] = Number(interval.High), ["points"] = fit.Points,
            ["slope"] = Number(fit.Slope), ["bootstrap_valid"] = interval.Valid, ["bootstrap_replicates"] = interval.Replicates,
        };
        if (fit.Undefined is not null)
        {
            node["undefined"] = fit.Undefined;
        }
        return node;
    }

    private static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
