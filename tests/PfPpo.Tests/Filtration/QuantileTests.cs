using PfPpo.Filtration;

namespace PfPpo.Tests.Filtration;

public class QuantileTests
{
    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(1.0, 4.0)]
    [InlineData(0.5, 2.5)]
    [InlineData(0.25, 1.75)]
    [InlineData(0.8, 3.4)]
    public void LinearInterpolationAsNumpy(double q, double expected) =>
        Assert.Equal(expected, Quantiles.Of([4.0, 1, 3, 2], q), 12);

    [Fact]
    public void EdgeCases()
    {
        Assert.Equal(7.0, Quantiles.Of([7.0], 0.3));
        Assert.Equal(2.0, Quantiles.Of([2.0, 2, 2], 0.9));
        Assert.Throws<ArgumentException>(() => Quantiles.Of([], 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Quantiles.Of([1.0], 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Quantiles.Of([1.0], double.NaN));
        var e = Assert.Throws<NonFiniteRewardException>(() => Quantiles.Of([1.0, double.NaN], 0.5));
        Assert.Contains("calibration reward 1", e.Message);
    }

    [Fact]
    public void MatchesAnIndependentEmpiricalDefinition()
    {
        // Type 7 is the linear interpolation of the points ((k - 1) / (n - 1), x_(k)).
        var rng = new Random(2);
        double[] values = Enumerable.Range(0, 37).Select(_ => rng.NextDouble() * 10 - 5).ToArray();
        double[] sorted = values.OrderBy(v => v).ToArray();
        for (int k = 0; k < sorted.Length; k++)
        {
            Assert.Equal(sorted[k], Quantiles.Of(values, (double)k / (sorted.Length - 1)), 9);
        }
        double mid = (sorted[3] + sorted[4]) / 2;
        Assert.Equal(mid, Quantiles.Of(values, 3.5 / (sorted.Length - 1)), 9);
    }
}
