using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace PfPpo.Cli;

/// <summary>
/// Range rules attached to options, so that a nonsense value is refused while parsing, before any work starts, with the
/// flag's own name and its allowed range: <c>--lr must be a finite number &gt; 0, got NaN</c>.
/// </summary>
public static class OptionRules
{
    /// <summary>An integer in [min, max].</summary>
    public static Option<int> InRange(this Option<int> option, int min, int max = int.MaxValue)
    {
        option.Validators.Add(result => Check(result, option.Name, result.GetValueOrDefault<int>(), min, max));
        return option;
    }

    /// <summary>An integer in [min, max] when given.</summary>
    public static Option<int?> InRange(this Option<int?> option, int min, int max = int.MaxValue)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is int value)
            {
                Check(result, option.Name, value, min, max);
            }
        });
        return option;
    }

    /// <summary>A finite number above <paramref name="min"/> (or at it, when <paramref name="minInclusive"/>) and at most <paramref name="max"/>.</summary>
    public static Option<double> InRange(this Option<double> option, double min, double max = double.MaxValue, bool minInclusive = true)
    {
        option.Validators.Add(result =>
        {
            double value = result.GetValueOrDefault<double>();
            if (!double.IsFinite(value) || value < min || (!minInclusive && value == min) || value > max)
            {
                string lower = minInclusive ? ">= " : "> ";
                string range = max == double.MaxValue
                    ? lower + F(min)
                    : $"in {(minInclusive ? "[" : "(")}{F(min)}, {F(max)}]";
                result.AddError($"{option.Name} must be a finite number {range}, got {F(value)}.");
            }
        });
        return option;
    }

    private static void Check(OptionResult result, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            result.AddError(max == int.MaxValue
                ? $"{name} must be at least {min}, got {value}."
                : $"{name} must be between {min} and {max}, got {value}.");
        }
    }

    private static string F(double value) => value.ToString(CultureInfo.InvariantCulture);
}
