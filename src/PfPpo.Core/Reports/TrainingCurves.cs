using System.Text.Json;
using PfPpo.IO;

namespace PfPpo.Reports;

/// <summary>A metric a training curve can show, and the metrics.jsonl keys that carry it (the first one present is used).</summary>
public sealed record CurveMetric(string Name, string Axis, IReadOnlyList<string> Keys);

/// <summary>One run's curves: for each metric found, its (step, value) points in step order.</summary>
public sealed record RunCurves(string Path, IReadOnlyDictionary<string, IReadOnlyList<(double Step, double Value)>> Metrics);

/// <summary>
/// Training curves from metrics.jsonl (<see cref="Training.MetricsLogger"/>'s format: one object per line with an integer
/// <c>step</c> or <c>iteration</c>): reward, rollout pass rate, KL and loss, whichever are present; a value that is not a
/// number (a logged NaN is written as a string) is skipped.
/// </summary>
public static class TrainingCurves
{
    public static IReadOnlyList<CurveMetric> Metrics { get; } =
    [
        new("reward", "mean reward of the rollout (PPO: the normalised, clipped RM reward or the execution reward; BOND: the raw RM score)",
            ["reward_mean", "train/reward_mean"]),
        new("pass rate", "rollout pass rate (share of responses passing every test)", ["pass_rate", "rollout_pass_rate"]),
        new("KL", "KL to the reference policy (per sequence)", ["kl", "kl_mean", "train/kl"]),
        new("loss", "loss", ["loss", "train/loss"]),
    ];

    public static RunCurves Read(string path)
    {
        var points = Metrics.ToDictionary(m => m.Name, _ => new List<(double Step, double Value)>());
        foreach ((string where, JsonElement record) in JsonLines.Read(path))
        {
            if (record.ValueKind != JsonValueKind.Object)
            {
                throw new DataFormatException($"{where}: expected a JSON object (a metrics record)");
            }
            double step = (ReportJson.Integer(record, "step", where) ?? ReportJson.Integer(record, "iteration", where))
                ?? throw new DataFormatException($"{where}: no integer \"step\" or \"iteration\"");
            foreach (CurveMetric metric in Metrics)
            {
                if (metric.Keys.Select(k => ReportJson.Field(record, k, where)).FirstOrDefault(v => v is not null) is { ValueKind: JsonValueKind.Number } value)
                {
                    points[metric.Name].Add((step, value.GetDouble()));
                }
            }
        }
        return new RunCurves(path, points.Where(kv => kv.Value.Count > 0)
            .ToDictionary(kv => kv.Key, kv => (IReadOnlyList<(double, double)>)kv.Value.OrderBy(p => p.Step).ToArray()));
    }

    /// <summary>The mean over runs at each step that any of them logged (a step missing from a run averages the others).</summary>
    public static IReadOnlyList<(double Step, double Value)> MeanOverRuns(IEnumerable<IReadOnlyList<(double Step, double Value)>> runs) =>
        runs.SelectMany(r => r).GroupBy(p => p.Step).OrderBy(g => g.Key).Select(g => (g.Key, g.Average(p => p.Value))).ToArray();
}
