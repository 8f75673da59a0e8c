namespace PfPpo.Filtration;

/// <summary>One response as a regression point: its RM reward, its actual score (fraction of tests passed) and its weight.</summary>
public readonly record struct RewardScore(double Reward, double Score, double Weight = 1.0);

/// <summary>
/// A weighted least-squares fit score ~ intercept + slope * reward. <see cref="R2"/> is NaN when the fit is undefined and
/// <see cref="Undefined"/> says why: fewer than 2 points with positive weight, all rewards equal (no line can be fitted),
/// or all scores equal (nothing to explain; the slope is then 0).
/// </summary>
public sealed record R2Fit(double R2, double Slope, double Intercept, int Points, string? Undefined);

/// <summary>One equal-count reward bin: its responses' weighted mean reward and mean actual score.</summary>
public sealed record RewardBin(int Count, double Weight, double MeanReward, double MeanScore, double MinReward, double MaxReward);

/// <summary>The binned R² (one unweighted point per bin) with the bins it was computed on.</summary>
public sealed record BinnedR2(R2Fit Fit, IReadOnlyList<RewardBin> Bins);

/// <summary>A bootstrap percentile interval; <see cref="Valid"/> counts the replicates whose statistic was defined (not NaN).</summary>
public sealed record R2Interval(double Low, double High, int Replicates, int Valid);

/// <summary>The R² analysis of PF-PPO section 3 (docs/filtration.md): pure functions over reward/score points.</summary>
public static class R2
{
    /// <summary>
    /// The regression points of one group under a strategy's result: drop mode gives the kept responses with weight 1;
    /// weight mode gives every response with a positive weight, weighted by it.
    /// </summary>
    public static IReadOnlyList<RewardScore> Points(IReadOnlyList<double> rewards, IReadOnlyList<double> scores, Filtered filtered, FiltrationMode mode)
    {
        ArgumentNullException.ThrowIfNull(rewards);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(filtered);
        if (rewards.Count != scores.Count || rewards.Count != filtered.Weights.Count)
        {
            throw new ArgumentException($"{rewards.Count} rewards, {scores.Count} scores and {filtered.Weights.Count} weights: they must match");
        }
        IReadOnlyList<double> weights = filtered.LossWeights(mode);
        var points = new List<RewardScore>();
        for (int i = 0; i < rewards.Count; i++)
        {
            if (weights[i] > 0)
            {
                points.Add(new RewardScore(rewards[i], scores[i], weights[i]));
            }
        }
        return points;
    }

    /// <summary>Per-response R² of actual score against reward, weighted least squares (points of weight 0 are ignored).</summary>
    public static R2Fit PerResponse(IReadOnlyList<RewardScore> points)
    {
        IReadOnlyList<RewardScore> used = Usable(points);
        return Fit(used.Select(p => p.Reward).ToArray(), used.Select(p => p.Score).ToArray(), used.Select(p => p.Weight).ToArray());
    }

