using System.Globalization;

namespace PfPpo.Filtration;

/// <summary>
/// The one strategy syntax every command shares: <c>none</c>, <c>bon</c>, <c>br</c>, <c>bw</c>, <c>ranks:W,W,...</c>,
/// <c>top:T</c>, <c>top-random:T</c>, <c>top-bottom:U,L</c>, <c>pow:K</c>, where a threshold T is an absolute reward
/// (<c>0.5</c>, <c>-1</c>) or a quantile of the calibration rewards (<c>q0.8</c>). Names are case-insensitive and
/// surrounding spaces are ignored; the canonical form (<see cref="FiltrationStrategy.ToString"/>) is lower case without spaces.
/// </summary>
public static class StrategySyntax
{
    public const string Expected =
        "none, bon, br, bw, ranks:W,W,... (weights over ranks, sum 1), top:T, top-random:T, top-bottom:U,L, pow:K " +
        "(a threshold T is a reward such as 0.5 or a quantile such as q0.8)";

    private static readonly string[] Names = ["none", "bon", "br", "bw", "ranks", "top", "top-random", "top-bottom", "pow"];

    /// <summary>Tolerance on the sum of rank weights.</summary>
    public const double SumTolerance = 1e-6;

    public static FiltrationStrategy Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string spec = text.Trim();
        if (spec.Length == 0)
        {
            throw new FormatException($"empty strategy; expected one of {Expected}");
        }
        int colon = spec.IndexOf(':');
        string name = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        string? argument = colon < 0 ? null : spec[(colon + 1)..];
        string[] parts = argument is null ? [] : argument.Split(',').Select(p => p.Trim()).ToArray();
        switch (name)
        {
            case "none":
            case "bon":
            case "br":
            case "bw":
                if (argument is not null)
                {
                    throw new FormatException($"{spec}: {name} takes no argument");
                }
                return name switch
                {
                    "none" => new NoFilter(),
                    "bon" => new BestOfN(),
                    "br" => new BestRandom(),
                    _ => new BestWorst(),
                };
            case "ranks":
                return ParseRanks(spec, parts);
            case "top":
            case "top-random":
                if (parts.Length != 1)
                {
                    throw new FormatException($"{spec}: {name} needs one threshold, e.g. {name}:q0.8 or {name}:0.5");
                }
                Threshold upper = ParseThreshold(spec, parts[0]);
                return name == "top" ? new Top(upper) : new TopRandom(upper);
            case "top-bottom":
                if (parts.Length != 2)
                {
                    throw new FormatException($"{spec}: top-bottom needs two thresholds, upper then lower, e.g. top-bottom:q0.8,q0.2");
                }
                Threshold high = ParseThreshold(spec, parts[0]);
                Threshold low = ParseThreshold(spec, parts[1]);
                if (high.IsQuantile == low.IsQuantile && low.Value > high.Value)
                {
                    throw new FormatException($"{spec}: the lower threshold ({low}) must not be above the upper one ({high}); write upper first");
                }
                return new TopBottom(high, low);
            case "pow":
                if (parts.Length != 1)
                {
                    throw new FormatException($"{spec}: pow needs one exponent, e.g. pow:2");
                }
                double k = ParseNumber(spec, parts[0], "the exponent k");
                if (k <= 0)
                {
                    throw new FormatException($"{spec}: the exponent k must be positive");
                }
                return new Pow(k);
            default:
                throw new FormatException($"{spec}: unknown strategy '{name}'; expected one of {Expected}");
        }
    }

    /// <summary>
    /// Parses a comma-separated list of strategies (<c>none,br,ranks:0.5,0.25,0.25,top-bottom:q0.8,q0.2</c>): a part that
    /// does not start with a strategy name continues the arguments of the strategy before it. Duplicates are an error.
    /// </summary>
    public static IReadOnlyList<FiltrationStrategy> ParseList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var specs = new List<string>();
        foreach (string raw in text.Split(','))
        {
            string part = raw.Trim();
            string head = (part.Contains(':') ? part[..part.IndexOf(':')] : part).ToLowerInvariant();
            if (Names.Contains(head) || specs.Count == 0 || (part.Length > 0 && char.IsLetter(part[0]) && !IsQuantileText(part)))
            {
                specs.Add(part);
            }
            else
            {
                specs[^1] += "," + part;
            }
        }
        var result = new List<FiltrationStrategy>();
        foreach (string spec in specs)
        {
            FiltrationStrategy strategy = Parse(spec);
            if (result.Contains(strategy))
            {
                throw new FormatException($"{text}: strategy {strategy} is listed twice");
            }
            result.Add(strategy);
        }
        return result;
    }

    /// <summary>Null when the weights are a valid weight vector over ranks, else what is wrong (without the strategy text).</summary>
    internal static string? CheckRankWeights(IReadOnlyList<double> weights)
    {
        if (weights.Count == 0)
        {
            return "needs at least one weight";
        }
        for (int i = 0; i < weights.Count; i++)
        {
            if (!double.IsFinite(weights[i]) || weights[i] < 0)
            {
                return $"rank weights must be non-negative finite numbers (rank {i + 1} is {FiltrationStrategy.Number(weights[i])})";
            }
        }
        double sum = weights.Sum();
        if (Math.Abs(sum - 1) > SumTolerance)
        {
            return $"rank weights must sum to 1 (they sum to {FiltrationStrategy.Number(sum)})";
        }
        return null;
    }

    private static bool IsQuantileText(string part) => part.Length > 1 && (part[0] == 'q' || part[0] == 'Q') && !char.IsLetter(part[1]);

    private static RankWeights ParseRanks(string spec, string[] parts)
    {
        if (parts.Length == 0 || parts.All(p => p.Length == 0))
        {
            throw new FormatException($"{spec}: ranks needs weights over ranks, best first, e.g. ranks:0.5,0.25,0.25");
        }
        double[] weights = parts.Select((p, i) => ParseNumber(spec, p, $"rank weight {i + 1}")).ToArray();
        string? problem = CheckRankWeights(weights);
        if (problem is not null)
        {
            throw new FormatException($"{spec}: {problem}");
        }
        return new RankWeights(weights);
    }

    private static Threshold ParseThreshold(string spec, string part)
    {
        if (part.StartsWith('q') || part.StartsWith('Q'))
        {
            double q = ParseNumber(spec, part[1..], $"the quantile {part}");
            if (q < 0 || q > 1)
            {
                throw new FormatException($"{spec}: a quantile must be in [0, 1] ({part})");
            }
            return Threshold.Quantile(q);
        }
        return Threshold.Absolute(ParseNumber(spec, part, "the threshold"));
    }

    private static double ParseNumber(string spec, string part, string what)
    {
        if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            throw new FormatException($"{spec}: {what} must be a finite number, not '{part}'");
        }
        return value;
    }
}
