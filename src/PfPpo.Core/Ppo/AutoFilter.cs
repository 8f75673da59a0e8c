using System.Globalization;
using PfPpo.Filtration;
using PfPpo.Rewards;
using PfPpo.Rollouts;

namespace PfPpo.Ppo;

/// <summary>What <see cref="AutoFilter.Choose"/> picked and why.</summary>
/// <param name="Chosen">The strategy, its quantile thresholds resolved on the samples' rewards.</param>
/// <param name="R2">Every candidate's R² on the samples, in candidate order.</param>
public sealed record AutoFilterChoice(FiltrationStrategy Chosen, IReadOnlyList<StrategyR2> R2, string Reason);

/// <summary>
/// <c>--filter auto</c>: the candidate whose kept responses give the highest binned R² of actual score against reward on a
/// calibration rollout of the starting policy (PF-PPO section 3, used as a selection rule), with the reason in words.
/// </summary>
public static class AutoFilter
{
    public const int Bins = 10;
    public const int Replicates = 200;

    /// <param name="samples">Scored samples with rewards (the training reward: what the filter will see).</param>
    public static AutoFilterChoice Choose(IReadOnlyList<ScoredSample> samples, IReadOnlyList<FiltrationStrategy> candidates, FiltrationMode mode, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(candidates.Count, 1, nameof(candidates));
        IReadOnlyList<StrategyR2> r2 = R2Analysis.Run(samples, candidates, Bins, mode, seed, Replicates);
        double[] rewards = samples.Where(ScoredSamples.HasVerdict).Select(s => s.Reward!.Value).ToArray();
        if (R2Analysis.Recommend(r2) is not { } pick)
        {
            return new AutoFilterChoice(new NoFilter(), r2, "no candidate had a defined binned R² (the actual scores or the rewards do not vary); no filter");
        }
        (StrategyR2 best, StrategyR2? runnerUp, bool overlaps) = pick;
        FiltrationStrategy strategy = candidates[IndexOf(r2, best)];
        string reason = $"highest binned R² ({best.Binned.Fit.R2.ToString("F3", CultureInfo.InvariantCulture)})" + (runnerUp is null ? ""
            : overlaps ? $"; its 95% interval overlaps {runnerUp.Strategy}'s, so the data do not separate them"
            : $"; its 95% interval lies above {runnerUp.Strategy}'s");
        return new AutoFilterChoice(strategy.NeedsCalibration ? strategy.Resolve(rewards) : strategy, r2, reason);
    }

    private static int IndexOf(IReadOnlyList<StrategyR2> results, StrategyR2 item)
    {
        for (int i = 0; i < results.Count; i++)
        {
            if (ReferenceEquals(results[i], item))
            {
                return i;
            }
        }
        throw new InvalidOperationException("the recommended strategy is not among the results");
    }
}
