using System.Globalization;

namespace PfPpo.Filtration;

/// <summary>
/// A policy-filtration strategy (docs/filtration.md). Group strategies (<see cref="GroupStrategy"/>) look at the N rewards
/// of one prompt at a time; <see cref="Pow"/> looks at the whole buffer. Every strategy is a pure function of the rewards
/// and the seeded RNG it is given. <see cref="ToString"/> is the canonical text that <see cref="Parse"/> reads back.
/// </summary>
public abstract record FiltrationStrategy
{
    /// <summary>Parses the shared strategy syntax (<c>none</c>, <c>bon</c>, <c>br</c>, <c>bw</c>, <c>ranks:0.5,0.25,0.25</c>,
    /// <c>top:q0.8</c>, <c>top-random:0.6</c>, <c>top-bottom:q0.8,q0.2</c>, <c>pow:2</c>); a FormatException names the bad part.</summary>
    public static FiltrationStrategy Parse(string text) => StrategySyntax.Parse(text);

    /// <summary>True while a threshold is still a quantile: call <see cref="Resolve"/> with calibration rewards first.</summary>
    public virtual bool NeedsCalibration => false;

    /// <summary>This strategy with quantile thresholds replaced by the quantiles of the calibration rewards (itself when it has none).</summary>
    public virtual FiltrationStrategy Resolve(IReadOnlyList<double> calibrationRewards) => this;

    /// <summary>Filters a whole buffer: one result per group, in order, the RNG consumed group by group.</summary>
    public abstract IReadOnlyList<Filtered> ApplyToBuffer(IReadOnlyList<RewardGroup> groups, Random rng);

    /// <summary>The canonical text of the strategy.</summary>
    public sealed override string ToString() => Format();

    protected abstract string Format();

    internal static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    internal static void RequireFinite(IReadOnlyList<double> rewards, string prompt)
    {
        if (rewards.Count == 0)
        {
            throw new ArgumentException($"{prompt}: the group has no responses; filtration needs at least one reward");
        }
        for (int i = 0; i < rewards.Count; i++)
        {
            if (!double.IsFinite(rewards[i]))
            {
                throw new NonFiniteRewardException(
                    $"{prompt}: the reward of sample {i} is {Number(rewards[i])}; filtration needs finite rewards");
            }
        }
    }
}

/// <summary>A strategy that filters each prompt group on its own.</summary>
public abstract record GroupStrategy : FiltrationStrategy
{
    /// <summary>Filters the N rewards of one prompt. <paramref name="prompt"/> names the group in errors (NaN or infinite
    /// rewards, an empty group, more rank weights than responses).</summary>
    public Filtered Apply(IReadOnlyList<double> rewards, Random rng, string prompt)
    {
        ArgumentNullException.ThrowIfNull(rewards);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentNullException.ThrowIfNull(prompt);
        if (NeedsCalibration)
        {
            throw new InvalidOperationException($"{this}: a quantile threshold needs calibration rewards first (Resolve)");
        }
        RequireFinite(rewards, prompt);
        return Select(rewards, rng, prompt);
    }

    public override IReadOnlyList<Filtered> ApplyToBuffer(IReadOnlyList<RewardGroup> groups, Random rng)
    {
        ArgumentNullException.ThrowIfNull(groups);
        return groups.Select(g => Apply(g.Rewards, rng, g.Prompt)).ToArray();
    }

    protected abstract Filtered Select(IReadOnlyList<double> rewards, Random rng, string prompt);
}

/// <summary><c>none</c> (PPO-M): every response is kept, weight 1. Uses no randomness.</summary>
public sealed record NoFilter : GroupStrategy
{
    protected override Filtered Select(IReadOnlyList<double> rewards, Random rng, string prompt) =>
        new(Enumerable.Range(0, rewards.Count).ToArray(), Enumerable.Repeat(1.0, rewards.Count).ToArray());

    protected override string Format() => "none";
}

/// <summary>
/// A strategy defined by inclusion probabilities over ranks (rank 0 the best; ties ordered at random, seeded). The ranks
/// whose probability is 1 are always kept; the others are drawn by systematic sampling in rank order, which keeps each
/// exactly with its probability and keeps floor or ceil of their sum (exactly the sum when it is an integer).
/// </summary>
public abstract record RankStrategy : GroupStrategy
{
    /// <summary>The inclusion probability of each rank for a group of n responses (the largest is 1).</summary>
    public abstract IReadOnlyList<double> RankInclusion(int n, string prompt);

