using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace PfPpo.Compare;

/// <summary>compare.txt: compare.json as two plain-text tables shaped like the paper's Tables 2 and 3.</summary>
public static class ComparisonTable
{
    public static string Format(JsonObject compare)
    {
        JsonObject methods = compare["methods"]!.AsObject();
        int seeds = compare["seeds"]!.AsArray().Count;
        string[] levels = methods.Select(m => m.Value!["by_difficulty"]!.AsObject()).SelectMany(d => d.Select(kv => kv.Key)).Distinct().Order(StringComparer.Ordinal).ToArray();
        string[] extras = methods.Select(m => m.Value!["extra"]!.AsObject()).SelectMany(d => d.Select(kv => kv.Key)).Distinct().Order(StringComparer.Ordinal).ToArray();

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Table 2: greedy pass@1 (%) on the test split, mean [95% interval] over {seeds} seed(s); final checkpoint unless marked\n");
        string[] header = ["method", "pass@1 final", "best-on-validation", .. levels.Select(l => $"level {l}"), .. extras, "vs PPO-M", "vs SFT", "seconds", "samples"];
        var rows = new List<string[]>();
        foreach ((string name, JsonNode? node) in methods)
        {
            rows.Add([
                name, Interval(node!["pass_at_1"]), Interval(node["best_val_pass_at_1"]),
                .. levels.Select(l => Interval(node["by_difficulty"]![l])), .. extras.Select(e => Interval(node["extra"]![e])),
                Interval(node["vs_ppo_m"], signed: true), Interval(node["vs_sft"], signed: true),
                node["seconds"]!.GetValue<double>().ToString("F0", CultureInfo.InvariantCulture),
                node["samples_trained"]!.GetValue<double>().ToString("F0", CultureInfo.InvariantCulture),
            ]);
        }
        AppendTable(text, header, rows);

        var filtration = methods.Where(m => m.Value!["r2"] is JsonValue).ToArray();
        if (filtration.Length > 0)
        {
            text.Append("\nTable 3: filtration strategies, binned R² of the SFT policy's calibration rollout beside pass@1 (%)\n");
            AppendTable(text, ["method", "filter", "R²", "pass@1 final"], filtration.Select(m => new[]
            {
                m.Key, m.Value!["filter"]?.GetValue<string>() ?? "", m.Value["r2"]!.GetValue<double>().ToString("F3", CultureInfo.InvariantCulture),
                Interval(m.Value["pass_at_1"]),
            }).ToList());
            if (compare["r2_rank_correlation"] is JsonObject rho)
            {
                text.Append(CultureInfo.InvariantCulture,
                    $"Spearman rank correlation of R² and pass@1 over {rho["strategies"]!.AsArray().Count} strategies: {Number(rho["spearman"], "F2")} [{Number(rho["ci_low"], "F2")}, {Number(rho["ci_high"], "F2")}] (bootstrap over seeds)\n");
            }
            else
            {
                text.Append("Rank correlation: needs at least three filtration strategies with a defined R².\n");
            }
        }
        return text.ToString();
    }

    /// <summary>"47.5 [45.0, 50.0]" in percent (signed for differences); "-" when absent; the mean alone without an interval.</summary>
    public static string Interval(JsonNode? interval, bool signed = false)
    {
        if (interval is not JsonObject value)
        {
            return "-";
        }
        string format = signed ? "+0.0;-0.0;0.0" : "0.0";
        string P(JsonNode? x) => (x!.GetValue<double>() * 100).ToString(format, CultureInfo.InvariantCulture);
        return value["ci_low"] is null ? P(value["mean"]) : $"{P(value["mean"])} [{P(value["ci_low"])}, {P(value["ci_high"])}]";
    }

    private static string Number(JsonNode? value, string format) => value is null ? "-" : value.GetValue<double>().ToString(format, CultureInfo.InvariantCulture);

    private static void AppendTable(StringBuilder text, string[] header, List<string[]> rows)
    {
        int[] widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        void Line(string[] cells) => text.AppendJoin("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).Append('\n');
        Line(header);
        text.AppendJoin("  ", widths.Select(w => new string('-', w))).Append('\n');
        rows.ForEach(Line);
    }
}
