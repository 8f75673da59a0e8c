using System.CommandLine;
using System.Globalization;
using PfPpo.Rewards;
using PfPpo.Rollouts;
using Spectre.Console;

namespace PfPpo.Cli.Commands;

/// <summary><c>pfppo reward</c>: score a scored-samples file with a reward model, writing the raw rewards into a copy of it.</summary>
public static class RewardCommand
{
    public static Command Create()
    {
        var shared = ModelOptions.Create(model: "The reward model (a *ForSequenceClassification checkpoint with tokenizer.json).", modelFlag: "--rm");
        var problems = new Option<string>("--problems") { Description = "The problems the samples answer (their prompts are what the reward model reads first).", Required = true }.AcceptExistingFile();
        var samples = new Option<string>("--samples") { Description = "Scored-samples jsonl (as rm-data writes it).", Required = true }.AcceptExistingFile();
        var output = new Option<string>("--out") { Description = "The samples with their \"reward\" field set.", Required = true }.AcceptWritableFile();
        var batchSize = new Option<int>("--batch-size") { Description = "Sequences scored together.", DefaultValueFactory = _ => 32 }.InRange(1, 65_536);
        var command = new Command("reward", "Score samples with a reward model: the raw (unnormalised) reward of each, written into the scored-samples format.");
        shared.AddTo(command);
        foreach (Option option in new Option[] { problems, samples, output, batchSize })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => UserErrors.Run(() =>
        {
            ResolvedModelOptions common = shared.Resolve(parse);
            IReadOnlyList<ScoredSample> scored = SampleRewards.Score(common.Model!, parse.GetValue(problems)!, parse.GetValue(samples)!,
                common.Device, common.DType, parse.GetValue(batchSize));
            string path = parse.GetValue(output)!;
            ScoredSamples.Write(path, scored);
            double[] rewards = scored.Select(s => s.Reward!.Value).ToArray();
            double mean = rewards.Average();
            double std = Math.Sqrt(rewards.Average(r => (r - mean) * (r - mean)));
            var table = new Table().AddColumns("samples", "reward mean", "reward std", "mean reward of passing", "mean reward of failing");
            string Mean(bool passed) => scored.Any(s => s.Passed == passed)
                ? scored.Where(s => s.Passed == passed).Average(s => s.Reward!.Value).ToString("F3", CultureInfo.InvariantCulture) : "-";
            table.AddRow(scored.Count.ToString(CultureInfo.InvariantCulture), mean.ToString("F3", CultureInfo.InvariantCulture),
                std.ToString("F3", CultureInfo.InvariantCulture), Mean(true), Mean(false));
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"rewarded samples: {path}");
            return 0;
        }));
        return command;
    }
}
