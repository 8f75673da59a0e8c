using PfPpo.Filtration;

namespace PfPpo.Tests.Filtration;

public class StrategyTests
{
    private const int Draws = 10_000;

    private static Filtered Run(string strategy, double[] rewards, int seed = 1) =>
        ((GroupStrategy)FiltrationStrategy.Parse(strategy)).Apply(rewards, new Random(seed), "group 0 (T/0)");

    /// <summary>How often each response is kept over many draws from one seeded RNG, plus the kept-count histogram.</summary>
    private static (int[] Kept, Dictionary<int, int> Sizes, Dictionary<string, int> Sets) Frequencies(string strategy, double[] rewards, int seed = 42)
    {
        var s = (GroupStrategy)FiltrationStrategy.Parse(strategy);
        var rng = new Random(seed);
        var kept = new int[rewards.Length];
        var sizes = new Dictionary<int, int>();
        var sets = new Dictionary<string, int>();
        for (int d = 0; d < Draws; d++)
        {
            Filtered f = s.Apply(rewards, rng, "g");
            Assert.Equal(f.Kept.Distinct().Count(), f.Kept.Count);
            Assert.Equal(f.Kept.OrderBy(i => i), f.Kept);
            foreach (int i in f.Kept)
            {
                kept[i]++;
            }
            sizes[f.Kept.Count] = sizes.GetValueOrDefault(f.Kept.Count) + 1;
            string key = string.Join(",", f.Kept);
            sets[key] = sets.GetValueOrDefault(key) + 1;
        }
        return (kept, sizes, sets);
    }

    /// <summary>A count of Draws Bernoulli(p) trials lies within 5 sigma of its mean (exact for p = 0 or 1).</summary>
    private static void AssertFrequency(double p, int count)
    {
        double sigma = Math.Sqrt(Draws * p * (1 - p));
        Assert.InRange(count, Draws * p - 5 * sigma - 1e-9, Draws * p + 5 * sigma + 1e-9);
    }

    [Fact]
    public void NoneKeepsEverythingWithWeightOne()
    {
        Filtered f = Run("none", [0.3, -1, 2, 0.3]);
        Assert.Equal([0, 1, 2, 3], f.Kept);
        Assert.Equal([1.0, 1, 1, 1], f.Weights);
        Assert.Equal([0.25, 0.25, 0.25, 0.25], f.Normalised());
    }

    [Fact]
    public void BonKeepsTheBest()
    {
        Filtered f = Run("bon", [0.3, -1, 2, 0.5, 1.9]);
        Assert.Equal([2], f.Kept);
        Assert.Equal([0.0, 0, 1, 0, 0], f.Weights);
    }

    [Fact]
    public void BwKeepsBestAndWorst()
    {
        Filtered f = Run("bw", [0.3, -1, 2, 0.5, 1.9]);
        Assert.Equal([1, 2], f.Kept);
        Assert.Equal([0.0, 1, 1, 0, 0], f.Weights);
        Assert.Equal([0.0, 0.5, 0.5, 0, 0], f.Normalised());
    }

    [Fact]
    public void DeterministicStrategiesDoNotDependOnTheSeedWithoutTies()
    {
        double[] rewards = [0.1, 0.7, -0.4, 0.9, 0.2, 0.35];
        foreach (string s in new[] { "none", "bon", "bw", "top:0.3", "top-bottom:0.5,0.15", "ranks:0.5,0.5" })
        {
            Filtered first = Run(s, rewards, 1);
            for (int seed = 2; seed < 50; seed++)
            {
                Filtered other = Run(s, rewards, seed);
                Assert.Equal(first.Kept, other.Kept);
                Assert.Equal(first.Weights, other.Weights);
            }
        }
        Assert.Equal([1, 3], Run("ranks:0.5,0.5", rewards).Kept);
    }

