using System.Text.Json;
using PfPpo.IO;

namespace PfPpo.Reports;

/// <summary>A statistic over seeds as compare.json writes it: the mean, its 95% interval over seeds, and the value of each seed.</summary>
/// <param name="Low">Lower bound of the interval (NaN when compare.json gives none).</param>
public sealed record SeedStat(double Mean, double Low, double High, IReadOnlyList<double> PerSeed);

/// <summary>One method of a comparison (a row of the Table-2-shaped table).</summary>
/// <param name="Kind">sft, ppo, dpo, ... as compare.json names it.</param>
/// <param name="Filter">The filtration strategy of a PPO method (null: none, PPO-M, or not a PPO method).</param>
/// <param name="BestValidation">pass@1 of the checkpoint best on the validation problems, or null.</param>
/// <param name="ByDifficulty">pass@1 by difficulty level, in compare.json's order.</param>
/// <param name="Extra">pass@1 on each extra problem file, in compare.json's order.</param>
/// <param name="R2">Binned R² of the method's filtration strategy, or null.</param>
public sealed record MethodResult(string Name, string? Kind, string? Filter, SeedStat? PassAt1, SeedStat? BestValidation,
    IReadOnlyList<KeyValuePair<string, SeedStat>> ByDifficulty, IReadOnlyList<KeyValuePair<string, SeedStat>> Extra, SeedStat? VsPpoM,
    SeedStat? VsSft, double? R2, double? Seconds, double? SamplesTrained);

/// <summary>Spearman's rank correlation of R² with pass@1 over <paramref name="Strategies"/> (method names), with its interval.</summary>
public sealed record RankCorrelation(double Spearman, double Low, double High, IReadOnlyList<string> Strategies);