    protected override Filtered Select(IReadOnlyList<double> rewards, Random rng, string prompt)
    {
        int[] order = Ranking.Order(rewards, rng);
        return RankSampling.Sample(order, RankInclusion(rewards.Count, prompt), rng);
    }

    protected static double[] ByRank(int n, Func<int, double> inclusion) => Enumerable.Range(0, n).Select(inclusion).ToArray();
}

/// <summary><c>bon</c>: the best response only.</summary>
public sealed record BestOfN : RankStrategy
{
    public override IReadOnlyList<double> RankInclusion(int n, string prompt) => ByRank(n, r => r == 0 ? 1.0 : 0.0);

    protected override string Format() => "bon";
}

/// <summary><c>br</c>: the best response and one other chosen uniformly at random (paper weights 1/2, 1/(2(N-1)), ...).
/// N = 1 keeps the single response; N = 2 keeps both.</summary>
public sealed record BestRandom : RankStrategy
{
    public override IReadOnlyList<double> RankInclusion(int n, string prompt) => ByRank(n, r => r == 0 ? 1.0 : 1.0 / (n - 1));

    protected override string Format() => "br";
}

/// <summary><c>bw</c>: the best and the worst response. N = 1 keeps the single response once; N = 2 keeps both.</summary>
public sealed record BestWorst : RankStrategy
{
    public override IReadOnlyList<double> RankInclusion(int n, string prompt) => ByRank(n, r => r == 0 || r == n - 1 ? 1.0 : 0.0);

    protected override string Format() => "bw";
}

/// <summary>
/// <c>ranks:w1,...,wL</c>: the paper's weight vector over ranks (non-negative, sum 1). Rank i is kept with probability
/// w_i / max(w), so <c>ranks:1</c> is bon and <c>ranks:0.5,0.25,0.25</c> on 3 responses keeps the best plus one of the other two.
/// Fewer weights than responses: the missing (lower) ranks weigh 0. More weights than responses is an error naming the prompt.
/// </summary>
public sealed record RankWeights : RankStrategy
{
    public RankWeights(IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        string? problem = StrategySyntax.CheckRankWeights(weights);
        if (problem is not null)
        {
            throw new ArgumentException($"ranks:{string.Join(",", weights.Select(Number))}: {problem}", nameof(weights));
        }
        Weights = weights.ToArray();
    }

    /// <summary>The weights over ranks as given (best rank first).</summary>
    public IReadOnlyList<double> Weights { get; }

    public override IReadOnlyList<double> RankInclusion(int n, string prompt)
    {
        if (Weights.Count > n)
        {
            throw new ArgumentException($"{prompt}: {this} has {Weights.Count} rank weights but the group has only {n} responses");
        }
        double max = Weights.Max();
        var pi = new double[n];
        for (int r = 0; r < Weights.Count; r++)
        {
            pi[r] = Weights[r] == max ? 1.0 : Weights[r] / max;
        }
        return pi;
    }

    public bool Equals(RankWeights? other) => other is not null && Weights.SequenceEqual(other.Weights);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (double w in Weights)
        {
            hash.Add(w);
        }
        return hash.ToHashCode();
    }

    protected override string Format() => "ranks:" + string.Join(",", Weights.Select(Number));
}

/// <summary>A group strategy with reward thresholds, absolute or quantiles of a calibration set.</summary>
public abstract record ThresholdStrategy : GroupStrategy
{
    protected abstract IEnumerable<Threshold> Thresholds { get; }

    public override bool NeedsCalibration => Thresholds.Any(t => t.IsQuantile);
}

/// <summary><c>top:T</c>: the responses whose reward is at or above T (none when no reward reaches it). Uses no randomness.</summary>
public sealed record Top(Threshold Upper) : ThresholdStrategy
{
    protected override IEnumerable<Threshold> Thresholds => [Upper];

    public override FiltrationStrategy Resolve(IReadOnlyList<double> calibrationRewards) => new Top(Upper.Resolve(calibrationRewards));

