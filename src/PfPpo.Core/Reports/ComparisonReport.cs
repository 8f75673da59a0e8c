using System.Globalization;
using System.Text.Json;

namespace PfPpo.Reports;

/// <summary>The report of a <c>pfppo compare</c> folder (<see cref="HtmlReport"/>).</summary>
internal static class ComparisonReport
{
    public static string Build(ComparisonRun run)
    {
        var page = new HtmlPage();
        string seeds = run.Seeds.Count == 0 ? "no seeds listed" : $"{run.Seeds.Count} seeds ({string.Join(", ", run.Seeds)})";
        string test = run.TestProblems is long n ? $"the {n} held-out test problems" : "the held-out test problems";
        page.Heading(1, "PfPpo comparison" + (run.Preset is string preset ? $" ({preset})" : ""));
        page.Facts(
        [
            ("command", run.Command), ("created", run.Created), ("machine", run.Machine), ("preset", run.Preset),
            ("seeds", run.Seeds.Count == 0 ? null : string.Join(", ", run.Seeds)),
            ("test problems", run.TestProblems?.ToString(CultureInfo.InvariantCulture)),
            ("validation problems", run.ValidationProblems?.ToString(CultureInfo.InvariantCulture)),
            ("RM held-out pair accuracy", run.RmAccuracy is double a ? HtmlReport.Fraction(a) : null),
            .. run.Shared.Where(kv => kv.Key != "rm_accuracy").Select(kv => ($"shared {kv.Key}", (string?)kv.Value)),
            ("folder", Path.GetFullPath(run.Dir)), HtmlReport.Generated(),
        ]);

        // Table 2: every method
        page.Heading(2, "Methods (Table 2)");
        page.Paragraph($"Greedy pass@1 (fraction of problems solved) on {test}: the mean over {seeds} and its 95% interval over seeds in brackets, " +
            "as compare.json gives them (hover a cell for the value of each seed). \"final\" is the last checkpoint; \"best on validation\" the checkpoint " +
            "with the best pass@1 on the validation problems. vs PPO-M and vs SFT are compare.json's differences in pass@1 against those methods, with their 95% intervals over seeds.");
        string[] difficulties = run.Methods.SelectMany(m => m.ByDifficulty.Select(kv => kv.Key)).Distinct().ToArray();
        string[] extras = run.Methods.SelectMany(m => m.Extra.Select(kv => kv.Key)).Distinct().ToArray();
        page.Table($"pass@1 by method (mean [95% CI] over {seeds})",
            ["method", "kind", "filter", "pass@1 final", "pass@1 best on validation", .. difficulties.Select(d => $"difficulty {d}"), .. extras,
             "vs PPO-M", "vs SFT", "seconds", "samples trained"],
            run.Methods.Select(m => (IReadOnlyList<HtmlCell>)
            [
                m.Name, m.Kind ?? "—", m.Filter ?? "—", HtmlReport.StatCell(m.PassAt1, run.Seeds), HtmlReport.StatCell(m.BestValidation, run.Seeds),
                .. difficulties.Select(d => HtmlReport.StatCell(Lookup(m.ByDifficulty, d), run.Seeds)),
                .. extras.Select(e => HtmlReport.StatCell(Lookup(m.Extra, e), run.Seeds)),
                HtmlReport.StatCell(m.VsPpoM, run.Seeds, signed: true), HtmlReport.StatCell(m.VsSft, run.Seeds, signed: true),
                new HtmlCell(m.Seconds is double s ? HtmlReport.Number(s, "F1") : "—", Number: true),
                new HtmlCell(m.SamplesTrained?.ToString("N0", CultureInfo.InvariantCulture) ?? "—", Number: true),
            ]),
            id: "methods");
        PassAt1Figure(page, run, test, seeds);
        PerSeedTable(page, run);

        // Table 3: filtration strategies, R² beside pass@1
        R2Results? r2 = File.Exists(run.R2Json) ? R2Results.Read(run.R2Json) : null;
        StrategiesSection(page, run, r2, seeds);
        page.Heading(2, "R² analysis of the shared reward model");
        if (r2 is null)
        {
            page.Note($"no R² analysis: {run.R2Json} is missing");
        }
        else
        {
            HtmlReport.R2Section(page, r2, $"{r2.Samples?.ToString(CultureInfo.InvariantCulture) ?? "the"} samples of the SFT model on {r2.Prompts?.ToString(CultureInfo.InvariantCulture) ?? "the"} prompts");
        }

        // Training curves
        page.Heading(2, "Training curves");
        var methods = run.Methods
            .Select(m => (Label: m.Name, Runs: (IReadOnlyList<RunCurves>)run.SeedRuns(m.Name)
                .Select(r => Path.Combine(r.Dir, "train", "metrics.jsonl")).Where(File.Exists).Select(TrainingCurves.Read).ToArray()))
            .Where(m => m.Runs.Count > 0)
            .ToArray();
        if (methods.Length == 0)
        {
            page.Note($"no training curves: no {Path.Combine(run.Dir, "runs", "METHOD", "seed-S", "train", "metrics.jsonl")} was found");
        }
        else
        {
            HtmlReport.TrainingFigures(page, methods,
                "each line is the mean over the method's seeds at each step (runs: " + string.Join(", ", methods.Select(m => $"{m.Label} {m.Runs.Count}")) + ")");
        }
        return page.Render("PfPpo comparison" + (run.Preset is string p ? $" ({p})" : ""));
    }

