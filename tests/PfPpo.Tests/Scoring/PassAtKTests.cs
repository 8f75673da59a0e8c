using PfPpo.Evaluation;
using PfPpo.Scoring;

namespace PfPpo.Tests.Scoring;

public class PassAtKTests
{
    private static double Exact(int n, int c, int k)
    {
        // 1 - C(n-c, k) / C(n, k) with exact big-integer binomials.
        static System.Numerics.BigInteger Choose(int n, int k)
        {
            if (k < 0 || k > n)
            {
                return 0;
            }

            System.Numerics.BigInteger r = 1;
            for (int i = 1; i <= k; i++)
            {
                r = r * (n - k + i) / i;
            }

            return r;
        }
        return 1.0 - (double)Choose(n - c, k) / (double)Choose(n, k);
    }

    [Theory]
    [InlineData(10, 0, 1, 0.0)]
    [InlineData(10, 10, 1, 1.0)]
    [InlineData(10, 3, 1, 0.3)]
    [InlineData(5, 1, 5, 1.0)]
    [InlineData(4, 2, 2, 1.0 - 1.0 / 6.0)]
    public void KnownValues(int n, int c, int k, double expected) => Assert.Equal(expected, PassAtK.Estimate(n, c, k), 12);

    [Fact]
    public void MatchesExactBinomialsAndIsMonotone()
    {
        for (int n = 1; n <= 60; n += 7)
        {
            for (int c = 0; c <= n; c++)
            {
                double previous = -1;
                for (int k = 1; k <= n; k++)
                {
                    double value = PassAtK.Estimate(n, c, k);
                    Assert.Equal(Exact(n, c, k), value, 9);
                    Assert.True(value >= previous - 1e-12);
                    previous = value;
                }
            }
        }
    }

    [Theory]
    [InlineData(0, 0, 1)]
    [InlineData(5, 6, 1)]
    [InlineData(5, -1, 1)]
    [InlineData(5, 2, 0)]
    [InlineData(5, 2, 6)]
    public void RejectsImpossibleArguments(int n, int c, int k) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PassAtK.Estimate(n, c, k));

    [Fact]
    public void SummaryLeavesInfrastructureErrorsOutAndSkipsProblemsWithTooFewSamples()
    {
        SampleResult R(string id, SampleStatus s) => new(id, s, 0, 1, 1, null, "", []);
        var results = new[]
        {
            R("a", SampleStatus.Passed), R("a", SampleStatus.Failed), R("a", SampleStatus.Error),
            R("b", SampleStatus.Timeout), R("b", SampleStatus.Passed), R("b", SampleStatus.Passed),
        };
        var summary = ScoreSummary.Compute(results, [1, 3]);
        Assert.Equal((2, 1, 1), (summary.Problems[0].Samples, summary.Problems[0].Correct, summary.Problems[0].Errors));
        Assert.Equal((0.5 + 2.0 / 3.0) / 2, summary.Overall[0].Value, 12);
        Assert.Equal(1, summary.Overall[1].ProblemsCounted); // only b has 3 scored samples
        Assert.Equal(1.0, summary.Overall[1].Value, 12);
        Assert.Equal((6, 3, 1, 1, 1), (summary.Samples, summary.Passed, summary.Failed, summary.TimedOut, summary.Errors));
    }
}
