using PfPpo.Compare;

namespace PfPpo.Tests.Compare;

public class SeedStatisticsTests
{
    [Fact]
    public void IntervalIsTheStudentTIntervalOfTheMean()
    {
        // values 0.40, 0.45, 0.50: mean 0.45, sd 0.05, t(0.975, 2) = 4.303, half-width 4.303 * 0.05 / sqrt(3)
        SeedInterval interval = SeedStatistics.Interval([0.40, 0.45, 0.50]);
        double half = 4.303 * 0.05 / Math.Sqrt(3);
        Assert.Equal(0.45, interval.Mean, 12);
        Assert.Equal(0.45 - half, interval.CiLow!.Value, 12);
        Assert.Equal(0.45 + half, interval.CiHigh!.Value, 12);
        Assert.Equal([0.40, 0.45, 0.50], interval.PerSeed);
    }

    [Fact]
    public void OneSeedHasNoIntervalAndEqualSeedsHaveZeroWidth()
    {
        SeedInterval one = SeedStatistics.Interval([0.3]);
        Assert.Null(one.CiLow);
        Assert.Null(one.CiHigh);
        SeedInterval same = SeedStatistics.Interval([0.3, 0.3, 0.3]);
        Assert.Equal(0.3, same.CiLow!.Value, 12);
        Assert.Equal(0.3, same.CiHigh!.Value, 12);
    }

    [Fact]
    public void TQuantilesMatchTheTable()
    {
        Assert.Equal(12.706, SeedStatistics.TQuantile975(1));
        Assert.Equal(2.776, SeedStatistics.TQuantile975(4));
        Assert.Equal(2.042, SeedStatistics.TQuantile975(30));
        Assert.Equal(1.960, SeedStatistics.TQuantile975(1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => SeedStatistics.TQuantile975(0));
    }

    [Fact]
    public void PairedDifferenceRemovesTheSharedSeedEffect()
    {
        // the seeds move both methods alike; the method is always 2 points better: a tight interval around +0.02
        double[] baseline = [0.30, 0.45, 0.38];
        double[] method = [0.32, 0.47, 0.40];
        SeedInterval unpaired = SeedStatistics.Interval(method);
        SeedInterval paired = SeedStatistics.PairedDifference(method, baseline);
        Assert.Equal(0.02, paired.Mean, 12);
        Assert.Equal(0.02, paired.CiLow!.Value, 9);
        Assert.True(unpaired.CiHigh - unpaired.CiLow > 0.1);
        Assert.Throws<ArgumentException>(() => SeedStatistics.PairedDifference([0.1, 0.2], [0.1]));
    }

    [Fact]
    public void SpearmanUsesRanksWithTiesAveraged()
    {
        Assert.Equal(1.0, SeedStatistics.Spearman([1, 2, 3, 4], [10, 20, 30, 1000])!.Value, 12);   // monotone, not linear
        Assert.Equal(-1.0, SeedStatistics.Spearman([1, 2, 3], [3, 2, 1])!.Value, 12);
        // x ranks 1, 2.5, 2.5, 4 against y ranks 1..4: scipy.stats.spearmanr gives 0.9486832980505138
        Assert.Equal(0.9486832980505138, SeedStatistics.Spearman([1, 2, 2, 3], [1, 2, 3, 4])!.Value, 12);
        Assert.Null(SeedStatistics.Spearman([1, 2], [1, 2]));          // fewer than three
        Assert.Null(SeedStatistics.Spearman([1, 1, 1], [1, 2, 3]));    // a constant side
    }

    [Fact]
    public void RankCorrelationIntervalComesFromResamplingSeeds()
    {
        string[] strategies = ["a", "b", "c", "d"];
        double[] r2 = [0.1, 0.2, 0.3, 0.4];
        // pass@1 rises with R² on every seed: ρ = 1 and every resample says so
        IReadOnlyList<double>[] consistent = [[0.30, 0.31, 0.29], [0.35, 0.36, 0.34], [0.40, 0.41, 0.39], [0.45, 0.46, 0.44]];
        RankCorrelation tight = SeedStatistics.R2RankCorrelation(strategies, r2, consistent, resamples: 500, seed: 1);
        Assert.Equal(1.0, tight.Spearman!.Value, 12);
        Assert.Equal(1.0, tight.CiLow!.Value, 12);
        Assert.Equal(500, tight.Resamples);
        // seeds disagree on the order: the interval widens to include negative values
        IReadOnlyList<double>[] noisy = [[0.30, 0.50, 0.40], [0.50, 0.30, 0.41], [0.40, 0.45, 0.30], [0.45, 0.35, 0.47]];
        RankCorrelation wide = SeedStatistics.R2RankCorrelation(strategies, r2, noisy, resamples: 500, seed: 1);
        Assert.True(wide.CiLow < 0 && wide.CiHigh > 0, $"[{wide.CiLow}, {wide.CiHigh}]");
        Assert.Equal(wide, SeedStatistics.R2RankCorrelation(strategies, r2, noisy, resamples: 500, seed: 1) with { Strategies = wide.Strategies });
    }
}