    [Fact]
    public void BrKeepsTheBestAndExactlyOneOtherUniformly()
    {
        double[] rewards = [0.2, 0.9, -0.3, 0.5, 0.1];
        Filtered one = Run("br", rewards);
        Assert.Equal([0.25, 1, 0.25, 0.25, 0.25], one.Weights);
        Assert.Equal([0.125, 0.5, 0.125, 0.125, 0.125], one.Normalised().Select(w => Math.Round(w, 12)));
        var (kept, sizes, sets) = Frequencies("br", rewards);
        Assert.Equal(Draws, kept[1]);
        Assert.Equal(Draws, sizes[2]);
        Assert.Single(sizes);
        foreach (int i in new[] { 0, 2, 3, 4 })
        {
            AssertFrequency(0.25, kept[i]);
        }
        Assert.Equal(4, sets.Count);
    }

    [Fact]
    public void CustomRanksWithIntegerSumKeepAFixedNumber()
    {
        // ranks 0.5, 0.25, 0.25 on 3 responses: best always, one of the other two with probability 1/2 each.
        double[] rewards = [0.0, 1.0, 0.5];
        Assert.Equal([0.5, 1, 0.5], Run("ranks:0.5,0.25,0.25", rewards).Weights);
        var (kept, sizes, _) = Frequencies("ranks:0.5,0.25,0.25", rewards);
        Assert.Equal(Draws, sizes[2]);
        Assert.Equal(Draws, kept[1]);
        AssertFrequency(0.5, kept[0]);
        AssertFrequency(0.5, kept[2]);
    }

    [Fact]
    public void CustomRanksWithFractionalSumKeepEachRankWithItsProbability()
    {
        // ranks 0.4, 0.3, 0.3: inclusion 1, 0.75, 0.75; the two fractional ranks sum to 1.5, so 1 or 2 of them (each half the time).
        double[] rewards = [3.0, 2.0, 1.0];
        Assert.Equal([1.0, 0.75, 0.75], Run("ranks:0.4,0.3,0.3", rewards).Weights.Select(w => Math.Round(w, 12)));
        var (kept, sizes, _) = Frequencies("ranks:0.4,0.3,0.3", rewards);
        Assert.Equal(Draws, kept[0]);
        AssertFrequency(0.75, kept[1]);
        AssertFrequency(0.75, kept[2]);
        Assert.Equal(Draws, sizes[2] + sizes[3]);
        AssertFrequency(0.5, sizes[3]);
    }

    [Fact]
    public void CustomRanksShorterThanTheGroupArePaddedWithZeros()
    {
        double[] rewards = [0.1, 0.5, 0.3, 0.9, 0.7];
        Filtered f = Run("ranks:0.5,0.25,0.25", rewards);
        Assert.Equal([0.0, 0.5, 0, 1, 0.5], f.Weights);
        int[] kept = Frequencies("ranks:0.5,0.25,0.25", rewards).Kept;
        Assert.Equal(0, kept[0]);
        Assert.Equal(0, kept[2]);
        Assert.Equal(Draws, kept[3]);
        AssertFrequency(0.5, kept[1]);
        AssertFrequency(0.5, kept[4]);
        Assert.Equal(Run("bon", rewards).Kept, Run("ranks:1", rewards).Kept);
    }

    [Fact]
    public void CustomRanksLongerThanTheGroupNameThePrompt()
    {
        var s = (GroupStrategy)FiltrationStrategy.Parse("ranks:0.5,0.25,0.25");
        var e = Assert.Throws<ArgumentException>(() => s.Apply([1.0, 2.0], new Random(1), "group 4 (HumanEval/9)"));
        Assert.Contains("group 4 (HumanEval/9)", e.Message);
        Assert.Contains("3 rank weights", e.Message);
        Assert.Contains("only 2 responses", e.Message);
    }