    private static SeedStat? Lookup(IReadOnlyList<KeyValuePair<string, SeedStat>> stats, string key) =>
        stats.FirstOrDefault(kv => kv.Key == key).Value;

    private static void PassAt1Figure(HtmlPage page, ComparisonRun run, string test, string seeds)
    {
        IntervalBar[] final = run.Methods.Where(m => m.PassAt1 is not null)
            .Select(m => new IntervalBar(m.Name, m.PassAt1!.Mean, m.PassAt1.Low, m.PassAt1.High)).ToArray();
        IntervalBar[] best = run.Methods.Where(m => m.BestValidation is not null)
            .Select(m => new IntervalBar(m.Name, m.BestValidation!.Mean, m.BestValidation.Low, m.BestValidation.High)).ToArray();
        if (final.Length == 0 && best.Length == 0)
        {
            return;
        }
        var series = new List<(string, IReadOnlyList<IntervalBar>)> { ("final checkpoint", final) };
        if (best.Length > 0)
        {
            series.Add(("best on validation", best));
        }
        page.Figure(Plots.Bars(new PlotAxes("Greedy pass@1 by method (mean over seeds, 95% interval over seeds)", "method", "pass@1"), series),
            "pass@1 by method",
            $"Greedy pass@1 on {test} by method, the mean over {seeds}: the final checkpoint" +
            (best.Length > 0 ? " and the checkpoint best on the validation problems (second bar)" : "") +
            ". Error bars: the 95% interval over seeds from compare.json.");
    }

    /// <summary>Each run's own summary.json (eval_pass_at_1 and, when written, best_eval_pass_at_1), seed by seed.</summary>
    private static void PerSeedTable(HtmlPage page, ComparisonRun run)
    {
        var rows = new List<IReadOnlyList<HtmlCell>>();
        foreach (MethodResult method in run.Methods)
        {
            foreach ((long seed, string dir) in run.SeedRuns(method.Name))
            {
                string path = Path.Combine(dir, "summary.json");
                if (!File.Exists(path))
                {
                    continue;
                }
                using JsonDocument summary = ReportJson.Read(path);
                string where = $"{path}: $";
                rows.Add([method.Name, new HtmlCell(seed.ToString(CultureInfo.InvariantCulture), Number: true),
                    Cell(ReportJson.Number(summary.RootElement, "eval_pass_at_1", where)),
                    Cell(ReportJson.Number(summary.RootElement, "best_eval_pass_at_1", where))]);
            }
        }
        if (rows.Count > 0)
        {
            page.Table("pass@1 of each run (runs/METHOD/seed-S/summary.json)", ["method", "seed", "pass@1 final", "pass@1 best on validation"], rows, id: "per-seed");
        }

        static HtmlCell Cell(double? value) => new(value is double v ? HtmlReport.Fraction(v) : "—", Number: true);
    }

