using PfPpo.Filtration;

namespace PfPpo.Tests.Filtration;

public class R2Tests
{
    private static RewardScore[] Points(params (double X, double Y)[] xy) => xy.Select(p => new RewardScore(p.X, p.Y)).ToArray();

    /// <summary>Squared Pearson correlation, written out independently of the library.</summary>
    private static double Pearson2(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n = x.Count;
        double sx = x.Sum(), sy = y.Sum();
        double sxx = x.Sum(v => v * v), syy = y.Sum(v => v * v);
        double sxy = x.Zip(y, (a, b) => a * b).Sum();
        double r = (n * sxy - sx * sy) / Math.Sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
        return r * r;
    }

    /// <summary>WLS by the 2x2 normal equations, then R² = 1 - SS_res / SS_tot, independently of the library.</summary>
    private static (double R2, double Slope, double Intercept) NormalEquations(IReadOnlyList<RewardScore> p)
    {
        double s0 = p.Sum(q => q.Weight), s1 = p.Sum(q => q.Weight * q.Reward), s2 = p.Sum(q => q.Weight * q.Reward * q.Reward);
        double t0 = p.Sum(q => q.Weight * q.Score), t1 = p.Sum(q => q.Weight * q.Reward * q.Score);
        double det = s0 * s2 - s1 * s1;
        double intercept = (s2 * t0 - s1 * t1) / det;
        double slope = (s0 * t1 - s1 * t0) / det;
        double mean = t0 / s0;
        double res = p.Sum(q => q.Weight * Math.Pow(q.Score - intercept - slope * q.Reward, 2));
        double tot = p.Sum(q => q.Weight * Math.Pow(q.Score - mean, 2));
        return (1 - res / tot, slope, intercept);
    }

    [Fact]
    public void HandComputedExample()
    {
        // (0,0), (1,1), (2,1): Sxy = 1, Sxx = 2, Syy = 2/3, so R² = 1 / (4/3) = 0.75; slope 0.5, intercept 1/6.
        R2Fit fit = R2.PerResponse(Points((0, 0), (1, 1), (2, 1)));
        Assert.Equal(0.75, fit.R2, 12);
        Assert.Equal(0.5, fit.Slope, 12);
        Assert.Equal(1.0 / 6, fit.Intercept, 12);
        Assert.Equal(3, fit.Points);
        Assert.Null(fit.Undefined);
        Assert.Equal(1.0, R2.PerResponse(Points((0, 1), (1, 3), (2, 5))).R2, 12);
        Assert.Equal(1.0, R2.PerResponse(Points((0, 5), (1, 3), (2, 1))).R2, 12);
        Assert.Equal(0.0, R2.PerResponse(Points((-1, 0), (0, 1), (1, 0))).R2, 12);
    }

    [Fact]
    public void UnweightedEqualsSquaredPearson()
    {
        var rng = new Random(8);
        for (int trial = 0; trial < 50; trial++)
        {
            int n = rng.Next(3, 200);
            double[] x = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
            double[] y = x.Select(v => rng.NextDouble() < 0.5 ? 1.0 : Math.Clamp(0.3 * v + rng.NextDouble(), 0, 1)).ToArray();
            R2Fit fit = R2.PerResponse(x.Zip(y, (a, b) => new RewardScore(a, b)).ToArray());
            Assert.Equal(Pearson2(x, y), fit.R2, 9);
        }
    }

    [Fact]
    public void WeightedEqualsTheNormalEquations()
    {
        var rng = new Random(9);
        for (int trial = 0; trial < 50; trial++)
        {
            int n = rng.Next(3, 100);
            RewardScore[] p = Enumerable.Range(0, n)
                .Select(_ => new RewardScore(rng.NextDouble() * 6 - 3, rng.NextDouble(), 0.05 + rng.NextDouble()))
                .ToArray();
            R2Fit fit = R2.PerResponse(p);
            var expected = NormalEquations(p);
            Assert.Equal(expected.R2, fit.R2, 9);
            Assert.Equal(expected.Slope, fit.Slope, 9);
            Assert.Equal(expected.Intercept, fit.Intercept, 9);
        }
    }

