using System.Text.Json;
using PfPpo.Filtration;
using PfPpo.IO;
using PfPpo.Rewards;
using PfPpo.Rollouts;

namespace PfPpo.Reports;

/// <summary>
/// An R² analysis read back from its folder (what <c>pfppo r2</c> and the demo's r2 stage write, <see cref="R2Run"/>):
/// r2.json's numbers as <see cref="StrategyR2"/> records, and, when samples.jsonl lies beside it with rewards, every
/// rewarded response (the reliability curve's points) with each strategy's kept points.
/// </summary>
/// <param name="All">Every rewarded response with a verdict, or null when samples.jsonl is missing or carries no rewards.</param>
/// <param name="Note">Why the reliability curve cannot be drawn (null when it can).</param>
public sealed record R2Results(string JsonPath, int Bins, FiltrationMode Mode, int Seed, IReadOnlyList<StrategyR2> Strategies,
    PairAccuracy? PairAccuracy, long? Samples, long? Prompts, IReadOnlyList<RewardScore>? All, string? Note)
{
    /// <summary>
    /// Reads r2.json and, when samples.jsonl lies beside it, recomputes which responses each strategy keeps from the samples,
    /// the strategies, the mode and the seed that r2.json records (the filtration is deterministic given the seed; the
    /// bootstrap is not rerun: the intervals are r2.json's). Kept counts that disagree with r2.json mean the samples are not
    /// the ones analysed: the curve is then drawn without the strategies' shares, and <see cref="Note"/> says so.
    /// </summary>
    public static R2Results Read(string jsonPath)
    {
        using JsonDocument document = ReportJson.Read(jsonPath);
        JsonElement root = document.RootElement;
        string where = $"{jsonPath}: $";
        int bins = (int)(ReportJson.Integer(root, "bins", where) ?? throw new DataFormatException($"{where}: missing field \"bins\""));
        string mode = ReportJson.Text(root, "mode", where) ?? "drop";
        FiltrationMode filtration = mode switch
        {
            "drop" => FiltrationMode.Drop,
            "weight" => FiltrationMode.Weight,
            _ => throw new DataFormatException($"{where}.mode must be \"drop\" or \"weight\", not \"{mode}\""),
        };
        int seed = (int)(ReportJson.Integer(root, "seed", where) ?? 0);
        StrategyR2[] strategies = ReportJson.Properties(ReportJson.Required(root, "strategies", where), $"{where}.strategies")
            .Select(p => Strategy(p.Name, p.Value, $"{where}.strategies.{p.Name}")).ToArray();
        PairAccuracy? pairs = ReportJson.Field(root, "pair_accuracy", where) is JsonElement pa
            ? new PairAccuracy(ReportJson.Number(pa, "accuracy", $"{where}.pair_accuracy") ?? double.NaN,
                (int)(ReportJson.Integer(pa, "pairs", $"{where}.pair_accuracy") ?? 0))
            : null;
        var result = new R2Results(jsonPath, bins, filtration, seed, strategies, pairs, ReportJson.Integer(root, "samples", where),
            ReportJson.Integer(root, "prompts", where), null, null);
        return result.WithSamples(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!, R2Run.SamplesFile));
    }

    private R2Results WithSamples(string samplesPath)
    {
        if (!File.Exists(samplesPath))
        {
            return this with { Note = $"no reliability curve: {samplesPath} (the rewarded samples) is missing" };
        }
        IReadOnlyList<ScoredSample> samples = ScoredSamples.Read(samplesPath);
        if (samples.Count == 0 || samples.Any(s => s.Reward is null))
        {
            return this with { Note = $"no reliability curve: {samplesPath} has samples without a reward" };
        }
        RewardScore[] all = samples.Where(ScoredSamples.HasVerdict).Select(s => new RewardScore(s.Reward!.Value, s.Score)).ToArray();
        if (all.Length == 0)
        {
            return this with { Note = $"no reliability curve: no sample of {samplesPath} has a sandbox verdict" };
        }
        FiltrationStrategy[] parsed = Strategies.Select(s => Parse(s.Strategy)).ToArray();
        IReadOnlyList<StrategyR2> kept = R2Analysis.Run(samples, parsed, Bins, Mode, Seed, replicates: 1);
        if (kept.Select(k => k.Kept).SequenceEqual(Strategies.Select(s => s.Kept)))
        {
            return this with { All = all, Strategies = Strategies.Zip(kept, (s, k) => s with { Points = k.Points }).ToArray() };
        }
        return this with { All = all, Note = $"{samplesPath} does not give the kept counts of {JsonPath}; the strategies' kept shares are left out" };
    }

    private FiltrationStrategy Parse(string strategy)
    {
        try
        {
            return FiltrationStrategy.Parse(strategy);
        }
        catch (FormatException e)
        {
            throw new DataFormatException($"{JsonPath}: strategy {e.Message}", e);
        }
    }

    private static StrategyR2 Strategy(string name, JsonElement strategy, string where)
    {
        (R2Fit perResponse, R2Interval perResponseInterval) = Fit(ReportJson.Required(strategy, "per_response", where), $"{where}.per_response");
        (R2Fit binned, R2Interval binnedInterval) = Fit(ReportJson.Required(strategy, "binned", where), $"{where}.binned");
        RewardBin[] bins = ReportJson.Field(strategy, "bins", where) is JsonElement list
            ? ReportJson.Items(list, $"{where}.bins").Select((b, i) =>
            {
                string at = $"{where}.bins[{i}]";
                double Get(string field) => ReportJson.Number(b, field, at) ?? double.NaN;
                int count = (int)(ReportJson.Integer(b, "count", at) ?? 0);
                return new RewardBin(count, count, Get("mean_reward"), Get("mean_score"), Get("min_reward"), Get("max_reward"));
            }).ToArray()
            : [];
        return new StrategyR2(name, (int)(ReportJson.Integer(strategy, "kept", where) ?? 0), perResponse, perResponseInterval,
            new BinnedR2(binned, bins), binnedInterval);
    }

    private static (R2Fit Fit, R2Interval Interval) Fit(JsonElement fit, string where)
    {
        double Get(string field) => ReportJson.Number(fit, field, where) ?? double.NaN;
        int Count(string field) => (int)(ReportJson.Integer(fit, field, where) ?? 0);
        return (new R2Fit(Get("r2"), Get("slope"), Get("intercept"), Count("points"), ReportJson.Text(fit, "undefined", where)),
            new R2Interval(Get("ci_low"), Get("ci_high"), Count("bootstrap_replicates"), Count("bootstrap_valid")));
    }
}