    /// <summary>Table 3: the methods with a filtration strategy, R² (binned, from r2.json) beside pass@1, and the rank correlation.</summary>
    private static void StrategiesSection(HtmlPage page, ComparisonRun run, R2Results? r2, string seeds)
    {
        // compare.json gives R² only to the filtration rows (PPO runs that differ only in their filter); GRPO, PPO-S or the
        // execution-reward row also have kind "ppo" and filter "none" but are not strategies of Table 3
        MethodResult[] rows = run.Methods.Where(m => m.R2 is not null || (run.RankCorrelation?.Strategies.Contains(m.Name) ?? false)).ToArray();
        if (rows.Length == 0)
        {
            return;
        }
        page.Heading(2, "Filtration strategies: R² beside pass@1 (Table 3)");
        page.Table($"R² of each strategy's kept responses (binned) and pass@1 (mean [95% CI] over {seeds})",
            ["method", "filter", "R² binned", "R² binned [95% CI] (r2.json)", "R² per response [95% CI] (r2.json)", "pass@1 final", "pass@1 best on validation"],
            rows.Select(m =>
            {
                Rewards.StrategyR2? strategy = StrategyOf(m, r2);
                return (IReadOnlyList<HtmlCell>)
                [
                    m.Name, StrategyName(m) ?? "—", new HtmlCell(m.R2 is double v ? HtmlReport.Fraction(v) : "—", Number: true),
                    strategy is null ? new HtmlCell("—", Number: true) : HtmlReport.FitCell(strategy.Binned.Fit, strategy.BinnedInterval),
                    strategy is null ? new HtmlCell("—", Number: true) : HtmlReport.FitCell(strategy.PerResponse, strategy.PerResponseInterval),
                    HtmlReport.StatCell(m.PassAt1, run.Seeds), HtmlReport.StatCell(m.BestValidation, run.Seeds),
                ];
            }),
            id: "strategies");
        if (run.RankCorrelation is RankCorrelation c)
        {
            page.Paragraph($"Spearman rank correlation of R² with pass@1 over {string.Join(", ", c.Strategies)}: {HtmlReport.Signed(c.Spearman)}" +
                (double.IsNaN(c.Low) || double.IsNaN(c.High) ? "" : $" (95% interval {HtmlReport.Signed(c.Low)} to {HtmlReport.Signed(c.High)})") +
                ". A positive value means the strategies the reward model supports better (higher R²) trained better policies, as the paper claims.");
        }
        ScatterPoint[] points = rows.Where(m => m.PassAt1 is not null && (m.R2 ?? StrategyOf(m, r2)?.Binned.Fit.R2) is double x && double.IsFinite(x))
            .Select(m =>
            {
                Rewards.StrategyR2? strategy = StrategyOf(m, r2);
                double x = m.R2 ?? strategy!.Binned.Fit.R2;
                // r2.json's interval belongs to this R² only when compare.json's value is r2.json's (to its 3 decimals)
                bool same = strategy is not null && Math.Abs(strategy.Binned.Fit.R2 - x) <= 5e-4;
                return new ScatterPoint(m.Name, x, m.PassAt1!.Mean, same ? strategy!.BinnedInterval.Low : double.NaN,
                    same ? strategy!.BinnedInterval.High : double.NaN, m.PassAt1.Low, m.PassAt1.High);
            })
            .ToArray();
        if (points.Length > 0)
        {
            page.Figure(Plots.Scatter(new PlotAxes("pass@1 (final) against binned R², by strategy", "binned R² of the strategy (shared reward model)", "greedy pass@1"), points),
                "R² against pass@1",
                $"Each filtration strategy's binned R² (x) against the greedy pass@1 of its final checkpoint (y, mean over {seeds}). " +
                "Vertical error bars: the 95% interval over seeds; horizontal: the 95% bootstrap interval of R² over prompts (r2.json, where its R² is compare.json's).");
        }
    }

    /// <summary>The strategy a method filters with, as r2.json names it: its filter, or none for an unfiltered PPO.</summary>
    private static string? StrategyName(MethodResult m) => m.Filter ?? (m.Kind == "ppo" ? "none" : null);

    private static Rewards.StrategyR2? StrategyOf(MethodResult m, R2Results? r2) =>
        StrategyName(m) is string name ? r2?.Strategies.FirstOrDefault(s => s.Strategy == name) : null;
}