    [Fact]
    public void IntegerWeightsEqualRepeatedPoints()
    {
        RewardScore[] weighted = [new(0.1, 0.0, 3), new(0.5, 1.0, 1), new(0.9, 0.5, 2), new(0.3, 0.2, 0)];
        RewardScore[] repeated = weighted.SelectMany(p => Enumerable.Repeat(new RewardScore(p.Reward, p.Score), (int)p.Weight)).ToArray();
        Assert.Equal(R2.PerResponse(repeated).R2, R2.PerResponse(weighted).R2, 12);
        Assert.Equal(3, R2.PerResponse(weighted).Points);
    }

    [Fact]
    public void UndefinedCasesAreNaNWithAReason()
    {
        R2Fit constantRewards = R2.PerResponse(Points((0.5, 0), (0.5, 1), (0.5, 0.3)));
        Assert.True(double.IsNaN(constantRewards.R2));
        Assert.Equal("all rewards are equal", constantRewards.Undefined);
        R2Fit constantScores = R2.PerResponse(Points((0.1, 1), (0.5, 1), (0.9, 1)));
        Assert.True(double.IsNaN(constantScores.R2));
        Assert.Equal("all scores are equal", constantScores.Undefined);
        Assert.Equal(0.0, constantScores.Slope);
        Assert.Equal(1.0, constantScores.Intercept);
        R2Fit one = R2.PerResponse(Points((0.1, 1)));
        Assert.True(double.IsNaN(one.R2));
        Assert.Equal("fewer than 2 points", one.Undefined);
        Assert.Equal("fewer than 2 points", R2.PerResponse([]).Undefined);
        Assert.Equal("fewer than 2 points", R2.PerResponse([new(0.1, 1, 1), new(0.9, 0, 0)]).Undefined);
        Assert.Throws<ArgumentException>(() => R2.PerResponse([new(double.NaN, 1), new(0.9, 0)]));
        Assert.Throws<ArgumentException>(() => R2.PerResponse([new(0.1, 1, -1), new(0.9, 0)]));
        Assert.Throws<ArgumentException>(() => R2.Fit([0.0, 1], [0.0, 1], [1.0, 0]));
    }

    [Fact]
    public void EqualCountBinsLargerFirst()
    {
        // 7 points, 3 bins: sizes 3, 2, 2, sorted by reward.
        RewardScore[] p = Points((0.7, 1), (0.1, 0), (0.4, 0), (0.2, 1), (0.6, 0), (0.5, 1), (0.3, 0));
        IReadOnlyList<RewardBin> bins = R2.Bins(p, 3);
        Assert.Equal([3, 2, 2], bins.Select(b => b.Count));
        Assert.Equal(0.2, bins[0].MeanReward, 12);
        Assert.Equal(1.0 / 3, bins[0].MeanScore, 12);
        Assert.Equal(0.45, bins[1].MeanReward, 12);
        Assert.Equal(0.5, bins[1].MeanScore, 12);
        Assert.Equal(0.65, bins[2].MeanReward, 12);
        Assert.Equal(0.5, bins[2].MeanScore, 12);
        Assert.Equal([0.1, 0.4, 0.6], bins.Select(b => b.MinReward));
        Assert.Equal([0.3, 0.5, 0.7], bins.Select(b => b.MaxReward));
        BinnedR2 binned = R2.Binned(p, 3);
        Assert.Equal(Pearson2([0.2, 0.45, 0.65], [1.0 / 3, 0.5, 0.5]), binned.Fit.R2, 12);
        Assert.Equal(3, binned.Fit.Points);
    }

