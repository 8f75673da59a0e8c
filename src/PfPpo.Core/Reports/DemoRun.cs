using System.Text.Json;

namespace PfPpo.Reports;

/// <summary>One RL stage of the demo (ppo-m or pf-ppo), from summary.json's <c>stages</c>.</summary>
public sealed record DemoRlStage(string Stage, double? PassAt1, string? Filter, long? Iterations, long? SamplesTrained, double? Seconds);

/// <summary>
/// A folder written by <c>pfppo demo</c> (<see cref="Pipeline.Demo"/>): summary.json, the R² analysis in r2/ and the two
/// RL stages' metrics in ppo-m/ and pf-ppo/. One run of one seed.
/// </summary>
/// <param name="PassAt1">Greedy pass@1 of the SFT model on the held-out test tasks.</param>
/// <param name="Sampled">pass@k of the sampled completions (k = 1 and the sample count), with labels.</param>
/// <param name="StageSeconds">Seconds per stage in pipeline order, and whether the stage was reused from an earlier run.</param>
public sealed record DemoRun(string Dir, DateTime Written, double? PassAt1, IReadOnlyList<(string Label, double Value)> Sampled, double? MixedFraction,
    IReadOnlyList<(string Stage, double Seconds, bool Reused)> StageSeconds, double? TotalSeconds, double? WallSeconds, double? RmAccuracy,
    long? RmHeldOutPairs, bool? RmTrained, long? Parameters, string? Isolation, long? Seed, long? TestTasks, DemoRlStage PpoM, DemoRlStage PfPpo)
{
    public const string SummaryFile = "summary.json";
    public const string StageSecondsField = "stage_seconds";
    public static readonly IReadOnlyList<string> RlStages = ["ppo-m", "pf-ppo"];

    public string R2Json => Path.Combine(Dir, "r2", Rewards.R2Run.JsonFile);

    public string MetricsOf(string stage) => Path.Combine(Dir, stage, "metrics.jsonl");

    public static DemoRun Read(string dir)
    {
        string path = Path.Combine(dir, SummaryFile);
        using JsonDocument document = ReportJson.Read(path);
        JsonElement root = document.RootElement;
        string where = $"{path}: $";
        long? samples = ReportJson.Integer(root, "samples", where);
        double? temperature = ReportJson.Number(root, "sample_temperature", where);
        string at = temperature is double t ? $" (T={HtmlReport.Number(t, "0.##")})" : "";
        var sampled = new List<(string, double)>();
        if (ReportJson.Number(root, "sampled_pass_at_1", where) is double p1)
        {
            sampled.Add(($"pass@1 of {samples?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "the"} samples per task{at}", p1));
        }
        foreach (JsonProperty property in ReportJson.Properties(root, where).Where(p => p.Name.StartsWith("pass_at_", StringComparison.Ordinal) && p.Name != "pass_at_1"))
        {
            sampled.Add(($"pass@{property.Name["pass_at_".Length..]} of those samples{at}", ReportJson.AsNumber(property.Value, $"{where}.{property.Name}")));
        }
        string[] reused = ReportJson.Field(root, "stages_reused", where) is JsonElement r
            ? ReportJson.Items(r, $"{where}.stages_reused").Select(s => s.GetString() ?? "").ToArray()
            : [];
        JsonElement seconds = ReportJson.Required(root, StageSecondsField, where);
        var stageSeconds = ReportJson.Properties(seconds, $"{where}.{StageSecondsField}")
            .Select(s => (s.Name, ReportJson.AsNumber(s.Value, $"{where}.{StageSecondsField}.{s.Name}"), reused.Contains(s.Name))).ToArray();
        JsonElement? stages = ReportJson.Field(root, "stages", where);
        JsonElement? settings = ReportJson.Field(root, "settings", where);
        return new DemoRun(dir, File.GetLastWriteTimeUtc(path), ReportJson.Number(root, "pass_at_1", where), sampled,
            ReportJson.Number(root, "mixed_fraction", where), stageSeconds, ReportJson.Number(root, "total_seconds", where),
            ReportJson.Number(root, "wall_seconds", where), ReportJson.Number(root, "rm_accuracy", where), ReportJson.Integer(root, "rm_held_out_pairs", where),
            ReportJson.Field(root, "rm_trained", where)?.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null },
            ReportJson.Integer(root, "parameters", where), ReportJson.Text(root, "isolation", where),
            settings is JsonElement s1 ? ReportJson.Integer(s1, "Seed", $"{where}.settings") : null,
            stages is JsonElement st && ReportJson.Field(st, "tasks", $"{where}.stages") is JsonElement tasks ? ReportJson.Integer(tasks, "test", $"{where}.stages.tasks") : null,
            Rl(stages, "ppo-m", ReportJson.Number(root, "ppo_m_pass_at_1", where), "none", where),
            Rl(stages, "pf-ppo", ReportJson.Number(root, "pf_ppo_pass_at_1", where), ReportJson.Text(root, "pf_ppo_filter", where), where));
    }

    private static DemoRlStage Rl(JsonElement? stages, string stage, double? passAt1, string? filter, string where)
    {
        if (stages is not JsonElement all || ReportJson.Field(all, stage, $"{where}.stages") is not JsonElement result)
        {
            return new DemoRlStage(stage, passAt1, filter, null, null, null);
        }
        string at = $"{where}.stages.{stage}";
        return new DemoRlStage(stage, passAt1 ?? ReportJson.Number(result, "pass_at1", at), filter ?? ReportJson.Text(result, "filter", at),
            ReportJson.Integer(result, "iterations", at), ReportJson.Integer(result, "samples_trained", at), ReportJson.Number(result, "seconds", at));
    }
}
