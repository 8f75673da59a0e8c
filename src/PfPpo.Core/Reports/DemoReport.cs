using System.Globalization;

namespace PfPpo.Reports;

/// <summary>The report of a <c>pfppo demo</c> folder (<see cref="HtmlReport"/>).</summary>
internal static class DemoReport
{
    public static string Build(DemoRun run)
    {
        var page = new HtmlPage();
        string test = run.TestTasks is long n ? $"the {n} held-out test tasks" : "the held-out test tasks";
        page.Heading(1, "PfPpo demo run");
        page.Facts(
        [
            ("command", "pfppo demo"), ("summary.json written", run.Written.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)),
            ("seed", run.Seed?.ToString(CultureInfo.InvariantCulture)), ("parameters", run.Parameters?.ToString("N0", CultureInfo.InvariantCulture)),
            ("sandbox isolation", run.Isolation), ("folder", Path.GetFullPath(run.Dir)), HtmlReport.Generated(),
        ]);

        page.Heading(2, "Results");
        page.Paragraph($"One run of one seed: greedy pass@1 on {test} of the SFT model and of the final actors of the two RL stages (no checkpoint " +
            "selection). A single run compares nothing: differences of a few points are within the run-to-run noise; compare methods over seeds with pfppo compare.");
        DemoRlStage[] rl = [run.PpoM, run.PfPpo];
        page.Table($"greedy pass@1 on {test} (one run)", ["method", "filter", "pass@1 (greedy)", "iterations", "samples trained", "seconds"],
        [
            ["SFT", "—", Cell(run.PassAt1), Dash(), Dash(), Dash()],
            .. rl.Select(s => (IReadOnlyList<HtmlCell>)
            [
                s.Stage == "ppo-m" ? "PPO-M" : "PF-PPO", s.Filter ?? "—", Cell(s.PassAt1),
                new HtmlCell(s.Iterations?.ToString(CultureInfo.InvariantCulture) ?? "—", Number: true),
                new HtmlCell(s.SamplesTrained?.ToString("N0", CultureInfo.InvariantCulture) ?? "—", Number: true),
                new HtmlCell(s.Seconds is double sec ? HtmlReport.Number(sec, "F1") : "—", Number: true),
            ]),
        ], id: "summary");
        var other = new List<IReadOnlyList<HtmlCell>>();
        other.AddRange(run.Sampled.Select(s => (IReadOnlyList<HtmlCell>)[s.Label, Cell(s.Value)]));
        if (run.MixedFraction is double mixed)
        {
            other.Add(["mixed fraction (tasks with some but not all samples passing)", Cell(mixed)]);
        }
        if (run.RmTrained == false)
        {
            other.Add(["reward model", "untrained: rm-data gave no preference pair"]);
        }
        else if (run.RmAccuracy is double accuracy)
        {
            other.Add([$"RM held-out pair accuracy ({run.RmHeldOutPairs?.ToString(CultureInfo.InvariantCulture) ?? "?"} pairs)", Cell(accuracy)]);
        }
        if (other.Count > 0)
        {
            page.Table("the SFT model's samples and the reward model", ["measure", "value"], other, id: "measures");
        }
        var bars = new List<IntervalBar>();
        bars.AddRange(new[] { ("SFT", run.PassAt1), ("PPO-M", run.PpoM.PassAt1), ($"PF-PPO ({run.PfPpo.Filter ?? "?"})", run.PfPpo.PassAt1) }
            .Where(b => b.Item2 is not null).Select(b => new IntervalBar(b.Item1, b.Item2!.Value, double.NaN, double.NaN)));
        if (bars.Count > 0)
        {
            page.Figure(Plots.Bars(new PlotAxes("Greedy pass@1 on the held-out test tasks (one run)", "model", "pass@1"), [("final checkpoint", bars)]),
                "pass@1 by model",
                $"Greedy pass@1 on {test} of the SFT model and of the final checkpoints of PPO-M and PF-PPO. One run of one seed, so no error bars: " +
                "the spread over seeds is not measured here.");
        }

        page.Heading(2, "Stage times");
        page.Table("seconds per stage", ["stage", "seconds", "reused"],
            [
                .. run.StageSeconds.Select(s => (IReadOnlyList<HtmlCell>)[s.Stage, new HtmlCell(HtmlReport.Number(s.Seconds, "F1"), Number: true), s.Reused ? "reused" : ""]),
                ["total", new HtmlCell(run.TotalSeconds is double t ? HtmlReport.Number(t, "F1") : "—", Number: true), ""],
            ],
            id: "stages");

        page.Heading(2, "R² analysis");
        if (File.Exists(run.R2Json))
        {
            R2Results r2 = R2Results.Read(run.R2Json);
            HtmlReport.R2Section(page, r2, $"{r2.Samples?.ToString(CultureInfo.InvariantCulture) ?? "the"} samples of the SFT model on {test}");
        }
        else
        {
            page.Note($"no R² analysis: {run.R2Json} is missing");
        }

        page.Heading(2, "Training curves of the RL stages");
        var curves = rl.Where(s => File.Exists(run.MetricsOf(s.Stage)))
            .Select(s => (Label: s.Stage == "ppo-m" ? "PPO-M" : $"PF-PPO ({s.Filter ?? "?"})", Runs: (IReadOnlyList<RunCurves>)[TrainingCurves.Read(run.MetricsOf(s.Stage))]))
            .ToArray();
        if (curves.Length == 0)
        {
            page.Note($"no training curves: neither {run.MetricsOf("ppo-m")} nor {run.MetricsOf("pf-ppo")} exists");
        }
        else
        {
            HtmlReport.TrainingFigures(page, curves, "one run each, a point per iteration");
        }
        return page.Render("PfPpo demo run");
    }

    private static HtmlCell Cell(double? value) => new(value is double v ? HtmlReport.Fraction(v) : "—", Number: true);

    private static HtmlCell Dash() => new("—", Number: true);
}
