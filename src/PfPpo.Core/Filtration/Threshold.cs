using System.Globalization;

namespace PfPpo.Filtration;

/// <summary>
/// A reward threshold: an absolute reward (<c>0.5</c>, <c>-1.2</c>) or a quantile of a calibration set of rewards
/// (<c>q0.8</c>, the 80th percentile), resolved to an absolute value by <see cref="Resolve"/>.
/// </summary>
public sealed record Threshold(double Value, bool IsQuantile)
{
    public static Threshold Absolute(double reward) => new(reward, false);

    public static Threshold Quantile(double q) => new(q, true);

    /// <summary>The absolute threshold: itself when absolute, else the quantile of the calibration rewards (<see cref="Quantiles.Of"/>).</summary>
    public Threshold Resolve(IReadOnlyList<double> calibration) => IsQuantile ? Absolute(Quantiles.Of(calibration, Value)) : this;

    /// <summary>The canonical text (<c>q0.8</c> or <c>0.5</c>), which <see cref="StrategySyntax"/> parses back to an equal threshold.</summary>
    public override string ToString() => (IsQuantile ? "q" : "") + Value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Quantiles of a list of rewards.</summary>
public static class Quantiles
{
    /// <summary>
    /// The q-quantile with linear interpolation between order statistics (numpy's default, Hyndman-Fan type 7):
    /// h = (n - 1) q, the value at h interpolated between its neighbours. q = 0 is the minimum, q = 1 the maximum.
    /// The values must be finite and not empty.
    /// </summary>
    public static double Of(IReadOnlyList<double> values, double q)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!(q >= 0 && q <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, "a quantile must be in [0, 1]");
        }
        if (values.Count == 0)
        {
            throw new ArgumentException("the calibration set of rewards is empty; quantile thresholds need at least one reward", nameof(values));
        }
        for (int i = 0; i < values.Count; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new NonFiniteRewardException($"calibration reward {i} is {values[i].ToString(CultureInfo.InvariantCulture)}; quantiles need finite rewards");
            }
        }
        double[] sorted = values.ToArray();
        Array.Sort(sorted);
        double h = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
