namespace PfPpo.Filtration;

/// <summary>Ranking of one group's rewards.</summary>
public static class Ranking
{
    /// <summary>
    /// The response indices from the highest reward to the lowest; equal rewards in a uniformly random order drawn from
    /// <paramref name="rng"/> (a seeded Fisher-Yates shuffle, then a sort by reward that keeps the shuffled order of ties).
    /// Always consumes N - 1 draws.
    /// </summary>
    public static int[] Order(IReadOnlyList<double> rewards, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rewards);
        ArgumentNullException.ThrowIfNull(rng);
        int n = rewards.Count;
        int[] shuffled = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (shuffled[i], shuffled[j]) = (shuffled[j], shuffled[i]);
        }
        // OrderByDescending is stable: ties keep their shuffled order.
        return shuffled.OrderByDescending(i => rewards[i]).ToArray();
    }
}

internal static class RankSampling
{
    /// <summary>Keeps the ranks with inclusion 1, then systematic sampling (one uniform start) over the fractional ones in rank order.</summary>
    public static Filtered Sample(int[] order, IReadOnlyList<double> rankInclusion, Random rng)
    {
        int n = order.Length;
        var weights = new double[n];
        var kept = new List<int>();
        var fractional = new List<int>();
        for (int r = 0; r < n; r++)
        {
            double pi = rankInclusion[r];
            weights[order[r]] = pi;
            if (pi >= 1.0)
            {
                kept.Add(order[r]);
            }
            else if (pi > 0)
            {
                fractional.Add(r);
            }
        }
        if (fractional.Count > 0)
        {
            double total = fractional.Sum(r => rankInclusion[r]);
            double rounded = Math.Round(total);
            if (Math.Abs(total - rounded) < 1e-9)
            {
                total = rounded;
            }
            double start = rng.NextDouble();
            int at = 0;
            double cumulative = rankInclusion[fractional[0]];
            for (double point = start; point < total; point += 1.0)
            {
                while (at < fractional.Count - 1 && cumulative <= point)
                {
                    at++;
                    cumulative += rankInclusion[fractional[at]];
                }
                int response = order[fractional[at]];
                if (!kept.Contains(response))
                {
                    kept.Add(response);
                }
            }
        }
        kept.Sort();
        return new Filtered(kept, weights);
    }
}

internal static class ThresholdSampling
{
    public static Filtered Sample(IReadOnlyList<double> rewards, Func<double, double> inclusion, Random rng) =>
        Bernoulli(rewards.Select(inclusion).ToArray(), rng);

    /// <summary>Keeps response i independently with probability pi[i]; one draw per response strictly between 0 and 1, in order.</summary>
    public static Filtered Bernoulli(IReadOnlyList<double> pi, Random rng)
    {
        var kept = new List<int>();
        for (int i = 0; i < pi.Count; i++)
        {
            if (pi[i] >= 1.0 || (pi[i] > 0 && rng.NextDouble() < pi[i]))
            {
                kept.Add(i);
            }
        }
        return new Filtered(kept, pi.ToArray());
    }
}
