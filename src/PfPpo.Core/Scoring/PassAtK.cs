
namespace PfPpo.Scoring;

/// <summary>The unbiased pass@k estimator of Chen et al. (2021): 1 - C(n-c, k) / C(n, k).</summary>
public static class PassAtK
{
    /// <summary>Probability that at least one of k samples drawn without replacement from n, of which c are correct,
    /// passes. Computed as a numerically stable product. Requires 0 &lt;= c &lt;= n and 1 &lt;= k &lt;= n.</summary>
    public static double Estimate(int n, int c, int k)
    {
        if (n < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "n must be at least 1.");
        }

        if (c < 0 || c > n)
        {
            throw new ArgumentOutOfRangeException(nameof(c), c, $"c must be in [0, {n}].");
        }

        if (k < 1 || k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, {n}].");
        }

        if (n - c < k)
        {
            return 1.0;
        }
        // C(n-c, k) / C(n, k) = prod_{i=n-c+1}^{n} (1 - k / i)
        double failAll = 1.0;
        for (int i = n - c + 1; i <= n; i++)
        {
            failAll *= 1.0 - (double)k / i;
        }
        return 1.0 - failAll;
    }
}
