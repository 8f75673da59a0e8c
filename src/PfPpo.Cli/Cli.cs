using System.CommandLine;
using PfPpo.Cli.Commands;

namespace PfPpo.Cli;

/// <summary>The <c>pfppo</c> command tree. Each subcommand lives in Commands/ and is registered here.</summary>
public static class Cli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("PfPpo: RLHF with Policy Filtration for PPO (PF-PPO) for code-generating language models.");
        foreach (Command command in new[]
        {
            DemoCommand.Create(),
            TasksCommand.Create(),
            TrainTokenizerCommand.Create(),
            TokenizeCommand.Create(),
            InitModelCommand.Create(),
            GenerateCommand.Create(),
            SftCommand.Create(),
            RmDataCommand.Create(),
            RmTrainCommand.Create(),
            RewardCommand.Create(),
            R2Command.Create(),
            PpoCommand.Create(),
            DpoCommand.Create(),
            RaftCommand.Create(),
            BondCommand.Create(),
            CompareCommand.Create(),
            ScoreCommand.Create(),
            EvalCommand.Create(),
            ReportCommand.Create(),
            InfoCommand.Create(),
        })
        {
            root.Subcommands.Add(command);
        }
        return root;
    }
}
