using static TorchSharp.torch;

namespace PfPpo.Bond;

/// <summary>
/// The pieces of the BOND objective (PF-PPO.md section 7; docs/bond.md), as pure functions. For a prompt with N responses
/// y_1..y_N sampled from the anchor and their RM scores r_i, the Best-of-N distribution of the anchor is about
/// π_anchor(y) · N · F(r(y))^(N-1), F the CDF of the RM score under the anchor for that prompt, estimated from the same N
/// samples (<see cref="EmpiricalCdf"/>).
/// </summary>
public static class BondObjective
{
    /// <summary>
    /// F̂(r_i) = #{j : r_j ≤ r_i} / N: the empirical CDF of a prompt's N reward scores at each of them (the sample itself
    /// counts, so F̂ ≥ 1/N and log F̂ is finite; tied scores share the higher value).
    /// </summary>
    public static double[] EmpiricalCdf(IReadOnlyList<double> rewards)
    {
        if (rewards.Count == 0)
        {
            throw new ArgumentException("A prompt needs at least one reward.", nameof(rewards));
        }
        return rewards.Select(r => (double)rewards.Count(other => other <= r) / rewards.Count).ToArray();
    }

    /// <summary>
    /// BOND's backward-KL reward of each response: (N - 1) · log F̂(r_i), N = the number of rewards (the prompt's samples).
    /// 0 for the prompt's best response, (N - 1) · log(1/N) for its worst; it depends on the ranks only, not the RM's scale.
    /// </summary>
    public static double[] QuantileRewards(IReadOnlyList<double> rewards)
    {
        int n = rewards.Count;
        return EmpiricalCdf(rewards).Select(f => (n - 1) * Math.Log(f)).ToArray();
    }

    /// <summary>
    /// The backward term's advantages [G, N], detached: R = q - <paramref name="klCoefficient"/> · ρ with q the quantile
    /// rewards and ρ = Σ log π - Σ log π_anchor per response (the log-ratio part of KL(π ‖ π_BoN)), minus each prompt's mean R
    /// (the baseline).
    /// </summary>
    public static Tensor Advantages(Tensor quantileRewards, Tensor rho, double klCoefficient)
    {
        using var scope = NewDisposeScope();
        Tensor reward = (quantileRewards - rho.detach() * klCoefficient).detach();
        return (reward - reward.mean([1], keepdim: true)).MoveToOuterDisposeScope();
    }

    /// <summary>The loss of a batch and its two terms (scalars).</summary>
    public sealed record Terms(Tensor Loss, Tensor Forward, Tensor Backward);

    /// <summary>
    /// J-BOND's loss for G prompts with N responses each: (1 - β) · forward + β · backward, where forward = the mean over
    /// prompts of -Σ log π(y_best) (the NLL of the RM's best of the N, the forward KL to the Best-of-N distribution up to a
    /// constant) and backward = the mean over all responses of -A_i · Σ log π(y_i) (REINFORCE for the backward KL, with
    /// <paramref name="advantages"/> from <see cref="Advantages"/>).
    /// </summary>
    /// <param name="logprobSums">Σ log π(y_i | x) per response, [G, N], differentiable.</param>
    /// <param name="best">The index (0..N-1) of each prompt's best response, [G] int64.</param>
    /// <param name="beta">β_BOND in [0, 1]: the weight of the backward term.</param>
    public static Terms Loss(Tensor logprobSums, Tensor advantages, Tensor best, double beta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(beta, 0, nameof(beta));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(beta, 1, nameof(beta));
        using var scope = NewDisposeScope();
        Tensor forward = -logprobSums.gather(1, best.unsqueeze(1)).mean();
        Tensor backward = -(advantages.detach() * logprobSums).mean();
        Tensor loss = forward * (1 - beta) + backward * beta;
        return new Terms(loss.MoveToOuterDisposeScope(), forward.MoveToOuterDisposeScope(), backward.MoveToOuterDisposeScope());
    }
}