    [Fact]
    public void BinMeansAreWeighted()
    {
        RewardScore[] p = [new(0.0, 0.0, 3), new(1.0, 1.0, 1), new(2.0, 0.0, 1), new(3.0, 1.0, 1), new(4.0, 1.0, 0)];
        IReadOnlyList<RewardBin> bins = R2.Bins(p, 2);
        Assert.Equal([2, 2], bins.Select(b => b.Count));
        Assert.Equal(4.0, bins[0].Weight);
        Assert.Equal(0.25, bins[0].MeanReward, 12);
        Assert.Equal(0.25, bins[0].MeanScore, 12);
        Assert.Equal(2.5, bins[1].MeanReward, 12);
    }

    [Fact]
    public void TiedRewardsKeepInputOrderAcrossBins()
    {
        IReadOnlyList<RewardBin> bins = R2.Bins(Points((1, 0), (1, 1), (1, 1), (1, 0)), 2);
        Assert.Equal(0.5, bins[0].MeanScore);
        Assert.Equal(0.5, bins[1].MeanScore);
        BinnedR2 binned = R2.Binned(Points((1, 0), (1, 1), (1, 1), (1, 0)), 2);
        Assert.Equal("all rewards are equal", binned.Fit.Undefined);
    }

    [Fact]
    public void FewerPointsThanBinsGiveOneBinPerPoint()
    {
        RewardScore[] p = Points((0.3, 0), (0.1, 0.5), (0.9, 1));
        BinnedR2 binned = R2.Binned(p, 10);
        Assert.Equal(3, binned.Bins.Count);
        Assert.Equal(R2.PerResponse(p).R2, binned.Fit.R2, 12);
        Assert.Equal("fewer than 2 points", R2.Binned(Points((0.3, 0)), 10).Fit.Undefined);
        Assert.Empty(R2.Bins([], 5));
        Assert.Equal("fewer than 2 points", R2.Binned(p, 1).Fit.Undefined);
        Assert.Throws<ArgumentOutOfRangeException>(() => R2.Bins(p, 0));
    }

    [Fact]
    public void BinningSmoothsNoise()
    {
        // Scores are Bernoulli with probability rising linearly in the reward: per-response R² is low, binned R² near 1.
        var rng = new Random(12);
        RewardScore[] p = Enumerable.Range(0, 5000).Select(_ =>
        {
            double r = rng.NextDouble();
            return new RewardScore(r, rng.NextDouble() < r ? 1.0 : 0.0);
        }).ToArray();
        Assert.InRange(R2.PerResponse(p).R2, 0.2, 0.45);
        Assert.InRange(R2.Binned(p, 10).Fit.R2, 0.95, 1.0);
    }

    [Fact]
    public void PointsFromAFilteredGroup()
    {
        double[] rewards = [0.1, 0.9, 0.5];
        double[] scores = [0.0, 1.0, 0.5];
        var f = new Filtered([1, 2], [0.0, 1.0, 0.5]);
        Assert.Equal([new RewardScore(0.9, 1.0, 1), new RewardScore(0.5, 0.5, 1)], R2.Points(rewards, scores, f, FiltrationMode.Drop));
        Assert.Equal([new RewardScore(0.9, 1.0, 1), new RewardScore(0.5, 0.5, 0.5)], R2.Points(rewards, scores, f, FiltrationMode.Weight));
        Assert.Throws<ArgumentException>(() => R2.Points(rewards, [0.0, 1.0], f, FiltrationMode.Drop));
    }