    [Fact]
    public void UniformRanksEqualNone()
    {
        double[] rewards = [0.1, 0.5, 0.3, 0.9];
        Filtered f = Run("ranks:0.25,0.25,0.25,0.25", rewards);
        Assert.Equal(Run("none", rewards).Kept, f.Kept);
        Assert.Equal(Run("none", rewards).Weights, f.Weights);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("bon")]
    [InlineData("br")]
    [InlineData("bw")]
    [InlineData("ranks:1")]
    [InlineData("ranks:0.5,0.5")]
    public void SingleResponseGroupsKeepTheResponseOnce(string strategy)
    {
        if (strategy == "ranks:0.5,0.5")
        {
            Assert.Throws<ArgumentException>(() => Run(strategy, [0.4]));
            return;
        }
        Filtered f = Run(strategy, [0.4]);
        Assert.Equal([0], f.Kept);
        Assert.Equal([1.0], f.Weights);
    }

    [Theory]
    [InlineData("none", new[] { 0, 1 })]
    [InlineData("bon", new[] { 1 })]
    [InlineData("br", new[] { 0, 1 })]
    [InlineData("bw", new[] { 0, 1 })]
    [InlineData("ranks:0.5,0.5", new[] { 0, 1 })]
    [InlineData("ranks:1,0", new[] { 1 })]
    public void TwoResponseGroups(string strategy, int[] expected)
    {
        for (int seed = 0; seed < 20; seed++)
        {
            Assert.Equal(expected, Run(strategy, [0.1, 0.6], seed).Kept);
        }
    }

    [Fact]
    public void TiesInTheBestRankAreBrokenUniformly()
    {
        var (kept, sizes, _) = Frequencies("bon", [0.7, 0.2, 0.7, 0.7]);
        Assert.Equal(Draws, sizes[1]);
        Assert.Equal(0, kept[1]);
        foreach (int i in new[] { 0, 2, 3 })
        {
            AssertFrequency(1.0 / 3, kept[i]);
        }
    }

    [Fact]
    public void AllEqualRewardsGiveBwTwoDistinctUniformResponses()
    {
        var (kept, sizes, sets) = Frequencies("bw", [1.0, 1.0, 1.0, 1.0]);
        Assert.Equal(Draws, sizes[2]);
        foreach (int c in kept)
        {
            AssertFrequency(0.5, c);
        }
        Assert.Equal(6, sets.Count);
        foreach (int c in sets.Values)
        {
            AssertFrequency(1.0 / 6, c);
        }
    }

    [Fact]
    public void TiedWorstRanksAreBrokenUniformly()
    {
        var (kept, _, _) = Frequencies("bw", [0.0, 2.0, 0.0]);
        Assert.Equal(Draws, kept[1]);
        AssertFrequency(0.5, kept[0]);
        AssertFrequency(0.5, kept[2]);
    }