    protected override Filtered Select(IReadOnlyList<double> rewards, Random rng, string prompt) =>
        ThresholdSampling.Sample(rewards, r => r >= Upper.Value ? 1.0 : 0.0, rng);

    protected override string Format() => "top:" + Upper;
}

/// <summary><c>top-random:T</c>: the responses at or above T, plus each other response independently with probability 1/2.</summary>
public sealed record TopRandom(Threshold Upper) : ThresholdStrategy
{
    protected override IEnumerable<Threshold> Thresholds => [Upper];

    public override FiltrationStrategy Resolve(IReadOnlyList<double> calibrationRewards) => new TopRandom(Upper.Resolve(calibrationRewards));

    protected override Filtered Select(IReadOnlyList<double> rewards, Random rng, string prompt) =>
        ThresholdSampling.Sample(rewards, r => r >= Upper.Value ? 1.0 : 0.5, rng);

    protected override string Format() => "top-random:" + Upper;
}

/// <summary><c>top-bottom:U,L</c>: the responses at or above U and those at or below L (L &lt;= U). Uses no randomness.</summary>
public sealed record TopBottom : ThresholdStrategy
{
    public TopBottom(Threshold upper, Threshold lower)
    {
        ArgumentNullException.ThrowIfNull(upper);
        ArgumentNullException.ThrowIfNull(lower);
        if (upper.IsQuantile == lower.IsQuantile && lower.Value > upper.Value)
        {
            throw new ArgumentException($"top-bottom:{upper},{lower}: the lower threshold must not be above the upper one");
        }
        Upper = upper;
        Lower = lower;
    }

    public Threshold Upper { get; }

    public Threshold Lower { get; }

    protected override IEnumerable<Threshold> Thresholds => [Upper, Lower];

    public override FiltrationStrategy Resolve(IReadOnlyList<double> calibrationRewards) =>
        new TopBottom(Upper.Resolve(calibrationRewards), Lower.Resolve(calibrationRewards));

    protected override Filtered Select(IReadOnlyList<double> rewards, Random rng, string prompt) =>
        ThresholdSampling.Sample(rewards, r => r >= Upper.Value || r <= Lower.Value ? 1.0 : 0.0, rng);

    protected override string Format() => $"top-bottom:{Upper},{Lower}";
}

/// <summary>
/// <c>pow:k</c> (k &gt; 0), buffer-wide: every reward of the buffer is normalised to [-1, 1] by the buffer's minimum and
/// maximum (R' = 2 (R - min) / (max - min) - 1) and each response is kept independently with probability |R'|^k, so the
/// buffer's extremes are always kept and its middle rarely. A buffer whose rewards are all equal keeps everything.
/// </summary>
public sealed record Pow : FiltrationStrategy
{
    public Pow(double k)
    {
        if (!(double.IsFinite(k) && k > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "pow: k must be a positive finite number");
        }
        K = k;
    }

    public double K { get; }

    /// <summary>The inclusion probability |R'|^k of every response of the buffer (same shape as the groups).</summary>
    public IReadOnlyList<IReadOnlyList<double>> Inclusion(IReadOnlyList<RewardGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        foreach (RewardGroup g in groups)
        {
            RequireFinite(g.Rewards, g.Prompt);
        }
        if (groups.Count == 0)
        {
            return [];
        }
        double min = groups.Min(g => g.Rewards.Min());
        double max = groups.Max(g => g.Rewards.Max());
        return groups.Select(g => (IReadOnlyList<double>)g.Rewards.Select(r => Probability(r, min, max)).ToArray()).ToArray();
    }

    public override IReadOnlyList<Filtered> ApplyToBuffer(IReadOnlyList<RewardGroup> groups, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        IReadOnlyList<IReadOnlyList<double>> inclusion = Inclusion(groups);
        return inclusion.Select(pi => ThresholdSampling.Bernoulli(pi, rng)).ToArray();
    }

    private double Probability(double reward, double min, double max)
    {
        if (max == min)
        {
            return 1.0;
        }
        double normalised = Math.Clamp(2 * (reward - min) / (max - min) - 1, -1.0, 1.0);
        return Math.Pow(Math.Abs(normalised), K);
    }

    protected override string Format() => "pow:" + Number(K);
}
