using System.Globalization;
using System.Text.Json;
using PfPpo.Filtration;
using PfPpo.IO;
using PfPpo.Rewards;

namespace PfPpo.Reports;

/// <summary>The two kinds of run folder a report reads.</summary>
public enum RunKind
{
    /// <summary><c>pfppo compare</c>'s folder: compare.json, runs/METHOD/seed-S/, shared/.</summary>
    Comparison,

    /// <summary><c>pfppo demo</c>'s folder: summary.json, r2/, ppo-m/, pf-ppo/.</summary>
    Demo,
}

/// <summary>
/// <c>pfppo report DIR</c>: DIR/report.html, one self-contained page (tables, figures embedded as PNG data URIs, inline
/// CSS, no script, nothing fetched) of a comparison run (<see cref="ComparisonRun"/>) or a demo run (<see cref="DemoRun"/>).
/// The figures are drawn with <see cref="Plots"/> and <see cref="R2Plots"/>, like every other figure of the project.
/// </summary>
public static class HtmlReport
{
    public const string FileName = "report.html";

    /// <summary>Builds the report of <paramref name="dir"/> and writes it atomically to DIR/report.html; returns its path.</summary>
    public static string Write(string dir)
    {
        string html = Build(dir);
        string path = Path.Combine(dir, FileName);
        AtomicFile.WriteAllText(path, html);
        return path;
    }

    public static string Build(string dir) => Detect(dir) switch
    {
        RunKind.Comparison => ComparisonReport.Build(ComparisonRun.Read(dir)),
        _ => DemoReport.Build(DemoRun.Read(dir)),
    };