    /// <summary>
    /// Equal-count reward bins: the points of positive weight sorted by reward (equal rewards keep their input order),
    /// split into min(bins, points) consecutive bins whose sizes differ by at most one (the larger bins first). Means are
    /// weighted by the points' weights.
    /// </summary>
    public static IReadOnlyList<RewardBin> Bins(IReadOnlyList<RewardScore> points, int bins)
    {
        if (bins < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), bins, "the bin count must be at least 1");
        }
        RewardScore[] sorted = Usable(points).Select((p, i) => (p, i)).OrderBy(t => t.p.Reward).ThenBy(t => t.i).Select(t => t.p).ToArray();
        int count = Math.Min(bins, sorted.Length);
        var result = new List<RewardBin>(count);
        int start = 0;
        for (int b = 0; b < count; b++)
        {
            int size = sorted.Length / count + (b < sorted.Length % count ? 1 : 0);
            ArraySegment<RewardScore> bin = new(sorted, start, size);
            double weight = bin.Sum(p => p.Weight);
            result.Add(new RewardBin(
                size,
                weight,
                bin.Sum(p => p.Weight * p.Reward) / weight,
                bin.Sum(p => p.Weight * p.Score) / weight,
                bin[0].Reward,
                bin[^1].Reward));
            start += size;
        }
        return result;
    }

    /// <summary>The paper's binned R²: each bin's mean reward and mean actual score is one point of an unweighted fit.
    /// Fewer points than bins: one bin per point. Fewer than 2 bins (or equal bin means) leave it undefined (NaN).</summary>
    public static BinnedR2 Binned(IReadOnlyList<RewardScore> points, int bins)
    {
        IReadOnlyList<RewardBin> result = Bins(points, bins);
        double[] ones = Enumerable.Repeat(1.0, result.Count).ToArray();
        R2Fit fit = Fit(result.Select(b => b.MeanReward).ToArray(), result.Select(b => b.MeanScore).ToArray(), ones);
        return new BinnedR2(fit, result);
    }

    /// <summary>
    /// A bootstrap percentile interval (level 0.95: the 2.5% and 97.5% quantiles) of a statistic over prompt groups: each
    /// of <paramref name="replicates"/> replicates draws as many groups as there are, with replacement, from
    /// <c>new Random(seed)</c>, and computes the statistic on their points together. Replicates where the statistic is
    /// NaN are left out of the quantiles (<see cref="R2Interval.Valid"/>); none valid gives NaN bounds.
    /// The same inputs and seed give the same interval.
    /// </summary>
    public static R2Interval Bootstrap(
        IReadOnlyList<IReadOnlyList<RewardScore>> groups,
        Func<IReadOnlyList<RewardScore>, double> statistic,
        int replicates,
        int seed,
        double level = 0.95)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(statistic);
        if (groups.Count == 0)
        {
            throw new ArgumentException("the bootstrap needs at least one prompt group", nameof(groups));
        }
        if (replicates < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(replicates), replicates, "the bootstrap needs at least one replicate");
        }
        if (!(level > 0 && level < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "the interval level must be in (0, 1)");
        }
        var rng = new Random(seed);
        var values = new List<double>(replicates);
        var sample = new List<RewardScore>();
        for (int b = 0; b < replicates; b++)
        {
            sample.Clear();
            for (int g = 0; g < groups.Count; g++)
            {
                sample.AddRange(groups[rng.Next(groups.Count)]);
            }
            double value = statistic(sample);
            if (!double.IsNaN(value))
            {
                values.Add(value);
            }
        }
        if (values.Count == 0)
        {
            return new R2Interval(double.NaN, double.NaN, replicates, 0);
        }
        double tail = (1 - level) / 2;
        return new R2Interval(Quantiles.Of(values, tail), Quantiles.Of(values, 1 - tail), replicates, values.Count);
    }

    /// <summary>Weighted least squares with intercept (weights positive); R² = 1 - SS_res / SS_tot (weighted), which equals the
    /// squared weighted correlation Sxy² / (Sxx Syy).</summary>
    public static R2Fit Fit(IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<double> w)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(w);
        if (x.Count != y.Count || x.Count != w.Count)
        {
            throw new ArgumentException($"{x.Count} rewards, {y.Count} scores and {w.Count} weights: they must match");
        }
        int n = x.Count;
        for (int i = 0; i < n; i++)
        {
            if (!double.IsFinite(x[i]) || !double.IsFinite(y[i]) || !(double.IsFinite(w[i]) && w[i] > 0))
            {
                throw new ArgumentException($"point {i}: reward {x[i]} and score {y[i]} must be finite and weight {w[i]} positive");
            }
        }
        if (n < 2)
        {
            return new R2Fit(double.NaN, double.NaN, double.NaN, n, "fewer than 2 points");
        }
        double sw = 0;
        double sx = 0;
        double sy = 0;
        for (int i = 0; i < n; i++)
        {
            sw += w[i];
            sx += w[i] * x[i];
            sy += w[i] * y[i];
        }
        double mx = sx / sw;
        double my = sy / sw;
        double sxx = 0;
        double sxy = 0;
        double syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx;
            double dy = y[i] - my;
            sxx += w[i] * dx * dx;
            sxy += w[i] * dx * dy;
            syy += w[i] * dy * dy;
        }
        if (x.All(v => v == x[0]))
        {
            return new R2Fit(double.NaN, double.NaN, double.NaN, n, "all rewards are equal");
        }
        double slope = sxy / sxx;
        double intercept = my - slope * mx;
        if (y.All(v => v == y[0]))
        {
            return new R2Fit(double.NaN, 0.0, y[0], n, "all scores are equal");
        }
        double r2 = Math.Clamp(sxy * sxy / (sxx * syy), 0.0, 1.0);
        return new R2Fit(r2, slope, intercept, n, null);
    }

    private static IReadOnlyList<RewardScore> Usable(IReadOnlyList<RewardScore> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var used = new List<RewardScore>(points.Count);
        for (int i = 0; i < points.Count; i++)
        {
            RewardScore p = points[i];
            if (!double.IsFinite(p.Reward) || !double.IsFinite(p.Score) || !double.IsFinite(p.Weight) || p.Weight < 0)
            {
                throw new ArgumentException($"point {i}: reward {p.Reward}, score {p.Score} and weight {p.Weight} must be finite, the weight non-negative");
            }
            if (p.Weight > 0)
            {
                used.Add(p);
            }
        }
        return used;
    }
}
