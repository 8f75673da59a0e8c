using System.Globalization;
using PfPpo.Filtration;
using PfPpo.Rewards;

namespace PfPpo.Reports;

/// <summary>
/// The R² analysis's figures: the reliability curve (mean actual score by equal-count reward bin, with counts, and the
/// share of each bin every strategy keeps) and R² by strategy with the bootstrap intervals.
/// </summary>
public static class R2Plots
{
    public const string ReliabilityFile = "reliability.png";
    public const string R2File = "r2.png";

    /// <summary>Writes both figures into <paramref name="dir"/> and returns their paths.</summary>
    /// <param name="all">Every rewarded response with a verdict (the reliability curve's points).</param>
    public static IReadOnlyList<string> Write(string dir, IReadOnlyList<RewardScore> all, IReadOnlyList<StrategyR2> results, int bins)
    {
        string reliability = Path.Combine(dir, ReliabilityFile), r2 = Path.Combine(dir, R2File);
        Plots.Write(reliability, Reliability(all, results, bins));
        Plots.Write(r2, ByStrategy(results, bins));
        return [reliability, r2];
    }

    /// <summary>
    /// Mean actual score by reward bin (equal-count bins of all responses, each labelled with its count) on the left axis;
    /// on the right axis, for each strategy that filters, the share of each bin's responses it keeps (its kept region; in
    /// weight mode the mean weight).
    /// </summary>
    public static byte[] Reliability(IReadOnlyList<RewardScore> all, IReadOnlyList<StrategyR2> results, int bins)
    {
        IReadOnlyList<RewardBin> reliability = R2.Bins(all, bins);
        double[] x = reliability.Select(b => b.MeanReward).ToArray();
        var series = new List<LineSeries>
        {
            new("mean actual score (n per bin)", x, reliability.Select(b => b.MeanScore).ToArray(),
                reliability.Select(b => b.Count.ToString(CultureInfo.InvariantCulture)).ToArray()),
        };
        foreach (StrategyR2 r in results.Where(r => r.Points.Count < all.Count || r.Points.Any(p => p.Weight < 1)))
        {
            series.Add(new LineSeries($"{r.Strategy}: share kept", x, KeptShare(all, bins, r.Points), Dashed: true, RightAxis: true));
        }
        return Plots.Lines(new PlotAxes($"Reliability: actual score by reward ({reliability.Count} equal-count bins, {all.Count} responses)",
            "reward (bin mean)", "mean actual score (fraction of tests passed)", "share of the bin kept by the strategy",
            YLimits: (0, 1.05), RightYLimits: (0, 1.05)), series);
    }

    /// <summary>Binned and per-response R² by strategy, each with its 95% bootstrap interval (prompts resampled).</summary>
    public static byte[] ByStrategy(IReadOnlyList<StrategyR2> results, int bins)
    {
        IntervalBar[] binned = results.Select(r => new IntervalBar(r.Strategy, r.Binned.Fit.R2, r.BinnedInterval.Low, r.BinnedInterval.High)).ToArray();
        IntervalBar[] perResponse = results.Select(r => new IntervalBar(r.Strategy, r.PerResponse.R2, r.PerResponseInterval.Low, r.PerResponseInterval.High)).ToArray();
        return Plots.Bars(new PlotAxes("R² of actual score on reward, by filtration strategy (95% bootstrap intervals over prompts)",
            "strategy", "R²", YLimits: (0, 1.05)),
            [($"binned ({bins} bins)", binned), ("per response", perResponse)]);
    }

    /// <summary>
    /// For each equal-count bin of <paramref name="all"/>, the kept weight that falls in it over its count. Responses with
    /// one reward value that the bin edges split are shared between the bins in proportion, so a share never exceeds 1.
    /// </summary>
    public static double[] KeptShare(IReadOnlyList<RewardScore> all, int bins, IReadOnlyList<RewardScore> kept)
    {
        double[] sorted = all.Where(p => p.Weight > 0).Select(p => p.Reward).Order().ToArray();
        int count = Math.Min(bins, sorted.Length);
        var keptByValue = kept.GroupBy(p => p.Reward).ToDictionary(g => g.Key, g => g.Sum(p => p.Weight));
        var totalByValue = sorted.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
        double[] share = new double[count];
        int start = 0;
        for (int b = 0; b < count; b++)
        {
            int size = sorted.Length / count + (b < sorted.Length % count ? 1 : 0);
            double keptWeight = 0;
            foreach (IGrouping<double, double> value in new ArraySegment<double>(sorted, start, size).GroupBy(v => v))
            {
                keptWeight += keptByValue.GetValueOrDefault(value.Key) * value.Count() / totalByValue[value.Key];
            }
            share[b] = size == 0 ? 0 : keptWeight / size;
            start += size;
        }
        return share;
    }
}