    /// <summary>Which kind of run <paramref name="dir"/> holds; an error naming the folder and what was expected when neither.</summary>
    public static RunKind Detect(string dir)
    {
        const string Expected = "expected a run folder written by pfppo compare (with compare.json) or by pfppo demo (with summary.json)";
        if (File.Exists(dir))
        {
            throw new IOException($"{dir}: is a file, not a folder; {Expected}");
        }
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"{dir}: no such folder; {Expected}");
        }
        if (File.Exists(Path.Combine(dir, ComparisonRun.FileName)))
        {
            return RunKind.Comparison;
        }
        string summary = Path.Combine(dir, DemoRun.SummaryFile);
        if (!File.Exists(summary))
        {
            throw new FileNotFoundException(
                $"{dir}: holds neither a comparison run (no {ComparisonRun.FileName}, which pfppo compare writes) nor a demo run (no {DemoRun.SummaryFile}, which pfppo demo writes)");
        }
        using JsonDocument document = ReportJson.Read(summary);
        if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty(DemoRun.StageSecondsField, out _))
        {
            throw new DataFormatException(
                $"{dir}: holds neither a comparison run (no {ComparisonRun.FileName}) nor a demo run ({summary} has no \"{DemoRun.StageSecondsField}\": it is not the summary.json of pfppo demo)");
        }
        return RunKind.Demo;
    }

    // --- pieces both reports use ---

    internal static string Fraction(double value) => double.IsFinite(value) ? value.ToString("F3", CultureInfo.InvariantCulture) : "n/a";

    internal static string Signed(double value) => double.IsFinite(value) ? value.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture) : "n/a";

    internal static string Number(double value, string format) => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "n/a";

    /// <summary>"0.475 [0.470, 0.480]", the per-seed values as the cell's tooltip; a dash when absent.</summary>
    internal static HtmlCell StatCell(SeedStat? stat, IReadOnlyList<long> seeds, bool signed = false)
    {
        if (stat is null)
        {
            return new HtmlCell("—", Number: true);
        }
        Func<double, string> format = signed ? Signed : Fraction;
        string text = double.IsNaN(stat.Low) || double.IsNaN(stat.High)
            ? format(stat.Mean)
            : $"{format(stat.Mean)} [{format(stat.Low)}, {format(stat.High)}]";
        string? title = stat.PerSeed.Count == 0 ? null
            : "per seed" + (seeds.Count == stat.PerSeed.Count ? $" ({string.Join(", ", seeds)})" : "") + ": " + string.Join(", ", stat.PerSeed.Select(format));
        return new HtmlCell(text, title, Number: true);
    }

    internal static HtmlCell FitCell(R2Fit fit, R2Interval interval) => new(double.IsNaN(fit.R2)
        ? "undefined" + (fit.Undefined is null ? "" : $" ({fit.Undefined})")
        : double.IsNaN(interval.Low) || double.IsNaN(interval.High)
            ? Fraction(fit.R2)
            : $"{Fraction(fit.R2)} [{Fraction(interval.Low)}, {Fraction(interval.High)}]",
        interval.Replicates > 0 ? $"{interval.Valid} of {interval.Replicates} bootstrap replicates defined; {fit.Points} points" : null, Number: true);

    /// <summary>
    /// The R² analysis: a table of R² by strategy, the reward model's pair accuracy on the samples, the reliability curve
    /// (when the samples are there) and R² by strategy.
    /// </summary>
    internal static void R2Section(HtmlPage page, R2Results r2, string samplesDescription)
    {
        page.Table($"R² of actual score on reward by filtration strategy ({samplesDescription}; {r2.Mode.ToString().ToLowerInvariant()} mode, {r2.Bins} bins, 95% bootstrap intervals over prompts)",
            ["strategy", "kept", "R² binned [95% CI]", "R² per response [95% CI]"],
            r2.Strategies.Select(s => (IReadOnlyList<HtmlCell>)
                [s.Strategy, new HtmlCell(s.Kept.ToString(CultureInfo.InvariantCulture), Number: true), FitCell(s.Binned.Fit, s.BinnedInterval),
                 FitCell(s.PerResponse, s.PerResponseInterval)]),
            id: "r2-table");
        if (r2.PairAccuracy is PairAccuracy pairs)
        {
            page.Paragraph($"The reward model orders {Percent(pairs.Accuracy)} of the {pairs.Pairs} same-prompt pairs of these samples whose actual scores differ as their scores do (a reward tie counts half).");
        }
        if (r2.All is IReadOnlyList<RewardScore> all)
        {
            page.Figure(R2Plots.Reliability(all, r2.Strategies, r2.Bins), "reliability curve",
                $"Reliability curve: mean actual score (fraction of tests passed) of the responses in each of {Math.Min(r2.Bins, all.Count)} equal-count reward bins " +
                $"over all {all.Count} rewarded responses with a sandbox verdict, each point labelled with its count (left axis); dashed, right axis: the share of each bin " +
                "that each filtering strategy keeps. A reliable reward model rises steadily from left to right.");
        }
        if (r2.Note is string note)
        {
            page.Note(note);
        }
        page.Figure(R2Plots.ByStrategy(r2.Strategies, r2.Bins), "R² by strategy",
            $"R² of actual score on reward over the responses each strategy keeps: binned ({r2.Bins} equal-count bins, as in the paper) and per response. " +
            "Error bars: 95% bootstrap intervals over prompts (from r2.json); an undefined R² is written instead of a bar.");
    }

    /// <summary>
    /// One figure per training metric present (reward, pass rate, KL, loss), one line per labelled method: the mean over
    /// that method's runs at each step.
    /// </summary>
    internal static void TrainingFigures(HtmlPage page, IReadOnlyList<(string Label, IReadOnlyList<RunCurves> Runs)> methods, string runsDescription)
    {
        foreach (CurveMetric metric in TrainingCurves.Metrics)
        {
            LineSeries[] series = methods
                .Select(m => (m.Label, Runs: m.Runs.Where(r => r.Metrics.ContainsKey(metric.Name)).ToArray()))
                .Where(m => m.Runs.Length > 0)
                .Select(m =>
                {
                    IReadOnlyList<(double Step, double Value)> mean = TrainingCurves.MeanOverRuns(m.Runs.Select(r => r.Metrics[metric.Name]));
                    return new LineSeries(m.Label, mean.Select(p => p.Step).ToArray(), mean.Select(p => p.Value).ToArray());
                })
                .ToArray();
            if (series.Length == 0)
            {
                continue;
            }
            page.Figure(Plots.Lines(new PlotAxes($"Training: {metric.Name} by step", "step (iteration)", metric.Axis), series),
                $"training curve: {metric.Name}",
                $"Training curve: {metric.Axis} at each step, one line per method; {runsDescription}.");
        }
    }

    internal static string Percent(double value) => double.IsFinite(value) ? (value * 100).ToString("F1", CultureInfo.InvariantCulture) + "%" : "n/a";

    /// <summary>The header's line saying when the report itself was written.</summary>
    internal static (string, string?) Generated() => ("report written", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
}
