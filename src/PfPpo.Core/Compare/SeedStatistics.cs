using PfPpo.Filtration;

namespace PfPpo.Compare;

/// <summary>A mean over seeds with its 95% interval and the per-seed values it came from (compare.json's shape).</summary>
/// <param name="CiLow">Lower end of the 95% Student-t interval of the mean; null with fewer than two seeds.</param>
public sealed record SeedInterval(double Mean, double? CiLow, double? CiHigh, IReadOnlyList<double> PerSeed);

/// <summary>A rank correlation with its bootstrap interval and what it was computed over.</summary>
/// <param name="Spearman">Spearman's ρ between the strategies' R² and their mean pass@1; null when undefined (fewer than three strategies or a constant side).</param>
/// <param name="CiLow">2.5th percentile of ρ over bootstrap resamples of the seeds (paired: one resample of seed indices for every strategy).</param>
public sealed record RankCorrelation(double? Spearman, double? CiLow, double? CiHigh, IReadOnlyList<string> Strategies, int Resamples);

/// <summary>The statistics of a comparison: intervals over seeds, paired differences, and the R² rank correlation. Pure functions.</summary>
public static class SeedStatistics
{
    /// <summary>Two-sided 97.5% quantiles of Student's t for 1 to 30 degrees of freedom.</summary>
    private static readonly double[] T975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>t_{0.975, df}; the normal 1.960 beyond 30 degrees of freedom would understate it slightly, so 120 uses 1.980 and more 1.960.</summary>
    public static double TQuantile975(int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        return degreesOfFreedom <= T975.Length ? T975[degreesOfFreedom - 1] : degreesOfFreedom <= 120 ? 1.980 : 1.960;
    }

    /// <summary>Mean and 95% t-interval of per-seed values (the interval is null for one seed).</summary>
    public static SeedInterval Interval(IReadOnlyList<double> perSeed)
    {
        ArgumentOutOfRangeException.ThrowIfZero(perSeed.Count);
        if (perSeed.Any(v => !double.IsFinite(v)))
        {
            throw new ArgumentException("every per-seed value must be finite.", nameof(perSeed));
        }
        double mean = perSeed.Average();
        if (perSeed.Count < 2)
        {
            return new SeedInterval(mean, null, null, perSeed);
        }
        double variance = perSeed.Sum(v => (v - mean) * (v - mean)) / (perSeed.Count - 1);
        double half = TQuantile975(perSeed.Count - 1) * Math.Sqrt(variance / perSeed.Count);
        return new SeedInterval(mean, mean - half, mean + half, perSeed);
    }

    /// <summary>The interval of the per-seed differences <paramref name="method"/> − <paramref name="baseline"/> (paired by seed).</summary>
    public static SeedInterval PairedDifference(IReadOnlyList<double> method, IReadOnlyList<double> baseline)
    {
        if (method.Count != baseline.Count)
        {
            throw new ArgumentException($"paired differences need the same seeds on both sides ({method.Count} and {baseline.Count} values).");
        }
        return Interval(method.Zip(baseline, (m, b) => m - b).ToArray());
    }

    /// <summary>Spearman's ρ (average ranks for ties; the Pearson correlation of the ranks); null when either side is constant or n &lt; 3.</summary>
    public static double? Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count)
        {
            throw new ArgumentException($"a correlation needs as many x as y values ({x.Count} and {y.Count}).");
        }
        if (x.Count < 3)
        {
            return null;
        }
        double[] rx = Ranks(x), ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < rx.Length; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }
        return sxx == 0 || syy == 0 ? null : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>
    /// Spearman's ρ between each strategy's R² and its mean pass@1 over seeds, and a percentile interval from
    /// <paramref name="resamples"/> bootstrap resamples of the seeds (the same seed indices for every strategy, since
    /// the runs of one seed share their seed). The R² values are held fixed: they come from one calibration rollout.
    /// </summary>
    /// <param name="passAt1PerSeed">Per strategy, its pass@1 per seed (all the same length, in the same seed order).</param>
    public static RankCorrelation R2RankCorrelation(IReadOnlyList<string> strategies, IReadOnlyList<double> r2,
        IReadOnlyList<IReadOnlyList<double>> passAt1PerSeed, int resamples, int seed)
    {
        if (strategies.Count != r2.Count || strategies.Count != passAt1PerSeed.Count)
        {
            throw new ArgumentException("one R² and one per-seed pass@1 list per strategy are needed.");
        }
        int seeds = passAt1PerSeed.Count == 0 ? 0 : passAt1PerSeed[0].Count;
        if (passAt1PerSeed.Any(p => p.Count != seeds))
        {
            throw new ArgumentException("every strategy needs its pass@1 on the same seeds.");
        }
        double? rho = seeds == 0 ? null : Spearman(r2, passAt1PerSeed.Select(p => p.Average()).ToArray());
        if (rho is null || seeds < 2 || resamples < 1)
        {
            return new RankCorrelation(rho, null, null, strategies, 0);
        }
        var random = new Random(seed);
        var draws = new List<double>(resamples);
        int[] pick = new int[seeds];
        for (int b = 0; b < resamples; b++)
        {
            for (int s = 0; s < seeds; s++)
            {
                pick[s] = random.Next(seeds);
            }
            double[] means = passAt1PerSeed.Select(p => pick.Average(i => p[i])).ToArray();
            if (Spearman(r2, means) is double draw)
            {
                draws.Add(draw); // a resample whose means tie everywhere has no correlation; it is left out
            }
        }
        if (draws.Count == 0)
        {
            return new RankCorrelation(rho, null, null, strategies, 0);
        }
        return new RankCorrelation(rho, Quantiles.Of(draws, 0.025), Quantiles.Of(draws, 0.975), strategies, draws.Count);
    }

    /// <summary>1-based ranks, ties sharing the average of their ranks.</summary>
    private static double[] Ranks(IReadOnlyList<double> values)
    {
        int[] order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        double[] ranks = new double[values.Count];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }
            double rank = (start + end) / 2.0 + 1;
            for (int k = start; k <= end; k++)
            {
                ranks[order[k]] = rank;
            }
            start = end + 1;
        }
        return ranks;
    }
}
