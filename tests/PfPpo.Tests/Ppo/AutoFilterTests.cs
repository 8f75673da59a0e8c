using PfPpo.Filtration;
using PfPpo.Ppo;
using PfPpo.Rollouts;

namespace PfPpo.Tests.Ppo;

public class AutoFilterTests
{
    /// <summary>
    /// 60 groups of 5: the reward tracks the actual score at the extremes and is noise in the middle, the shape the paper
    /// reports, so best-and-worst keeps the trustworthy rewards.
    /// </summary>
    private static IReadOnlyList<ScoredSample> ReliableAtTheExtremes()
    {
        var rng = new Random(4);
        var samples = new List<ScoredSample>();
        for (int g = 0; g < 60; g++)
        {
            for (int s = 0; s < 5; s++)
            {
                double score = rng.NextDouble();
                double reward = score > 0.8 || score < 0.2 ? 4 * score - 2 : rng.NextDouble() * 4 - 2;
                samples.Add(new ScoredSample($"t/{g}", g, s, "", [1], score, score == 1, "failed", reward, 0));
            }
        }
        return samples;
    }

    [Fact]
    public void ChoosesTheCandidateWithTheHighestBinnedR2()
    {
        FiltrationStrategy[] candidates = [new NoFilter(), new BestOfN(), new BestRandom(), new BestWorst()];
        AutoFilterChoice choice = AutoFilter.Choose(ReliableAtTheExtremes(), candidates, FiltrationMode.Drop, seed: 1);
        double best = choice.R2.Max(r => r.Binned.Fit.R2);
        Assert.Equal(best, choice.R2.Single(r => r.Strategy == choice.Chosen.ToString()).Binned.Fit.R2);
        Assert.NotEqual("none", choice.Chosen.ToString());
        Assert.StartsWith("highest binned R²", choice.Reason);
    }

    [Fact]
    public void AQuantileThresholdIsResolvedOnTheSamplesRewards()
    {
        IReadOnlyList<ScoredSample> samples = ReliableAtTheExtremes();
        AutoFilterChoice choice = AutoFilter.Choose(samples, [StrategySyntax.Parse("top:q0.5")], FiltrationMode.Drop, seed: 1);
        Assert.False(choice.Chosen.NeedsCalibration);
        Assert.Equal(StrategySyntax.Parse("top:q0.5").Resolve(samples.Select(s => s.Reward!.Value).ToArray()), choice.Chosen);
    }
}
