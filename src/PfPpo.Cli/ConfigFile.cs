using System.CommandLine;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PfPpo.Cli;

/// <summary>
/// <c>--config FILE</c>: a YAML or JSON mapping whose keys are the command's flags without the dashes
/// (<c>prompts-per-iteration: 8</c>; underscores are read as dashes) and whose values are the flags' values (a list is
/// joined with commas). The file's settings become command-line tokens placed before the user's own, and a flag given on
/// the command line wins over the file. An unknown key, a nested mapping or an unreadable file is an error naming the
/// file, the line and the key.
/// </summary>
public static class ConfigFile
{
    public const string Flag = "--config";

    /// <summary>The option every command that reads a config file declares.</summary>
    public static Option<string?> CreateOption() => new(Flag)
    {
        Description = "YAML or JSON file of flag values (keys are flag names without --); flags on the command line win.",
    };

    /// <summary>
    /// <paramref name="args"/> with the config file's settings inserted after the subcommand's name. Unchanged when there
    /// is no <c>--config</c> or the subcommand does not take one (the parser then reports it).
    /// </summary>
    public static string[] Expand(string[] args, RootCommand root)
    {
        int at = Array.FindIndex(args, a => a == Flag || a.StartsWith(Flag + "=", StringComparison.Ordinal));
        if (at < 1)
        {
            return args;
        }
        Command? command = root.Subcommands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null || !command.Options.Any(o => o.Name == Flag))
        {
            return args;
        }
        string? path = args[at].Length > Flag.Length ? args[at][(Flag.Length + 1)..] : at + 1 < args.Length ? args[at + 1] : null;
        if (string.IsNullOrEmpty(path))
        {
            return args; // the parser reports the missing value
        }
        var given = new HashSet<string>(args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).Select(a => a.Split('=')[0]), StringComparer.Ordinal);
        var tokens = new List<string>();
        foreach ((string key, string value, int line) in Read(path))
        {
            string flag = "--" + key.Replace('_', '-');
            Option? option = command.Options.FirstOrDefault(o => o.Name == flag || o.Aliases.Contains(flag));
            if (option is null || flag == Flag)
            {
                throw new UsageException($"{path}, line {line}: unknown key \"{key}\"; `pfppo {command.Name}` has no {flag} flag (see pfppo {command.Name} --help).");
            }
            if (!given.Contains(option.Name) && !option.Aliases.Any(given.Contains))
            {
                tokens.Add(option.Name);
                tokens.Add(value);
            }
        }
        return [args[0], .. tokens, .. args[1..]];
    }

    /// <summary>The file's (key, value, line) settings.</summary>
    public static IReadOnlyList<(string Key, string Value, int Line)> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new UsageException($"{Flag}: {path}: no such file.");
        }
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new UsageException($"{path}, line {e.Start.Line}: not valid YAML or JSON ({e.Message}).", e);
        }
        if (stream.Documents.Count == 0)
        {
            return [];
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode mapping)
        {
            throw new UsageException($"{path}, line {stream.Documents[0].RootNode.Start.Line}: expected a mapping of flag names to values.");
        }
        var settings = new List<(string, string, int)>();
        foreach ((YamlNode keyNode, YamlNode valueNode) in mapping.Children)
        {
            int line = (int)keyNode.Start.Line;
            string key = keyNode is YamlScalarNode k && !string.IsNullOrWhiteSpace(k.Value)
                ? k.Value!.Trim()
                : throw new UsageException($"{path}, line {line}: a key must be a flag name.");
            string value = valueNode switch
            {
                YamlScalarNode scalar => scalar.Value ?? "",
                YamlSequenceNode sequence when sequence.Children.All(c => c is YamlScalarNode) =>
                    string.Join(",", sequence.Children.Cast<YamlScalarNode>().Select(c => c.Value)),
                _ => throw new UsageException($"{path}, line {line}: \"{key}\" must be a value or a list of values, not a nested mapping."),
            };
            settings.Add((key, value, line));
        }
        return settings;
    }

    /// <summary>Formats a number for a config value.</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