    [Fact]
    public void RankingOrdersByRewardAndShufflesTiesUniformly()
    {
        var rng = new Random(3);
        Assert.Equal([2, 0, 3, 1], Ranking.Order([0.5, -1, 2, 0.1], rng));
        var counts = new Dictionary<string, int>();
        for (int d = 0; d < Draws; d++)
        {
            int[] order = Ranking.Order([5.0, 9.0, 5.0, 5.0], rng);
            Assert.Equal(1, order[0]);
            string key = string.Join(",", order);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.Equal(6, counts.Count);
        foreach (int c in counts.Values)
        {
            AssertFrequency(1.0 / 6, c);
        }
    }

    [Fact]
    public void TopKeepsRewardsAtOrAboveTheThreshold()
    {
        double[] rewards = [0.2, 0.5, 0.9, -3];
        Filtered f = Run("top:0.5", rewards);
        Assert.Equal([1, 2], f.Kept);
        Assert.Equal([0.0, 1, 1, 0], f.Weights);
        Filtered none = Run("top:2", rewards);
        Assert.Empty(none.Kept);
        Assert.Equal([0.0, 0, 0, 0], none.Weights);
        Assert.Equal([0.0, 0, 0, 0], none.Normalised());
        Assert.Equal([0, 1, 2, 3], Run("top:-3", rewards).Kept);
    }

    [Fact]
    public void TopRandomAddsEachOtherResponseWithProbabilityHalf()
    {
        double[] rewards = [0.2, 0.5, 0.9, -3, 0.1];
        Assert.Equal([0.5, 1, 1, 0.5, 0.5], Run("top-random:0.5", rewards).Weights);
        var (kept, sizes, _) = Frequencies("top-random:0.5", rewards);
        Assert.Equal(Draws, kept[1]);
        Assert.Equal(Draws, kept[2]);
        foreach (int i in new[] { 0, 3, 4 })
        {
            AssertFrequency(0.5, kept[i]);
        }
        // Independent coin flips: 2 + Binomial(3, 1/2) responses.
        AssertFrequency(1.0 / 8, sizes[2]);
        AssertFrequency(3.0 / 8, sizes[3]);
        AssertFrequency(3.0 / 8, sizes[4]);
        AssertFrequency(1.0 / 8, sizes[5]);
    }

    [Fact]
    public void TopBottomKeepsBothTails()
    {
        double[] rewards = [0.1, 0.3, 0.5, 0.8, 0.9, 0.31];
        Filtered f = Run("top-bottom:0.8,0.3", rewards);
        Assert.Equal([0, 1, 3, 4], f.Kept);
        Assert.Equal([1.0, 1, 0, 1, 1, 0], f.Weights);
        Assert.Equal([0, 1, 2, 3, 4, 5], Run("top-bottom:0.5,0.5", rewards).Kept);
    }

    [Fact]
    public void QuantileThresholdsNeedCalibration()
    {
        var top = FiltrationStrategy.Parse("top:q0.5");
        Assert.True(top.NeedsCalibration);
        var e = Assert.Throws<InvalidOperationException>(() => ((GroupStrategy)top).Apply([1.0], new Random(1), "g"));
        Assert.Contains("top:q0.5", e.Message);
        FiltrationStrategy resolved = top.Resolve([0.0, 1, 2, 3, 4]);
        Assert.False(resolved.NeedsCalibration);
        Assert.Equal("top:2", resolved.ToString());
        Assert.Equal([2, 3], ((GroupStrategy)resolved).Apply([1.0, 1.5, 2, 3.5], new Random(1), "g").Kept);
        Assert.Equal("top-bottom:3.2,0.8", FiltrationStrategy.Parse("top-bottom:q0.8,q0.2").Resolve([0.0, 1, 2, 3, 4]).ToString());
        Assert.Equal("top-random:4", FiltrationStrategy.Parse("top-random:q1").Resolve([0.0, 1, 2, 3, 4]).ToString());
        Assert.Same(FiltrationStrategy.Parse("bw").GetType(), FiltrationStrategy.Parse("bw").Resolve([1.0]).GetType());
    }

    [Fact]
    public void MixedThresholdsAreCheckedWhenResolved()
    {
        var s = FiltrationStrategy.Parse("top-bottom:q0.1,2");
        Assert.Throws<ArgumentException>(() => s.Resolve([0.0, 1, 2, 3, 4]));
        Assert.Equal("top-bottom:3.6,2", FiltrationStrategy.Parse("top-bottom:q0.9,2").Resolve([0.0, 1, 2, 3, 4]).ToString());
    }

    [Theory]
    [InlineData("none")]
    [InlineData("bon")]
    [InlineData("br")]
    [InlineData("bw")]
    [InlineData("ranks:0.5,0.5")]
    [InlineData("top:0.5")]
    [InlineData("top-random:0.5")]
    [InlineData("top-bottom:0.8,0.2")]
    public void NonFiniteRewardsNameThePromptAndSample(string strategy)
    {
        var s = (GroupStrategy)FiltrationStrategy.Parse(strategy);
        var nan = Assert.Throws<NonFiniteRewardException>(() => s.Apply([0.1, double.NaN, 0.3], new Random(1), "group 7 (HumanEval/3)"));
        Assert.Contains("group 7 (HumanEval/3)", nan.Message);
        Assert.Contains("sample 1", nan.Message);
        Assert.Contains("NaN", nan.Message);
        var inf = Assert.Throws<NonFiniteRewardException>(() => s.Apply([0.1, 0.2, double.NegativeInfinity], new Random(1), "group 2 (MBPP/11)"));
        Assert.Contains("group 2 (MBPP/11)", inf.Message);
        Assert.Contains("sample 2", inf.Message);
        Assert.Contains("Infinity", inf.Message);
        var empty = Assert.Throws<ArgumentException>(() => s.Apply([], new Random(1), "group 5 (T/5)"));
        Assert.Contains("group 5 (T/5)", empty.Message);
    }

    [Fact]
    public void BufferApplicationNamesTheFailingGroupAndConsumesTheRngInOrder()
    {
        var br = (GroupStrategy)FiltrationStrategy.Parse("br");
        RewardGroup[] groups = [new("group 0 (A)", [0.1, 0.2, 0.3]), new("group 1 (B)", [0.5, 0.4, 0.3, 0.2])];
        IReadOnlyList<Filtered> buffer = br.ApplyToBuffer(groups, new Random(9));
        var rng = new Random(9);
        Assert.Equal(br.Apply(groups[0].Rewards, rng, "x").Kept, buffer[0].Kept);
        Assert.Equal(br.Apply(groups[1].Rewards, rng, "x").Kept, buffer[1].Kept);
        RewardGroup[] bad = [groups[0], new("group 1 (B)", [0.5, double.PositiveInfinity])];
        var e = Assert.Throws<NonFiniteRewardException>(() => br.ApplyToBuffer(bad, new Random(1)));
        Assert.Contains("group 1 (B)", e.Message);
    }

    [Fact]
    public void SameSeedSameResult()
    {
        double[] rewards = [0.3, 0.3, 0.1, 0.9, 0.3, -0.2, 0.5];
        foreach (string s in new[] { "br", "bw", "bon", "ranks:0.4,0.3,0.2,0.1", "top-random:0.3" })
        {
            for (int seed = 0; seed < 20; seed++)
            {
                Assert.Equal(Run(s, rewards, seed), Run(s, rewards, seed), new FilteredComparer());
            }
        }
    }

    [Fact]
    public void LossWeightsForDropAndWeightModes()
    {
        Filtered f = Run("br", [0.2, 0.9, -0.3]);
        Assert.Equal([0.5, 1, 0.5], f.LossWeights(FiltrationMode.Weight));
        IReadOnlyList<double> drop = f.LossWeights(FiltrationMode.Drop);
        Assert.Equal(2, drop.Count(w => w == 1));
        Assert.Equal(1.0, drop[1]);
        Assert.All(f.Kept, i => Assert.Equal(1.0, drop[i]));
    }

    [Fact]
    public void WeightModeIsTheExpectationOfDropMode()
    {
        // Averaging the drop-mode loss weights over many draws gives the weight-mode weights.
        double[] rewards = [0.2, 0.9, -0.3, 0.4, 0.45, 0.8];
        foreach (string s in new[] { "br", "ranks:0.4,0.3,0.2,0.1", "top-random:0.5" })
        {
            var (kept, _, _) = Frequencies(s, rewards);
            IReadOnlyList<double> weights = Run(s, rewards).Weights;
            for (int i = 0; i < rewards.Length; i++)
            {
                AssertFrequency(weights[i], kept[i]);
            }
        }
    }

    private sealed class FilteredComparer : IEqualityComparer<Filtered>
    {
        public bool Equals(Filtered? x, Filtered? y) =>
            x is not null && y is not null && x.Kept.SequenceEqual(y.Kept) && x.Weights.SequenceEqual(y.Weights);

        public int GetHashCode(Filtered obj) => obj.Kept.Count;
    }
}