/// <summary>
/// A folder written by <c>pfppo compare</c>: <c>compare.json</c> (the aggregate over seeds), <c>runs/METHOD/seed-S/</c> (each
/// run's summary.json and train/metrics.jsonl) and <c>shared/</c> (the SFT model, the reward model, the R² analysis).
/// </summary>
/// <param name="R2Json">Path of the shared R² analysis's r2.json (from compare.json's <c>shared.r2_json</c>, relative to the folder).</param>
public sealed record ComparisonRun(string Dir, string? Created, string? Command, string? Preset, IReadOnlyList<long> Seeds, string? Machine,
    long? TestProblems, long? ValidationProblems, double? RmAccuracy, IReadOnlyList<KeyValuePair<string, string>> Shared, string R2Json,
    IReadOnlyList<MethodResult> Methods, RankCorrelation? RankCorrelation)
{
    public const string FileName = "compare.json";
    public const string DefaultR2Json = "shared/r2/r2.json";

    /// <summary>The runs of one method, seed by seed: <c>runs/METHOD/seed-S</c> folders that exist, in seed order.</summary>
    public IReadOnlyList<(long Seed, string Dir)> SeedRuns(string method) => Seeds
        .Select(seed => (seed, Path.Combine(Dir, "runs", method, $"seed-{seed}")))
        .Where(run => Directory.Exists(run.Item2))
        .ToArray();

    public static ComparisonRun Read(string dir)
    {
        string path = Path.Combine(dir, FileName);
        using JsonDocument document = ReportJson.Read(path);
        JsonElement root = document.RootElement;
        string where = $"{path}: $";
        JsonElement? shared = ReportJson.Field(root, "shared", where);
        var sharedFields = shared is JsonElement s
            ? ReportJson.Properties(s, $"{where}.shared").Where(p => p.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Null))
                .Select(p => KeyValuePair.Create(p.Name, ReportJson.Text(s, p.Name, $"{where}.shared")!)).ToArray()
            : [];
        string r2Json = (shared is JsonElement sh ? ReportJson.Text(sh, "r2_json", $"{where}.shared") : null) ?? DefaultR2Json;
        JsonElement methods = ReportJson.Required(root, "methods", where);
        MethodResult[] results = ReportJson.Properties(methods, $"{where}.methods")
            .Select(m => Method(m.Name, m.Value, $"{where}.methods.{m.Name}")).ToArray();
        if (results.Length == 0)
        {
            throw new DataFormatException($"{where}.methods holds no method");
        }
        return new ComparisonRun(dir, ReportJson.Text(root, "created", where), ReportJson.Text(root, "command", where),
            ReportJson.Text(root, "preset", where), ReadSeeds(root, where), ReportJson.Text(root, "machine", where),
            ReportJson.Integer(root, "test_problems", where), ReportJson.Integer(root, "validation_problems", where),
            shared is JsonElement a ? ReportJson.Number(a, "rm_accuracy", $"{where}.shared") : null, sharedFields,
            Path.Combine(dir, r2Json), results, Correlation(root, where));
    }

    private static IReadOnlyList<long> ReadSeeds(JsonElement root, string where) => ReportJson.Field(root, "seeds", where) is JsonElement seeds
        ? ReportJson.Items(seeds, $"{where}.seeds").Select((seed, i) => seed.ValueKind == JsonValueKind.Number && seed.TryGetInt64(out long value)
            ? value
            : throw new DataFormatException($"{where}.seeds[{i}] must be an integer, not {seed.GetRawText()}")).ToArray()
        : [];

    private static MethodResult Method(string name, JsonElement method, string where) => new(name,
        ReportJson.Text(method, "kind", where), ReportJson.Text(method, "filter", where),
        Stat(method, "pass_at_1", where), Stat(method, "best_val_pass_at_1", where),
        Stats(method, "by_difficulty", where), Stats(method, "extra", where),
        Stat(method, "vs_ppo_m", where), Stat(method, "vs_sft", where),
        ReportJson.Number(method, "r2", where), ReportJson.Number(method, "seconds", where), ReportJson.Number(method, "samples_trained", where));

    private static IReadOnlyList<KeyValuePair<string, SeedStat>> Stats(JsonElement method, string name, string where) =>
        ReportJson.Field(method, name, where) is JsonElement group
            ? ReportJson.Properties(group, $"{where}.{name}").Where(p => p.Value.ValueKind != JsonValueKind.Null)
                .Select(p => KeyValuePair.Create(p.Name, Stat(group, p.Name, $"{where}.{name}")!)).ToArray()
            : [];

    private static SeedStat? Stat(JsonElement parent, string name, string where)
    {
        if (ReportJson.Field(parent, name, where) is not JsonElement stat)
        {
            return null;
        }
        string at = $"{where}.{name}";
        double mean = ReportJson.Number(stat, "mean", at) ?? throw new DataFormatException($"{at}: missing field \"mean\"");
        double[] perSeed = ReportJson.Field(stat, "per_seed", at) is JsonElement seeds
            ? ReportJson.Items(seeds, $"{at}.per_seed").Select((v, i) => v.ValueKind == JsonValueKind.Null ? double.NaN : ReportJson.AsNumber(v, $"{at}.per_seed[{i}]")).ToArray()
            : [];
        return new SeedStat(mean, ReportJson.Number(stat, "ci_low", at) ?? double.NaN, ReportJson.Number(stat, "ci_high", at) ?? double.NaN, perSeed);
    }

    private static RankCorrelation? Correlation(JsonElement root, string where)
    {
        if (ReportJson.Field(root, "r2_rank_correlation", where) is not JsonElement c)
        {
            return null;
        }
        string at = $"{where}.r2_rank_correlation";
        string[] strategies = ReportJson.Field(c, "strategies", at) is JsonElement list
            ? ReportJson.Items(list, $"{at}.strategies").Select((v, i) => v.ValueKind == JsonValueKind.String
                ? v.GetString()!
                : throw new DataFormatException($"{at}.strategies[{i}] must be a string, not {v.GetRawText()}")).ToArray()
            : [];
        return new RankCorrelation(ReportJson.Number(c, "spearman", at) ?? double.NaN, ReportJson.Number(c, "ci_low", at) ?? double.NaN,
            ReportJson.Number(c, "ci_high", at) ?? double.NaN, strategies);
    }
}
