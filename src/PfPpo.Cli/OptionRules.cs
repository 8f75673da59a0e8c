using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using PfPpo.Sandbox;

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
        option.Validators.Add(result => CheckDouble(result, option.Name, result.GetValueOrDefault<double>(), min, max, minInclusive));
        return option;
    }

    /// <summary>A finite number in the range when given (see the non-nullable overload).</summary>
    public static Option<double?> InRange(this Option<double?> option, double min, double max = double.MaxValue, bool minInclusive = true)
    {
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is double value)
            {
                CheckDouble(result, option.Name, value, min, max, minInclusive);
            }
        });
        return option;
    }

    /// <summary>
    /// A count of sandbox workers: 0 (one per core) up to what this machine can hold, so that a typo such as
    /// <c>--workers 100000</c> is refused before thousands of sandboxes start.
    /// </summary>
    public static Option<int> WorkerCount(this Option<int> option)
    {
        option.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            int max = SandboxPool.MaxWorkers;
            if (value < 0 || value > max)
            {
                result.AddError($"{option.Name} must be between 0 (one per core) and {max}, got {value}: this machine can hold at most {max} " +
                    $"sandbox workers ({SandboxPool.WorkersPerCore} per core, about {SandboxPool.WorkerMemoryBytes >> 20} MiB each).");
            }
        });
        return option;
    }

    /// <summary>A pass@k list such as <c>1,10</c> (see <see cref="ScoreReport.ParseKs"/>).</summary>
    public static Option<T> AcceptKList<T>(this Option<T> option)
    {
        option.Validators.Add(result =>
        {
            if (PathOf(result) is string text)
            {
                try
                {
                    ScoreReport.ParseKs(text);
                }
                catch (UsageException e)
                {
                    result.AddError(e.Message);
                }
            }
        });
        return option;
    }

    /// <summary>A path to a file that exists (not a directory), checked before any work starts.</summary>
    public static Option<T> AcceptExistingFile<T>(this Option<T> option)
    {
        option.Validators.Add(result =>
        {
            foreach (Token token in result.Tokens)
            {
                if (InputFileError(token.Value) is string error)
                {
                    result.AddError($"{option.Name}: {error}");
                }
            }
        });
        return option;
    }

    /// <summary>A folder that exists (a checkpoint, a run), checked before any work starts.</summary>
    public static Option<T> AcceptExistingFolder<T>(this Option<T> option)
    {
        option.Validators.Add(result =>
        {
            if (PathOf(result) is string path && !Directory.Exists(path))
            {
                result.AddError($"{option.Name}: {path}: no such directory.");
            }
        });
        return option;
    }

    /// <summary>
    /// A path where a file can be written: not a directory, and inside a folder that exists or can be created and is
    /// writable. Checked before any work, and without creating anything, so a refused run leaves no folder behind.
    /// </summary>
    public static Option<T> AcceptWritableFile<T>(this Option<T> option)
    {
        option.Validators.Add(result =>
        {
            if (PathOf(result) is string path && OutputPaths.FileError(path) is string error)
            {
                result.AddError($"{option.Name}: {error}");
            }
        });
        return option;
    }

    /// <summary>A folder that exists and is writable, or can be created; not a file.</summary>
    public static Option<T> AcceptWritableFolder<T>(this Option<T> option)
    {
        option.Validators.Add(result =>
        {
            if (PathOf(result) is string path && OutputPaths.FolderError(path) is string error)
            {
                result.AddError($"{option.Name}: {error}");
            }
        });
        return option;
    }

    /// <summary>Why <paramref name="path"/> cannot be read as an input file, or null when it can.</summary>
    public static string? InputFileError(string path) =>
        Directory.Exists(path) ? $"'{path}' is a directory, not a file."
            : File.Exists(path) ? null
            : $"no such file '{path}'.";

    private static string? PathOf(OptionResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;

    private static void CheckDouble(OptionResult result, string name, double value, double min, double max, bool minInclusive)
    {
        if (!double.IsFinite(value) || value < min || (!minInclusive && value == min) || value > max)
        {
            string lower = minInclusive ? ">= " : "> ";
            string range = max == double.MaxValue
                ? lower + F(min)
                : $"in {(minInclusive ? "[" : "(")}{F(min)}, {F(max)}]";
            result.AddError($"{name} must be a finite number {range}, got {F(value)}.");
        }
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