    [Fact]
    public void BootstrapIsDeterministicPerSeed()
    {
        var rng = new Random(3);
        IReadOnlyList<RewardScore>[] groups = Enumerable.Range(0, 40)
            .Select(_ => (IReadOnlyList<RewardScore>)Enumerable.Range(0, 5).Select(_ =>
            {
                double r = rng.NextDouble();
                return new RewardScore(r, rng.NextDouble() < r ? 1.0 : 0.0);
            }).ToArray())
            .ToArray();
        Func<IReadOnlyList<RewardScore>, double> stat = p => R2.PerResponse(p).R2;
        R2Interval a = R2.Bootstrap(groups, stat, 300, seed: 5);
        R2Interval b = R2.Bootstrap(groups, stat, 300, seed: 5);
        R2Interval c = R2.Bootstrap(groups, stat, 300, seed: 6);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        double estimate = stat(groups.SelectMany(g => g).ToArray());
        Assert.InRange(estimate, a.Low, a.High);
        Assert.True(a.Low < a.High);
        Assert.Equal(300, a.Valid);
    }

    [Fact]
    public void BootstrapResamplesWholeGroups()
    {
        // Each group holds two points with the group's own score: resampling groups keeps every score's count even.
        IReadOnlyList<RewardScore>[] groups = Enumerable.Range(0, 10)
            .Select(g => (IReadOnlyList<RewardScore>)[new RewardScore(0.1 * g, g), new RewardScore(0.1 * g + 0.05, g)])
            .ToArray();
        R2Interval even = R2.Bootstrap(groups, p => p.GroupBy(q => q.Score).All(s => s.Count() % 2 == 0) ? 1 : 0, 200, 1);
        Assert.Equal(1.0, even.Low);
        Assert.Equal(1.0, even.High);
        R2Interval size = R2.Bootstrap(groups, p => p.Count, 200, 1);
        Assert.Equal(20.0, size.Low);
        Assert.Equal(20.0, size.High);
    }

    [Fact]
    public void BootstrapPercentilesMatchTheNormalApproximation()
    {
        // Mean of 100 single-point groups with scores 0..99: standard error = population sd / 10 = 2.886.
        IReadOnlyList<RewardScore>[] groups = Enumerable.Range(0, 100)
            .Select(i => (IReadOnlyList<RewardScore>)[new RewardScore(i, i)])
            .ToArray();
        R2Interval ci = R2.Bootstrap(groups, p => p.Average(q => q.Score), 4000, 17);
        double se = Math.Sqrt(Enumerable.Range(0, 100).Average(i => Math.Pow(i - 49.5, 2))) / 10;
        Assert.InRange(ci.Low, 49.5 - 1.96 * se - 1, 49.5 - 1.96 * se + 1);
        Assert.InRange(ci.High, 49.5 + 1.96 * se - 1, 49.5 + 1.96 * se + 1);
        R2Interval wide = R2.Bootstrap(groups, p => p.Average(q => q.Score), 4000, 17, level: 0.5);
        Assert.True(wide.Low > ci.Low && wide.High < ci.High);
    }

    [Fact]
    public void BootstrapEdgeCases()
    {
        IReadOnlyList<RewardScore>[] constant = [[new RewardScore(0.5, 1)], [new RewardScore(0.5, 0)]];
        R2Interval undefined = R2.Bootstrap(constant, p => R2.PerResponse(p).R2, 50, 1);
        Assert.Equal(0, undefined.Valid);
        Assert.True(double.IsNaN(undefined.Low) && double.IsNaN(undefined.High));
        IReadOnlyList<RewardScore>[] two = [[new RewardScore(0.1, 0)], [new RewardScore(0.9, 1)]];
        R2Interval partial = R2.Bootstrap(two, p => R2.PerResponse(p).R2, 1000, 2);
        // A replicate is defined only when it draws both groups (probability 1/2).
        Assert.InRange(partial.Valid, 500 - 5 * Math.Sqrt(250), 500 + 5 * Math.Sqrt(250));
        Assert.Equal(1.0, partial.Low, 12);
        Assert.Throws<ArgumentException>(() => R2.Bootstrap([], p => 0, 10, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => R2.Bootstrap(two, p => 0, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => R2.Bootstrap(two, p => 0, 10, 1, level: 1));
    }
}
