namespace PfPpo.Ppo;

/// <summary>
/// Advantages and returns, computed in one place for every trainer: GAE for PPO (per response, over its tokens),
/// group-normalised rewards for GRPO, and whitening over what is trained on. Pure functions of float arrays.
/// </summary>
public static class Advantages
{
    /// <summary>
    /// Generalised advantage estimation over one response of L tokens: δ_t = r_t + γ V_{t+1} - V_t (V_L = 0, the
    /// episode ends with the response), A_t = δ_t + γλ A_{t+1}; returns R_t = A_t + V_t (the value targets).
    /// </summary>
    /// <param name="rewards">[L] per-token rewards (the KL penalty at every token, the sequence reward added at the last).</param>
    /// <param name="values">[L] the critic's V_t: the value of the state before token t.</param>
    public static (float[] Advantages, float[] Returns) Gae(ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, double gamma, double lambda)
    {
        if (rewards.Length != values.Length)
        {
            throw new ArgumentException($"rewards has {rewards.Length} tokens but values has {values.Length}.", nameof(values));
        }
        int length = rewards.Length;
        var advantages = new float[length];
        var returns = new float[length];
        double next = 0, nextValue = 0;
        for (int t = length - 1; t >= 0; t--)
        {
            double delta = rewards[t] + gamma * nextValue - values[t];
            next = delta + gamma * lambda * next;
            advantages[t] = (float)next;
            returns[t] = (float)(next + values[t]);
            nextValue = values[t];
        }
        return (advantages, returns);
    }

    /// <summary>
    /// GRPO's advantage of each response of one prompt group: (r_i - mean) / (std + ε), std the population standard
    /// deviation of the group. A group whose rewards are all equal gets zeros (nothing to learn from it).
    /// </summary>
    public static double[] GroupNormalised(IReadOnlyList<double> rewards, double epsilon = 1e-6)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rewards.Count, 1, nameof(rewards));
        double mean = rewards.Average();
        double std = Math.Sqrt(rewards.Average(r => (r - mean) * (r - mean)));
        return rewards.Select(r => (r - mean) / (std + epsilon)).ToArray();
    }

    /// <summary>
    /// Whitens advantages in place over the trained tokens: subtracts the weighted mean and divides by the weighted
    /// standard deviation (+1e-8). <paramref name="weights"/> holds one weight per response (its loss weight: 1 in drop
    /// mode, the inclusion probability in weight mode); a response of weight 0 is left out of the statistics but
    /// shifted too. Returns the mean and std used.
    /// </summary>
    public static (double Mean, double Std) Whiten(IReadOnlyList<float[]> advantages, IReadOnlyList<double> weights)
    {
        if (advantages.Count != weights.Count)
        {
            throw new ArgumentException($"{advantages.Count} responses but {weights.Count} weights.", nameof(weights));
        }
        double total = 0, sum = 0;
        for (int i = 0; i < advantages.Count; i++)
        {
            foreach (float a in advantages[i])
            {
                total += weights[i];
                sum += weights[i] * a;
            }
        }
        if (total <= 0)
        {
            return (0, 1);
        }
        double mean = sum / total;
        double squares = 0;
        for (int i = 0; i < advantages.Count; i++)
        {
            foreach (float a in advantages[i])
            {
                squares += weights[i] * (a - mean) * (a - mean);
            }
        }
        double std = Math.Sqrt(squares / total);
        foreach (float[] row in advantages)
        {
            for (int t = 0; t < row.Length; t++)
            {
                row[t] = (float)((row[t] - mean) / (std + 1e-8));
            }
        }
        return (mean, std);
    }

    /// <summary>Explained variance 1 - Var(returns - values) / Var(returns) over all tokens (NaN when the returns do not vary).</summary>
    public static double ExplainedVariance(IReadOnlyList<float[]> values, IReadOnlyList<float[]> returns)
    {
        double[] v = values.SelectMany(x => x).Select(x => (double)x).ToArray();
        double[] r = returns.SelectMany(x => x).Select(x => (double)x).ToArray();
        if (r.Length < 2)
        {
            return double.NaN;
        }
        double variance = Variance(r);
        return variance == 0 ? double.NaN : 1 - Variance(r.Zip(v, (a, b) => a - b).ToArray()) / variance;
    }

    private static double Variance(double[] x)
    {
        double mean = x.Average();
        return x.Average(a => (a - mean) * (a - mean));
    }
}
